// What train, eval and predict share: parsing their flags, opening the data a model is trained and
// evaluated on, and compiling the model, so the three commands agree on every flag's meaning.
import {
  type BackendOptions,
  CompileError,
  type Compiled,
  compileModel as compileKernels,
  type FrontendResult,
} from '../../compiler/index.ts';
import type { OptimizerConfig, OptimizerKind } from '../../compiler/ir/recipe.ts';
import { formatShape } from '../../compiler/ir/graph.ts';
import { installDawn } from '../gpu/dawn.ts';
import { compile, type Model, type ModelOptions } from '../model.ts';
import { UserError } from '../errors.ts';
import type { Checkpoint } from '../train/checkpoint.ts';
import { openData, type TrainData } from '../train/data.ts';
import { choicesFor, tuneMode } from '../tune/choices.ts';
import { frontend, type Output } from './io.ts';
import type { Flags, ModelFlags } from './options.ts';

/**
 * Which model of the file, its parameters set by `--set`, and whether to fuse (`--no-fuse` compiles
 * every op to its own kernel).
 */
export function modelOption(flags: Pick<ModelFlags, 'model' | 'set' | 'no-fuse'>): {
  model?: string;
  settings?: readonly string[];
  fuse?: boolean;
} {
  return {
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.set !== undefined ? { settings: flags.set } : {}),
    ...(flags['no-fuse'] ? { fuse: false } : {}),
  };
}

/** `--tune off|cached|search` as the model's choices; cache warnings and tuning progress on stderr. */
export function tuneOption(flags: { readonly tune?: string }, io: Output): Pick<ModelOptions, 'choices'> {
  const choices = choicesFor(
    tuneMode(flags.tune),
    (line) => io.err(`cnnc: warning: ${line}\n`),
    (line) => io.err(`${line}\n`),
  );
  return choices ? { choices } : {};
}

/** `--resize H[,W]` (checked by the parser) as height and width. */
export function resizeFlag(size: readonly number[] | undefined): [number, number] | undefined {
  return size && [size[0]!, size[1] ?? size[0]!];
}

/** The optimizer settings train's flags override (the parser checked that each number fits a kernel). */
export function optimizerFlags(
  flags: Pick<Flags<'train'>, 'optimizer' | 'lr' | 'momentum' | 'weight-decay'>,
): Partial<OptimizerConfig> {
  const kind = flags.optimizer;
  if (kind !== undefined && kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw')
    throw new UserError(`--optimizer must be sgd, adam or adamw, got '${kind}'`);
  const { lr, momentum } = flags;
  const weightDecay = flags['weight-decay'];
  return {
    ...(kind !== undefined ? { kind: kind as OptimizerKind } : {}),
    ...(lr !== undefined ? { lr } : {}),
    ...(momentum !== undefined ? { momentum } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
  };
}

/**
 * The front end for train, eval and predict: the command's one analysis, which compileModel and
 * every partial batch's kernels reuse. `--resize H[,W]` sets the image size of the data AND of the
 * model (its `input [C, H, W]` keeps C): d2l trains one model at several resolutions, and lazy
 * layers infer everything after the input. Cross-entropy needs classifier logits (E0213), checked
 * here, before any data is read.
 */
export function modelFrontend(
  file: string,
  flags: Pick<ModelFlags, 'model' | 'set' | 'no-fuse' | 'resize'>,
  io: Output,
): FrontendResult | null {
  const size = resizeFlag(flags.resize);
  return frontend(file, { ...modelOption(flags), ...(size ? { inputSize: size } : {}), forTraining: true }, io);
}

/** The classes of a classifier (cross-entropy on [N, classes] logits), which `what` needs. */
export function classifierClasses(front: FrontendResult, what: string): number {
  const out = front.shaped!.nodes[front.shaped!.output]!.shape;
  const { loss } = front.train!;
  if (loss !== 'cross_entropy' || out.length !== 2)
    throw new UserError(
      `${what} needs a classifier: ${front.shaped!.model} is trained with loss ${loss} and outputs ${formatShape(out.slice(1))} per sample`,
    );
  return out[1]!;
}

/** The model's per-sample input shape, e.g. [1, 28, 28]. */
export function sampleShape(front: FrontendResult): readonly number[] {
  return front.shaped!.nodes[0]!.shape.slice(1);
}

/** The train section's data (or --data, --resize), checked against the model's input shape. */
export function openModelData(
  file: string,
  front: FrontendResult,
  flags: ModelFlags,
): { train: TrainData; val: TrainData | null } {
  const recipe = front.train!;
  const out = front.shaped!.nodes[front.shaped!.output]!.shape;
  const data = openData(
    {
      source: recipe.data,
      modelPath: file,
      resize: resizeFlag(flags.resize) ?? recipe.resize,
      numClasses: out[1] ?? 1,
      ...(flags.data !== undefined ? { dirOverride: flags.data } : {}),
    },
    recipe.loss === 'cross_entropy',
  );
  const want = sampleShape(front);
  const got = data.train.sampleShape;
  if (formatShape(want) !== formatShape(got)) {
    throw new UserError(
      `the data gives samples of ${formatShape(got)}, model ${front.shaped!.model} expects ${formatShape(want)}` +
        (want.length === 3 && got.length === 3
          ? ` (resize the data: \`data fashion_mnist(resize = ${want[1]})\` or --resize ${want[1]},${want[2]})`
          : ''),
    );
  }
  return data;
}

/**
 * Names the tensors of a weights file holding NaN or infinities (as float32), or null when there are
 * none. Eval and predict still compute with them, as PyTorch would, and warn; training refuses.
 */
export function nonFiniteWeights(ckpt: Checkpoint): string | null {
  const bad: string[] = [];
  for (const [name, t] of ckpt.tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'F64') continue;
    let count = 0;
    for (const v of t.data) if (!Number.isFinite(Math.fround(v))) count++;
    if (count > 0) bad.push(`${name} (${count} of ${t.data.length})`);
  }
  if (bad.length === 0) return null;
  return `${ckpt.path}: non-finite values (NaN or infinite) in ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more tensors` : ''}`;
}

/** Compiles the analysed model for the GPU; on diagnostics prints them and returns null (the caller exits 1). */
export async function compileModel(front: FrontendResult, options: ModelOptions, io: Output): Promise<Model | null> {
  try {
    // compile() opens navigator.gpu: under Node, dawn.node's.
    installDawn();
    return await compile(front, options);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return null;
  }
}

/** The analysed model's kernels, without a device; on diagnostics prints them and returns null (exit 1). */
export function compileOrReport(front: FrontendResult, options: BackendOptions, io: Output): Compiled | null {
  try {
    return compileKernels(front, options);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return null;
  }
}
