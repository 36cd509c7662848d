// Every command's options, declared once: the parser, the typed flags each command receives and the
// usage text are all made from the tables below. This module imports no command code, so that
// main.ts can parse and print help without loading a command's module (or dawn.node).
import { nearest } from '../../compiler/diagnostics/suggest.ts';
import { kernelFloat } from '../../compiler/ir/f32.ts';
import { UserError } from '../errors.ts';

interface Described {
  /** One line for the usage text. */
  readonly help: string;
  /** The usage heading the option is listed under (set by `group`). */
  readonly group?: string;
}
interface BooleanOption extends Described {
  readonly kind: 'boolean';
}
interface StringOption extends Described {
  readonly kind: 'string';
  /** The value's placeholder in the usage text, e.g. FILE. */
  readonly value: string;
  /** The command refuses to run without it. */
  readonly required?: boolean;
}
interface NumberOption extends Described {
  readonly kind: 'number';
  readonly value: string;
  readonly integer?: boolean;
  /** The smallest value allowed (default 0). */
  readonly min?: number;
  /** The value reaches a kernel: a float32 above `min` or at least `min`. */
  readonly kernel?: 'above' | 'at least';
}
interface ListOption extends Described {
  /** Positive integers separated by commas (or x), in one of `forms`, e.g. H or H,W. */
  readonly kind: 'list';
  readonly value: string;
  readonly forms: readonly string[];
}
export type OptionSpec = BooleanOption | StringOption | NumberOption | ListOption;
type Table = Readonly<Record<string, OptionSpec>>;

type ValueOf<O> = O extends { kind: 'boolean' }
  ? boolean
  : O extends { kind: 'number' }
    ? number
    : O extends { kind: 'list' }
      ? readonly number[]
      : string;
type RequiredKeys<T> = { [K in keyof T]: T[K] extends { required: true } ? K : never }[keyof T];

/** The parsed flags of a table: each option's value, optional unless the option is required. */
export type FlagsOf<T extends Table> = { readonly [K in Exclude<keyof T, RequiredKeys<T>>]?: ValueOf<T[K]> } & {
  readonly [K in RequiredKeys<T>]: ValueOf<T[K]>;
};

/** Options listed under one heading of the usage text, shared by the commands that include them. */
function group<const T extends Table>(
  title: string,
  options: T,
): { readonly [K in keyof T]: T[K] & { readonly group: string } } {
  return Object.fromEntries(Object.entries(options).map(([name, o]) => [name, { ...o, group: title }])) as never;
}

const modelName = group('model options', {
  model: { kind: 'string', value: 'NAME', help: 'the model to use when the file defines several (default: the last)' },
});
const inputShape = group('model options', {
  input: {
    kind: 'list',
    value: 'N,C,H,W',
    forms: ['N,C,H,W', 'N,F'],
    help: "override the model's input shape and set the batch (default batch 1)",
  },
});
const noFuse = group('model options', {
  'no-fuse': { kind: 'boolean', help: 'every op its own kernel (no fusion)' },
});
const subgroups = group('model options', {
  subgroups: {
    kind: 'boolean',
    help: 'for a device with subgroups of 8+ lanes, whose GEMM kernels share loads (train uses them where the device has them)',
  },
});
const json = { json: { kind: 'boolean', help: 'machine-readable output' } } as const;

/** What train, eval and predict share: the model, its batch and its input size. */
const modelRun = {
  ...modelName,
  ...noFuse,
  ...group('data options', {
    'batch-size': {
      kind: 'number',
      value: 'N',
      integer: true,
      min: 1,
      help: "the batch (default the train section's)",
    },
    resize: {
      kind: 'list',
      value: 'H[,W]',
      forms: ['H', 'H,W'],
      help: "resize the data's images and the model's input to H x W",
    },
  }),
};
/** The data train and eval read (predict reads the samples it is given). */
const dataDir = group('data options', {
  data: { kind: 'string', value: 'DIR', help: "an IDX folder instead of the train section's data" },
});
const weights = {
  weights: {
    kind: 'string',
    value: 'W',
    required: true,
    help: 'the weights (.safetensors, as train --save writes them)',
  },
} as const;

