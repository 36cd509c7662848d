// The command line as the option tables (options.ts) read it: `cnnc [options] <command> FILE
// [options]`, options in either `--x=1` or `--x 1` form, negative numbers as values; an option the
// command does not take names the command that does, a misspelt one gets a did-you-mean.
import { nearest } from '../../compiler/diagnostics/suggest.ts';
import { kernelFloat } from '../../compiler/ir/f32.ts';
import { UserError } from '../errors.ts';
import {
  type CommandName,
  type CommandSpec,
  commandNames as names,
  commands,
  type ListOption,
  type NumberOption,
  type StringOption,
  type Table,
} from './options.ts';

const isCommand = (name: string): name is CommandName => Object.hasOwn(commands, name);
const specOf = (command: CommandName): CommandSpec => commands[command];
const tableOf = (command: CommandName): Table => specOf(command).options;

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
  const [file = specOf(first).fileOptional ? '' : undefined, ...extra] = positionals;
  if (file === undefined) throw new UserError(`'${first}' needs ${specOf(first).file ?? 'a .cnn FILE'}`);
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
    const value = parseValue(name, spec, text);
    flags[name] =
      spec.kind === 'string' && spec.repeatable ? [...((flags[name] as string[] | undefined) ?? []), value] : value;
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
