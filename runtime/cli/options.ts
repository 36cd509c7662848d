// Every command's options, declared once: the parser (command-line.ts), the typed flags each command
// receives and the usage text (usage.ts) are all made from the tables below. No command code is
// imported here, so that main.ts can parse and print help without loading a command's module (or
// dawn.node).

interface Described {
  /** One line for the usage text. */
  readonly help: string;
  /** The usage heading the option is listed under (set by `group`). */
  readonly group?: string;
}
export interface BooleanOption extends Described {
  readonly kind: 'boolean';
}
export interface StringOption extends Described {
  readonly kind: 'string';
  /** The value's placeholder in the usage text, e.g. FILE. */
  readonly value: string;
  /** The command refuses to run without it. */
  readonly required?: boolean;
  /** Given any number of times; the flag is the list of values, in order. */
  readonly repeatable?: boolean;
}
export interface NumberOption extends Described {
  readonly kind: 'number';
  readonly value: string;
  readonly integer?: boolean;
  /** The smallest value allowed (default 0). */
  readonly min?: number;
  /** The value reaches a kernel: a float32 above `min` or at least `min`. */
  readonly kernel?: 'above' | 'at least';
}
export interface ListOption extends Described {
  /** Positive integers separated by commas (or x), in one of `forms`, e.g. H or H,W. */
  readonly kind: 'list';
  readonly value: string;
  readonly forms: readonly string[];
}
export type OptionSpec = BooleanOption | StringOption | NumberOption | ListOption;
export type Table = Readonly<Record<string, OptionSpec>>;

