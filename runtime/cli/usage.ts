// The usage text, made from the option tables: `cnnc --help` lists the commands, `cnnc <command>
// --help` every option of that command under its group's heading.
import { type CommandName, commandNames as names, commands, type OptionSpec, type Table } from './options.ts';

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
