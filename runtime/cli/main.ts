// cnnc's command line: argument parsing, dispatch to one module per command, exit codes
// (0 ok, 1 user error, 2 internal compiler error). Never prints a stack trace for user input.
import { InternalCompilerError } from '../../compiler/diagnostics/diagnostic.ts';
import { UserError } from '../errors.ts';
import { OptionError, parseCommandLine } from './command-line.ts';
import type { Output } from './io.ts';
import type { CommandName, Flags } from './options.ts';
import { commandUsage, usage } from './usage.ts';

const stdio: Output = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  try {
    const request = parseCommandLine(argv);
    if (request.kind === 'help') {
      io.out(request.command ? commandUsage(request.command) : usage());
      return request.exitCode;
    }
    // Each command's module is imported on use: the parser's set-up, the code generators and
    // dawn.node (loaded by the runtime's import) are paid only by the commands that need them.
    const commands: { [C in CommandName]: (file: string, flags: Flags<C>) => Promise<number> } = {
      check: async (f, flags) => (await import('./summary.ts')).checkCommand(f, flags, io),
      summary: async (f, flags) => (await import('./summary.ts')).summaryCommand(f, flags, io),
      compile: async (f, flags) => (await import('./compile.ts')).compileCommand(f, flags, io),
      kernels: async (f, flags) => (await import('./compile.ts')).kernelsCommand(f, flags, io),
      train: async (f, flags) =>
        (await import('./train.ts')).trainCommand(f, flags, io, io === stdio && process.stderr.isTTY === true),
      eval: async (f, flags) => (await import('./eval.ts')).evalCommand(f, flags, io),
      predict: async (f, flags) => (await import('./predict.ts')).predictCommand(f, flags, io),
      run: async (f, flags) => (await import('./run.ts')).runCommand(f, flags, io),
      weights: async (f, flags) => (await import('./weights.ts')).weightsCommand(f, flags, io),
      export: async (f, flags) => (await import('./export.ts')).exportCommand(f, flags, io),
      profile: async (f, flags) => (await import('./profile.ts')).profileCommand(f, flags, io),
      tune: async (f, flags) => (await import('./tune.ts')).tuneCommand(f, flags, io),
    };
    // The parser built the flags from this command's table, so they have its Flags type.
    const run = <C extends CommandName>(command: C, file: string, flags: Flags<C>) => commands[command](file, flags);
    return await run(request.command, request.file, request.flags as Flags<typeof request.command>);
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`cnnc${e instanceof OptionError ? ` ${e.command}` : ''}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof InternalCompilerError) {
      io.err(`cnnc: ${e.message}\nThis is a bug in cnnc, not in your model; please report it with the .cnn file.\n`);
      return 2;
    }
    // A stack overflow (a RangeError) behind the front end's limits: its frames would fill the screen.
    io.err(
      `cnnc: internal error: ${e instanceof RangeError ? e.message : ((e as Error).stack ?? String(e))}\nThis is a bug in cnnc; please report it with the .cnn file.\n`,
    );
    return 2;
  }
}