// torch.optim's domains, but lr 0 (it would train nothing); all become WGSL float32 literals.
const trainOptions = group('train options (each overrides the train section)', {
  epochs: {
    kind: 'number',
    value: 'N',
    integer: true,
    min: 1,
    help: 'epochs to train (with --resume: in all, those done included)',
  },
  lr: { kind: 'number', value: 'X', kernel: 'above', help: 'learning rate' },
  optimizer: { kind: 'string', value: 'sgd|adam|adamw', help: 'the optimizer' },
  momentum: { kind: 'number', value: 'X', kernel: 'at least', help: "SGD's momentum" },
  'weight-decay': { kind: 'number', value: 'X', kernel: 'at least', help: 'weight decay (adamw: decoupled)' },
  seed: { kind: 'number', value: 'N', integer: true, help: 'seed of the initial weights and the sample order' },
  steps: { kind: 'number', value: 'K', integer: true, min: 1, help: 'stop after K steps (with --resume: in all)' },
  'no-shuffle': { kind: 'boolean', help: 'keep the data in file order' },
  'val-limit': {
    kind: 'number',
    value: 'N',
    integer: true,
    min: 1,
    help: 'validate on the first N test images only (default all)',
  },
});
const runFiles = group('files', {
  'json-log': { kind: 'string', value: 'FILE', help: 'one JSON line per epoch' },
  save: {
    kind: 'string',
    value: 'FILE.safetensors',
    help: 'weights every epoch (PyTorch state_dict names), the optimizer state in FILE.optim.safetensors',
  },
  init: { kind: 'string', value: 'FILE', help: 'start from these weights' },
  resume: { kind: 'string', value: 'FILE', help: 'continue a --save run (weights, optimizer state, position)' },
  plot: { kind: 'string', value: 'FILE.svg', help: 'curves as SVG and FILE.png, redrawn every epoch' },
});

interface CommandSpec {
  /** What follows the command name in its synopsis. */
  readonly synopsis: string;
  readonly help: string;
  readonly options: Table;
}

export const commands = {
  check: { synopsis: 'FILE', help: 'parse and check a model', options: { ...modelName, ...inputShape } },
  summary: {
    synopsis: 'FILE',
    help: "print every layer's output shape, parameters and FLOPs",
    options: {
      ...modelName,
      ...inputShape,
      expand: { kind: 'boolean', help: 'one row per layer instead of one per top-level block' },
      ...json,
    },
  },
  compile: {
    synopsis: 'FILE [--emit WHAT] [--out DIR]',
    help: "lower to WGSL and show what the compiler made (for WebGPU's default limits)",
    options: {
      ...modelName,
      ...inputShape,
      ...noFuse,
      ...subgroups,
      emit: {
        kind: 'string',
        value: 'ir|graph|wgsl|plan|fusion',
        help: 'ir (graph + step program, the default), graph (DOT), wgsl, plan, fusion (each decision and why)',
      },
      out: { kind: 'string', value: 'DIR', help: 'write files to DIR instead of printing' },
    },
  },
  kernels: {
    synopsis: 'FILE [--backward] [--filter NAME]',
    help: 'print each WGSL kernel of the forward pass',
    options: {
      ...modelName,
      ...inputShape,
      ...noFuse,
      ...subgroups,
      backward: { kind: 'boolean', help: "the training step's kernels, not only the forward" },
      filter: { kind: 'string', value: 'NAME', help: 'only kernels whose name contains NAME' },
    },
  },
  train: {
    synopsis: 'FILE [options]',
    help: 'train on the data of the train section (default Fashion-MNIST)',
    options: { ...modelRun, ...dataDir, ...trainOptions, ...runFiles },
  },
  eval: {
    synopsis: 'FILE --weights W',
    help: 'loss and accuracy of saved weights on the test split (npy data: on the npy arrays)',
    options: { ...weights, ...modelRun, ...dataDir, ...json },
  },
  predict: {
    synopsis: 'FILE --weights W (--images IDX_FILE [--count N] | --npy X.npy)',
    help: 'class, probability and top 3 of each sample',
    options: {
      ...weights,
      images: { kind: 'string', value: 'IDX_FILE', help: 'classify the images of an IDX file' },
      npy: { kind: 'string', value: 'X.npy', help: 'classify the samples of an [N, C, H, W] array' },
      count: { kind: 'number', value: 'N', integer: true, min: 1, help: 'the first N samples only (default all)' },
      ...modelRun,
      ...json,
    },
  },
} as const satisfies Readonly<Record<string, CommandSpec>>;

