// cnnc's command line: argument parsing, dispatch to one module per command, exit codes
// (0 ok, 1 user error, 2 internal compiler error). Never prints a stack trace for user input.
import { parseArgs } from 'node:util';
import { InternalCompilerError } from '../../compiler/diagnostics/diagnostic.ts';
import type { Output } from './io.ts';
import { UserError } from '../errors.ts';
import { checkCommand, summaryCommand } from './summary.ts';
import { compileCommand, kernelsCommand } from './compile.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { predictCommand } from './predict.ts';

const usage = `usage: cnnc <command> FILE [options]

commands:
  check FILE                 parse and check a model
  summary FILE               print every layer's output shape, parameters and FLOPs
  compile FILE               lower to WGSL and show it: --emit ir|graph|wgsl|plan|fusion [--out DIR]
  kernels FILE               print each WGSL kernel of the forward pass (--backward: of the
                             whole training step) [--filter NAME]
  train FILE                 train on the data of the train section (default Fashion-MNIST)
  eval FILE --weights W      loss and accuracy of saved weights on the test split (npy data:
                             on the npy arrays) [--data DIR] [--batch-size N] [--resize H[,W]]
  predict FILE --weights W   classify --images IDX_FILE [--count N] or --npy X.npy ([N, C, H, W]):
                             class, probability and top 3 per sample

options:
  --model NAME               the model to use when the file defines several (default: the last)
  --input N,C,H,W            override the model's input shape and set the batch (default batch 1)
  --expand                   summary: one row per layer instead of one per top-level block
  --json                     summary, eval, predict: machine-readable output
  --emit WHAT                compile: ir (graph + step program), graph (DOT), wgsl, plan,
                             fusion (each fusion decision and why)
  --no-fuse                  compile, kernels, train, eval, predict: every op its own kernel
  --subgroups                compile, kernels: for a device with subgroups of 8+ lanes, whose
                             GEMM kernels share loads (train uses them where the device has them)
  --out DIR                  compile: write files to DIR instead of printing
  --backward                 kernels: the training step's kernels, not only the forward
  --filter NAME              kernels: only kernels whose name contains NAME
  train options (each overrides the train section):
  --epochs N  --batch-size N  --lr X  --optimizer sgd|adam|adamw  --momentum X
  --weight-decay X  --seed N  --steps K (stop after K steps)  --no-shuffle
  --val-limit N (validate on the first N test images only; default all)
  --data DIR (an IDX folder)  --resize H[,W] (data and model input)  --json-log FILE (one JSON per epoch)
  --save FILE.safetensors (PyTorch state_dict names; written every epoch, with the optimizer
  state beside it in FILE.optim.safetensors)  --init FILE  --resume FILE (continue a --save run)
  --plot FILE.svg (curves as SVG and FILE.png, redrawn every epoch)

  -h, --help                 this text
`;

const stdio: Output = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' },
        input: { type: 'string' },
        expand: { type: 'boolean' },
        json: { type: 'boolean' },
        emit: { type: 'string' },
        out: { type: 'string' },
        backward: { type: 'boolean' },
        filter: { type: 'string' },
        'no-fuse': { type: 'boolean' },
        subgroups: { type: 'boolean' },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        lr: { type: 'string' },
        optimizer: { type: 'string' },
        momentum: { type: 'string' },
        'weight-decay': { type: 'string' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        'val-limit': { type: 'string' },
        'no-shuffle': { type: 'boolean' },
        data: { type: 'string' },
        resize: { type: 'string' },
        'json-log': { type: 'string' },
        save: { type: 'string' },
        init: { type: 'string' },
        resume: { type: 'string' },
        plot: { type: 'string' },
        weights: { type: 'string' },
        images: { type: 'string' },
        npy: { type: 'string' },
        count: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, file, ...extra] = positionals;
    if (values.help || command === undefined || command === 'help') {
      io.out(usage);
      return command === undefined && !values.help ? 1 : 0;
    }
    const commands: Record<string, (file: string) => number | Promise<number>> = {
      check: (f) => checkCommand(f, values, io),
      summary: (f) => summaryCommand(f, values, io),
      compile: (f) => compileCommand(f, values, io),
      kernels: (f) => kernelsCommand(f, values, io),
      train: (f) => trainCommand(f, values, io, io === stdio && process.stderr.isTTY === true),
      eval: (f) => evalCommand(f, values, io),
      predict: (f) => predictCommand(f, values, io),
    };
    const run = commands[command];
    if (!run) throw new UserError(`unknown command '${command}' (commands: ${Object.keys(commands).join(', ')})`);
    if (file === undefined) throw new UserError(`'${command}' needs a .cnn FILE`);
    if (extra.length > 0) throw new UserError(`unexpected argument '${extra[0]}'`);
    return await run(file);
  } catch (e) {
    if (e instanceof UserError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`cnnc: ${(e as Error).message}\n`);
      return 1;
    }
    if (e instanceof InternalCompilerError) {
      io.err(`cnnc: ${e.message}\nThis is a bug in cnnc, not in your model; please report it with the .cnn file.\n`);
      return 2;
    }
    io.err(`cnnc: internal error: ${e instanceof RangeError ? e.message : (e as Error).stack ?? String(e)}\nThis is a bug in cnnc; please report it with the .cnn file.\n`);
    return 2;
  }
}