type ValueOf<O> = O extends { kind: 'boolean' }
  ? boolean
  : O extends { kind: 'number' }
    ? number
    : O extends { kind: 'list' }
      ? readonly number[]
      : O extends { repeatable: true }
        ? readonly string[]
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
  set: {
    kind: 'string',
    value: 'NAME=VALUE',
    repeatable: true,
    help: 'set a parameter of the model (its default in `model M(NAME = ...)`), a .cnn expression; repeatable',
  },
});
const inputShape = group('model options', {
  input: {
    kind: 'list',
    value: 'N,C,H,W',
    forms: ['N,C,H,W', 'N,C,D,H,W', 'N,F'],
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
const tune = group('kernel options', {
  tune: {
    kind: 'string',
    value: 'off|cached|search',
    help: "GEMM kernels: cached (default) the tuning cache's choices where it has them, off the rules', search tunes the missing ones first (cnnc tune)",
  },
});

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

/** `cnnc serve`'s port unless --port says otherwise. */
export const DEFAULT_PORT = 8737;

export interface CommandSpec {
  /** What follows the command name in its synopsis. */
  readonly synopsis: string;
  /** What its FILE is, for the message when it is missing (default: a .cnn FILE). */
  readonly file?: string;
  /** The command runs without a FILE too (it gets ''). */
  readonly fileOptional?: boolean;
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
      params: { kind: 'boolean', help: "also every parameter's state_dict name, shape and size" },
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
    options: { ...modelRun, ...tune, ...dataDir, ...trainOptions, ...runFiles },
  },
  eval: {
    synopsis: 'FILE --weights W',
    help: 'loss and accuracy of saved weights on the test split (npy data: on the npy arrays)',
    options: { ...weights, ...modelRun, ...tune, ...dataDir, ...json },
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
      ...tune,
      ...json,
    },
  },
  profile: {
    synopsis: 'FILE [--batch-size N] [--steps K] [--json]',
    help: "GPU time of one training step by layer (forward, backward), loss and optimizer, from the kernels' timestamps",
    options: {
      ...modelRun,
      steps: {
        kind: 'number',
        value: 'K',
        integer: true,
        min: 1,
        help: "time K steps (after 2 unmeasured), each kernel's mean (default 10)",
      },
      ...json,
    },
  },
  tune: {
    synopsis: 'FILE [--batch-size N] [--candidates N] [--json]',
    help: "time each GEMM kernel's variants on this adapter and keep the fastest in the tuning cache (~/.cache/cnnc)",
    options: {
      ...modelRun,
      tune: {
        ...tune.tune,
        help: 'search (default) tunes every kernel afresh, cached only those the cache lacks, off times the rules alone',
      },
      candidates: {
        kind: 'number',
        value: 'N',
        integer: true,
        min: 1,
        help: "variants timed per kernel, the rules' included (default 16: the rules' neighbours first)",
        group: 'kernel options',
      },
      ...json,
    },
  },
  run: {
    synopsis: 'FILE [--input-tensor NAME | --npy X.npy | --images IDX_FILE --index I] [--weights W] [--out OUT.npy]',
    help: "the model's output (evaluation mode) on one input, printed as PyTorch prints tensors",
    options: {
      'input-tensor': {
        kind: 'string',
        value: 'NAME',
        help: 'run on this constant tensor of the file (default: the one named X)',
      },
      npy: { kind: 'string', value: 'X.npy', help: 'run on an array of one sample or [N, ...] samples' },
      images: { kind: 'string', value: 'IDX_FILE', help: 'run on one image of an IDX file (with --index)' },
      index: { kind: 'number', value: 'I', integer: true, help: 'which image of --images (from 0)' },
      weights: {
        kind: 'string',
        value: 'W',
        help: "the weights (.safetensors); default: the file's constants and the train section's init",
      },
      tensor: {
        kind: 'string',
        value: 'NAME',
        help: 'print this constant tensor of the file instead of running the model',
      },
      layer: {
        kind: 'string',
        value: 'NAME',
        repeatable: true,
        help: "print this layer's output instead of the model's (its state_dict prefix: 0, 1.conv1, ...); repeatable",
      },
      squeeze: { kind: 'boolean', help: 'drop every dimension of size 1 from what is printed, as torch.squeeze()' },
      shape: { kind: 'boolean', help: 'print only the shape, as torch.Size([...])' },
      out: { kind: 'string', value: 'OUT.npy', help: 'also write what is printed as a float32 .npy array' },
      ...modelName,
      ...noFuse,
      ...json,
    },
  },
  weights: {
    synopsis: 'W.safetensors [--name PATTERN]',
    file: 'a .safetensors FILE',
    help: "print a checkpoint's (or optimizer file's) tensors as PyTorch prints them, with dtype, shape and min/max/mean/std",
    options: {
      name: {
        kind: 'string',
        value: 'PATTERN',
        help: 'only the tensors PATTERN names: a glob (* ? [...]) on the whole name, else the tensor of that name, else names containing it',
      },
      ...json,
    },
  },
  export: {
    synopsis: 'FILE (--torch OUT.py | --torch-train DIR | --onnx OUT.onnx [--weights W] | --web DIR --weights W)',
    help: 'write the model as a PyTorch module (with a training script: --torch-train), as ONNX (through PyTorch), or as a WebGPU bundle for web pages (--web)',
    options: {
      ...modelName,
      resize: {
        kind: 'list',
        value: 'H[,W]',
        forms: ['H', 'H,W'],
        help: "the model's input size H x W (lazy layers' sizes follow it)",
        group: 'model options',
      },
      torch: {
        kind: 'string',
        value: 'OUT.py',
        help: 'a PyTorch module: model() builds it, load_cnnc(W) reads a checkpoint for it',
      },
      'torch-train': {
        kind: 'string',
        value: 'DIR',
        help: "DIR/model.py (as --torch) and DIR/train.py, the train section's recipe for python3 or torchrun (DDP), reading and saving cnnc's checkpoints",
      },
      onnx: {
        kind: 'string',
        value: 'OUT.onnx',
        help: 'ONNX (opset 17) of the forward pass in eval mode; needs python3 with PyTorch',
      },
      web: {
        kind: 'string',
        value: 'DIR',
        help: "DIR/index.js (an ES module: load(url), predict(x, n)), DIR/model.json, DIR/kernels/*.wgsl and DIR/weights.bin: the forward pass's kernels for WebGPU's default limits, in a page or under Node",
      },
      'batch-size': {
        kind: 'number',
        value: 'N',
        integer: true,
        min: 1,
        help: '--web: the batch the kernels are compiled for (default 16); predict(x, n) runs n in batches of N',
      },
      subgroups: {
        kind: 'boolean',
        help: '--web: kernels that share loads through subgroups, for devices with subgroups of 8+ lanes only',
      },
      weights: {
        kind: 'string',
        value: 'W',
        help: "the weights (.safetensors): those the ONNX file holds (default PyTorch's initial weights); --web needs them",
      },
    },
  },
  serve: {
    synopsis: '[FILE] [--port N] [--data DIR]',
    fileOptional: true,
    help: 'a playground page on 127.0.0.1: edit a model, see its shapes, graph and kernels, train it in the browser',
    options: {
      port: {
        kind: 'number',
        value: 'N',
        integer: true,
        help: `the port on 127.0.0.1 (default ${DEFAULT_PORT}; 0: a free one)`,
      },
      ...dataDir,
    },
  },
} as const satisfies Readonly<Record<string, CommandSpec>>;

export type CommandName = keyof typeof commands;
/** The flags `cnnc <command>` passes to its module: a read of an option the table lacks does not compile. */
export type Flags<C extends CommandName> = FlagsOf<(typeof commands)[C]['options']>;
/** Flags of a shared group, for helpers that several commands call. */
export type ModelFlags = FlagsOf<typeof modelRun & typeof dataDir>;
export type CodegenFlags = Flags<'compile'> | Flags<'kernels'>;
/** The command names, in the order of the tables. */
export const commandNames = Object.keys(commands) as CommandName[];

/** `--input N,C,H,W` (or N,F) as the front end takes it: the batch and the per-sample shape. */
export function inputOption(flags: { readonly input?: readonly number[] }): { batch?: number; inputShape?: number[] } {
  return flags.input ? { batch: flags.input[0]!, inputShape: flags.input.slice(1) } : {};
}
