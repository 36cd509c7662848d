// What train, eval and predict share: parsing their flags, opening the data a model is trained and
// evaluated on, and compiling the model, so the three commands agree on every flag's meaning.
import { CompileError, type FrontendResult } from '../../compiler/index.ts';
import type { OptimizerConfig, OptimizerKind } from '../../compiler/elaborate/train-config.ts';
import { kernelFloat } from '../../compiler/ir/f32.ts';
import { formatShape } from '../../compiler/ir/graph.ts';
import { compile, type Model, type ModelOptions } from '../model.ts';
import { UserError } from '../errors.ts';
import type { Checkpoint } from '../train/checkpoint.ts';
import { openData, type TrainData } from '../train/data.ts';
import { frontend, type Output } from './io.ts';

/** Flags that pick the model, its batch and its data. */
export interface ModelFlags {
  readonly model?: string;
  readonly 'batch-size'?: string;
  readonly data?: string;
  readonly resize?: string;
  readonly 'no-fuse'?: boolean;
}

/** Which model of the file, and whether to fuse (`--no-fuse` compiles every op to its own kernel). */
export function modelOption(flags: Pick<ModelFlags, 'model' | 'no-fuse'>): { model?: string; fuse?: boolean } {
  return { ...(flags.model !== undefined ? { model: flags.model } : {}), ...(flags['no-fuse'] ? { fuse: false } : {}) };
}

/** A numeric flag, or undefined when absent; `kernel` flags must also be float32 numbers above `min` or at it. */
export function num<F extends object>(flags: F, key: keyof F & string, opts: { integer?: boolean; min?: number; kernel?: 'above' | 'at least' } = {}): number | undefined {
  const text = flags[key];
  if (typeof text !== 'string') return undefined;
  const v = text.trim() === '' ? NaN : Number(text);
  const min = opts.min ?? 0;
  if (opts.kernel !== undefined) {
    const expected = kernelFloat(v, min, opts.kernel === 'above');
    if (expected !== null) throw new UserError(`--${key} expects ${expected}, got '${text}'`);
    return v;
  }
  if (!Number.isFinite(v) || v < min || (opts.integer && !Number.isSafeInteger(v))) {
    throw new UserError(`--${key} expects ${opts.integer ? 'an integer' : 'a number'} >= ${min}, got '${text}'`);
  }
  return v;
}

/** A flag the command cannot do without. */
export function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined) throw new UserError(`'${command}' needs ${flag}`);
  return value;
}

export function resizeFlag(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map(Number);
  if ((parts.length !== 1 && parts.length !== 2) || !parts.every((p) => Number.isInteger(p) && p >= 1)) throw new UserError(`--resize expects H or H,W, got '${text}'`);
  return [parts[0]!, parts[1] ?? parts[0]!];
}

export function optimizerFlags(flags: { optimizer?: string; lr?: string; momentum?: string; 'weight-decay'?: string }): Partial<OptimizerConfig> {
  const kind = flags.optimizer;
  if (kind !== undefined && kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') throw new UserError(`--optimizer must be sgd, adam or adamw, got '${kind}'`);
  // torch.optim's domains, but lr 0 (it would train nothing); all become WGSL float32 literals.
  const lr = num(flags, 'lr', { kernel: 'above' });
  const momentum = num(flags, 'momentum', { kernel: 'at least' });
  const weightDecay = num(flags, 'weight-decay', { kernel: 'at least' });
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
export function modelFrontend(file: string, flags: ModelFlags, io: Output): FrontendResult | null {
  const size = resizeFlag(flags.resize);
  return frontend(file, { ...modelOption(flags), ...(size ? { inputSize: size } : {}), forTraining: true }, io);
}

/** The model's per-sample input shape, e.g. [1, 28, 28]. */
export function sampleShape(front: FrontendResult): readonly number[] {
  return front.shaped!.nodes[0]!.shape.slice(1);
}

/** The train section's data (or --data, --resize), checked against the model's input shape. */
export function openModelData(file: string, front: FrontendResult, flags: ModelFlags): { train: TrainData; val: TrainData | null } {
  const recipe = front.train!;
  const out = front.shaped!.nodes[front.shaped!.output]!.shape;
  const data = openData({
    source: recipe.data, modelPath: file, resize: resizeFlag(flags.resize) ?? recipe.resize, numClasses: out[1] ?? 1,
    ...(flags.data !== undefined ? { dirOverride: flags.data } : {}),
  }, recipe.loss === 'cross_entropy');
  const want = sampleShape(front);
  const got = data.train.sampleShape;
  if (formatShape(want) !== formatShape(got)) {
    throw new UserError(`the data gives samples of ${formatShape(got)}, model ${front.shaped!.model} expects ${formatShape(want)}` +
      (want.length === 3 && got.length === 3 ? ` (resize the data: \`data fashion_mnist(resize = ${want[1]})\` or --resize ${want[1]},${want[2]})` : ''));
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
    return await compile(front, options);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return null;
  }
}