export type CommandName = keyof typeof commands;
/** The flags `cnnc <command>` passes to its module: a read of an option the table lacks does not compile. */
export type Flags<C extends CommandName> = FlagsOf<(typeof commands)[C]['options']>;
/** Flags of a shared group, for helpers that several commands call. */
export type ModelFlags = FlagsOf<typeof modelRun & typeof dataDir>;
export type CodegenFlags = Flags<'compile'> | Flags<'kernels'>;

const names = Object.keys(commands) as CommandName[];
const isCommand = (name: string): name is CommandName => Object.hasOwn(commands, name);
const tableOf = (command: CommandName): Table => commands[command].options;

/** A malformed command line: printed as `cnnc <command>: <message>`, exit 1. */
export class OptionError extends UserError {
  readonly command: CommandName;
  constructor(command: CommandName, message: string) {
    super(message);
    this.command = command;
  }
}

/** What the command line asks for: a command's help, the global help, or a run. */
export type Request =
  | { readonly kind: 'help'; readonly command: CommandName | null; readonly exitCode: number }
  | {
      readonly kind: 'run';
      readonly command: CommandName;
      readonly file: string;
      readonly flags: Record<string, unknown>;
    };

/** A negative number is a value (`--seed -1`), not an option. */
const isOption = (arg: string): boolean => arg.startsWith('-') && arg !== '-' && !/^-[\d.]/.test(arg);

/** Where the command is: the first argument that is neither an option nor an option's value. */
function findCommand(argv: readonly string[]): number {
  const kinds = new Map(names.flatMap((c) => Object.entries(tableOf(c)).map(([n, o]) => [n, o.kind] as const)));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!isOption(arg)) return i;
    const name = arg.slice(2);
    if (!arg.includes('=') && kinds.has(name) && kinds.get(name) !== 'boolean') i++;
  }
  return -1;
}

/** Parses `cnnc [options] <command> FILE [options]`; throws UserError for a malformed line. */
export function parseCommandLine(argv: readonly string[]): Request {
  const at = findCommand(argv);
  const first = at >= 0 ? argv[at]! : undefined;
  const wantsHelp = argv
    .slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length)
    .some((a) => a === '-h' || a === '--help');
  if (first === undefined || first === 'help') {
    const topic = first === 'help' ? argv[at + 1] : undefined;
    if (topic !== undefined && isCommand(topic)) return { kind: 'help', command: topic, exitCode: 0 };
    return { kind: 'help', command: null, exitCode: first === undefined && !wantsHelp ? 1 : 0 };
  }
  if (!isCommand(first)) {
    const guess = nearest(first, names);
    throw new UserError(
      `unknown command '${first}'${guess ? ` (did you mean '${guess}'?; commands: ${names.join(', ')})` : ` (commands: ${names.join(', ')})`}`,
    );
  }
  if (wantsHelp) return { kind: 'help', command: first, exitCode: 0 };
  const { flags, positionals } = parseOptions(first, [...argv.slice(0, at), ...argv.slice(at + 1)]);
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UserError(`'${first}' needs a .cnn FILE`);
  if (extra.length > 0) throw new UserError(`unexpected argument '${extra[0]}'`);
  for (const [name, o] of Object.entries(tableOf(first))) {
    if (o.kind === 'string' && o.required && flags[name] === undefined)
      throw new UserError(`'${first}' needs --${name} ${o.value}`);
  }
  return { kind: 'run', command: first, file, flags };
}

