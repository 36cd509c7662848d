// The per-command option tables (runtime/cli/options.ts): each command takes its own options and
// names the command for another's, suggests the option meant for a typo, reads negative numbers as
// values, and prints usage made from the same tables. In-process and before any model is read
// (the model files below do not exist): no GPU.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parseCommandLine } from '../../runtime/cli/command-line.ts';
import { type CommandName, commands, type Flags } from '../../runtime/cli/options.ts';
import { commandUsage, usage } from '../../runtime/cli/usage.ts';
import { cnncInProcess, root } from '../helpers/cli.ts';

const names = Object.keys(commands) as CommandName[];
const optionsOf = (c: CommandName): string[] => Object.keys(commands[c].options);

/** Runs the CLI in-process; the case must end in exit 1 with one line on stderr and nothing on stdout. */
async function refused(...args: string[]): Promise<string> {
  const r = await cnncInProcess(...args);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(1);
  expect(r.stderr.split('\n')).toHaveLength(2);
  return r.stderr.trimEnd();
}

/** The flags a command line parses to (it must be a run, not help). */
function flags(...argv: string[]): Record<string, unknown> {
  const r = parseCommandLine(argv);
  if (r.kind !== 'run') throw new Error(`${argv.join(' ')} asked for help`);
  return r.flags;
}

describe("another command's option", () => {
  it('cnnc check --epochs 5 --plot x.svg names check and the command that takes it', async () => {
    expect(await refused('check', 'absent.cnn', '--epochs', '5', '--plot', 'x.svg')).toBe(
      'cnnc check: --epochs is not an option of check (it is an option of train)',
    );
  });

  // For every command, an option of another command it does not take: refused, naming both.
  it.each(names)('%s refuses the options it does not take', async (command) => {
    const own = new Set(optionsOf(command));
    const foreign = [...new Set(names.flatMap(optionsOf))].filter((o) => !own.has(o));
    expect(foreign.length).toBeGreaterThan(0);
    for (const option of foreign) {
      const owners = names.filter((c) => optionsOf(c).includes(option));
      const message = await refused(command, 'absent.cnn', `--${option}=1`);
      expect(message).toMatch(
        new RegExp(`^cnnc ${command}: --${option} is not an option of ${command} \\(it is an option of `),
      );
      for (const owner of owners) expect(message).toContain(owner);
    }
  });

  it('lists every command that takes it', async () => {
    expect(await refused('check', 'absent.cnn', '--weights', 'w')).toBe(
      'cnnc check: --weights is not an option of check (it is an option of eval, predict, run and export)',
    );
    expect(await refused('check', 'absent.cnn', '--json')).toBe(
      'cnnc check: --json is not an option of check (it is an option of summary, eval, predict, profile, tune, run and weights)',
    );
  });
});

describe('unknown options', () => {
  it.each([
    [['train', 'absent.cnn', '--epoch', '3'], 'cnnc train: unknown option --epoch (did you mean --epochs?)'],
    [['train', 'absent.cnn', '--lrr', '0.1'], 'cnnc train: unknown option --lrr (did you mean --lr?)'],
    [['eval', 'absent.cnn', '--weight', 'w'], 'cnnc eval: unknown option --weight (did you mean --weights?)'],
    [
      ['summary', 'absent.cnn', '--bogus'],
      'cnnc summary: unknown option --bogus (cnnc summary --help lists its options)',
    ],
    [['summary', 'absent.cnn', '-x'], 'cnnc summary: unknown option -x (cnnc summary --help lists its options)'],
    [
      ['chekc', 'absent.cnn'],
      "cnnc: unknown command 'chekc' (did you mean 'check'?; commands: check, summary, compile, kernels, train, eval, predict, profile, tune, run, weights, export)",
    ],
  ])('%j', async (args, message) => {
    expect(await refused(...args)).toBe(message);
  });
});