/** One command's options (by its table) and its positional arguments. */
function parseOptions(
  command: CommandName,
  args: readonly string[],
): { flags: Record<string, unknown>; positionals: string[] } {
  const table = tableOf(command);
  const flags: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!isOption(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    // Only -h is short; any other single-dash word is refused whole.
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : arg;
    const spec = Object.hasOwn(table, name) ? table[name]! : undefined;
    if (!spec) throw new OptionError(command, notAnOption(command, name));
    if (spec.kind === 'boolean') {
      if (eq >= 0) throw new OptionError(command, `--${name} takes no value, got '${arg}'`);
      flags[name] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) text = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || isOption(next))
        throw new OptionError(command, `--${name} needs a value: --${name} ${spec.value}`);
      text = next;
      i++;
    }
    flags[name] = parseValue(name, spec, text);
  }
  return { flags, positionals };
}

/** Why `--name` is refused: another command's option, a likely typo, or neither. */
function notAnOption(command: CommandName, name: string): string {
  if (!name.startsWith('-')) {
    const owners = names.filter((c) => Object.hasOwn(tableOf(c), name));
    if (owners.length > 0) return `--${name} is not an option of ${command} (it is an option of ${list(owners)})`;
    const guess = nearest(name, Object.keys(tableOf(command)));
    if (guess !== null) return `unknown option --${name} (did you mean --${guess}?)`;
    return `unknown option --${name} (cnnc ${command} --help lists its options)`;
  }
  return `unknown option ${name} (cnnc ${command} --help lists its options)`;
}

const list = (xs: readonly string[]): string =>
  xs.length === 1 ? xs[0]! : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`;

function parseValue(name: string, spec: StringOption | NumberOption | ListOption, text: string): unknown {
  if (spec.kind === 'string') return text;
  if (spec.kind === 'list') {
    const parts = text
      .trim()
      .split(/[,x ]+/)
      .map(Number);
    const lengths = spec.forms.map((f) => f.split(',').length);
    if (!lengths.includes(parts.length) || !parts.every((p) => Number.isInteger(p) && p >= 1)) {
      throw new UserError(`--${name} expects ${spec.forms.join(' or ')} with positive integers, got '${text}'`);
    }
    return parts;
  }
  const v = text.trim() === '' ? NaN : Number(text);
  const min = spec.min ?? 0;
  if (spec.kernel !== undefined) {
    const expected = kernelFloat(v, min, spec.kernel === 'above');
    if (expected !== null) throw new UserError(`--${name} expects ${expected}, got '${text}'`);
    return v;
  }
  if (!Number.isFinite(v) || v < min || (spec.integer && !Number.isSafeInteger(v))) {
    throw new UserError(`--${name} expects ${spec.integer ? 'an integer' : 'a number'} >= ${min}, got '${text}'`);
  }
  return v;
}

/** `--input N,C,H,W` (or N,F) as the front end takes it: the batch and the per-sample shape. */
export function inputOption(flags: { readonly input?: readonly number[] }): { batch?: number; inputShape?: number[] } {
  return flags.input ? { batch: flags.input[0]!, inputShape: flags.input.slice(1) } : {};
}

const column = 30;
const row = (left: string, help: string): string =>
  left.length + 2 < column ? `  ${left.padEnd(column - 2)}${help}\n` : `  ${left}\n${' '.repeat(column)}${help}\n`;
const optionLeft = (name: string, o: OptionSpec): string => `--${name}${o.kind === 'boolean' ? '' : ` ${o.value}`}`;

/** `cnnc --help`: the commands; each command's own --help lists its options. */
export function usage(): string {
  return (
    'usage: cnnc <command> FILE [options]\n\ncommands:\n' +
    names.map((c) => row(`${c} ${commands[c].synopsis}`, commands[c].help)).join('') +
    '\n' +
    row('cnnc <command> --help', "the command's options") +
    row('-h, --help', 'this text')
  );
}

/** `cnnc <command> --help`: the command and every option of its table, under its group's heading. */
export function commandUsage(command: CommandName): string {
  const spec = commands[command];
  const sections = new Map<string, string>();
  for (const [name, o] of Object.entries(spec.options as Table)) {
    const title = o.group ?? 'options';
    sections.set(title, (sections.get(title) ?? '') + row(optionLeft(name, o), o.help));
  }
  const body = [...sections].map(([title, rows]) => `\n${title}:\n${rows}`).join('');
  return `usage: cnnc ${command} ${spec.synopsis}\n\n${spec.help}\n${body}\n${row('-h, --help', 'this text')}`;
}