describe('values', () => {
  it('reads a negative number as the value, then checks its range', async () => {
    expect(await refused('train', 'absent.cnn', '--steps', '-1')).toBe(
      "cnnc: --steps expects an integer >= 1, got '-1'",
    );
    expect(await refused('train', 'absent.cnn', '--seed', '-1')).toBe("cnnc: --seed expects an integer >= 0, got '-1'");
    expect(await refused('train', 'absent.cnn', '--lr', '-.5')).toMatch(
      /^cnnc: --lr expects a number > 0 .*, got '-.5'$/,
    );
  });

  it('takes --x=1 and --x 1 alike, numbers as numbers, lists as lists', () => {
    const spaced = flags(
      'train',
      'm.cnn',
      '--epochs',
      '3',
      '--lr',
      '0.5',
      '--resize',
      '6,8',
      '--save',
      'w.safetensors',
      '--no-shuffle',
    );
    const joined = flags(
      'train',
      'm.cnn',
      '--epochs=3',
      '--lr=0.5',
      '--resize=6,8',
      '--save=w.safetensors',
      '--no-shuffle',
    );
    expect(spaced).toEqual({ epochs: 3, lr: 0.5, resize: [6, 8], save: 'w.safetensors', 'no-shuffle': true });
    expect(joined).toEqual(spaced);
    // `=` keeps a value that looks like an option, and an empty one (refused by its range check).
    expect(flags('kernels', 'm.cnn', '--filter=--k0')).toEqual({ filter: '--k0' });
    expect(flags('train', 'm.cnn', '--seed=0', '--seed', '7')).toEqual({ seed: 7 });
    // A repeatable option collects its values in order (`=` inside the value is kept).
    expect(flags('profile', 'm.cnn', '--set', 'a=1', '--set=arch=((1, 2),)')).toEqual({
      set: ['a=1', 'arch=((1, 2),)'],
    });
    expect(flags('run', 'm.cnn', '--layer', '0', '--layer', 'edges')).toEqual({ layer: ['0', 'edges'] });
    // --input takes a 3-D model's [N, C, D, H, W] too.
    expect(flags('summary', 'm.cnn', '--input', '2,1,3,3,3')).toEqual({ input: [2, 1, 3, 3, 3] });
  });

  it('takes options before the command and the file', () => {
    expect(flags('--json', 'summary', '--input', '2,1,28,28', 'm.cnn')).toEqual({ json: true, input: [2, 1, 28, 28] });
    expect(parseCommandLine(['--model', 'M', 'check', 'm.cnn'])).toEqual({
      kind: 'run',
      command: 'check',
      file: 'm.cnn',
      flags: { model: 'M' },
    });
    expect(parseCommandLine(['check', '--', '-odd.cnn'])).toEqual({
      kind: 'run',
      command: 'check',
      file: '-odd.cnn',
      flags: {},
    });
  });

  it.each([
    [['train', 'absent.cnn', '--epochs'], 'cnnc train: --epochs needs a value: --epochs N'],
    [['train', 'absent.cnn', '--save', '--epochs', '2'], 'cnnc train: --save needs a value: --save FILE.safetensors'],
    [['summary', 'absent.cnn', '--json=yes'], "cnnc summary: --json takes no value, got '--json=yes'"],
    [
      ['summary', 'absent.cnn', '--input', '1,2,3'],
      "cnnc: --input expects N,C,H,W or N,C,D,H,W or N,F with positive integers, got '1,2,3'",
    ],
    [
      ['eval', 'absent.cnn', '--resize', '6,0', '--weights', 'w'],
      "cnnc: --resize expects H or H,W with positive integers, got '6,0'",
    ],
    [['eval', 'absent.cnn'], "cnnc: 'eval' needs --weights W"],
    [['check'], "cnnc: 'check' needs a .cnn FILE"],
    [['check', 'a.cnn', 'b.cnn'], "cnnc: unexpected argument 'b.cnn'"],
  ])('%j is refused clearly', async (args, message) => {
    expect(await refused(...args)).toBe(message);
  });
});

describe('usage', () => {
  const listed = (text: string): string[] => [...text.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]!);

  it("cnnc train --help lists exactly train's options, and exits 0", async () => {
    const r = await cnncInProcess('train', 'absent.cnn', '--epochs', 'x', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: cnnc train FILE/);
    expect(listed(r.stdout).sort()).toEqual(optionsOf('train').sort());
    expect((await cnncInProcess('help', 'train')).stdout).toBe(r.stdout);
  });

  it.each(names)('cnnc %s --help lists exactly its options', (command) => {
    expect(listed(commandUsage(command)).sort()).toEqual(optionsOf(command).sort());
  });

  it('every option of the tables appears in some usage; cnnc --help names every command', async () => {
    const all = new Set(names.flatMap((c) => listed(commandUsage(c))));
    for (const c of names) for (const o of optionsOf(c)) expect(all).toContain(o);
    const r = await cnncInProcess('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(usage());
    for (const c of names) expect(r.stdout).toMatch(new RegExp(`^ {2}${c} ${commands[c].synopsis.split(' ')[0]}`, 'm'));
    // No command: the usage, as an error.
    expect((await cnncInProcess()).code).toBe(1);
  });

  it('an option has one kind in every command that takes it (the parser finds the command by it)', () => {
    const kinds = new Map<string, string>();
    for (const c of names) {
      for (const [name, o] of Object.entries(commands[c].options)) {
        expect(kinds.get(name) ?? o.kind, `--${name}`).toBe(o.kind);
        kinds.set(name, o.kind);
      }
    }
  });
});

describe('the flags a command module reads', () => {
  it('are typed from its table (tsc refuses a read of an option the table lacks)', () => {
    expectTypeOf<Flags<'train'>['epochs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Flags<'eval'>['weights']>().toEqualTypeOf<string>();
    expectTypeOf<Flags<'check'>['set']>().toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<Flags<'summary'>['input']>().toEqualTypeOf<readonly number[] | undefined>();
    expectTypeOf<Flags<'check'>>().not.toHaveProperty('epochs');
    expectTypeOf<Flags<'predict'>>().not.toHaveProperty('data');
  });

  // The type is the guarantee; this reads the modules' text as a second check that catches a cast.
  it.each([
    ['summary.ts', ['check', 'summary']],
    ['compile.ts', ['compile', 'kernels']],
    ['train.ts', ['train']],
    ['eval.ts', ['eval']],
    ['predict.ts', ['predict']],
    ['flags.ts', ['train', 'eval', 'predict']],
    ['profile.ts', ['profile']],
    ['tune.ts', ['tune']],
  ] as const)('%s reads only options of %j', (file, users) => {
    const text = readFileSync(join(root, 'runtime', 'cli', file), 'utf8');
    const reads = [...text.matchAll(/(?<![\w/.])flags(?:\.([a-zA-Z]+)|\['([a-z-]+)'\])/g)].map((m) => m[1] ?? m[2]!);
    expect(reads.length).toBeGreaterThan(0);
    const known = new Set(users.flatMap((c) => optionsOf(c)));
    expect(reads.filter((r) => !known.has(r))).toEqual([]);
  });
});
