// What train, eval and predict share: parsing their flags, opening the data a model is trained and
// evaluated on, and compiling the model, so the three commands agree on every flag's meaning.
import { analyze, type FrontendResult } from '../../compiler/index.ts';
import type { OptimizerConfig, OptimizerKind } from '../../compiler/ir/recipe.ts';
import { formatShape } from '../../compiler/ir/graph.ts';
import { compile, CompileError, type CompileOptions, type Model } from '../model.ts';
import { UserError } from '../errors.ts';
import { openData, type TrainData } from '../train/data.ts';
import { frontend, readSource, type Output } from './io.ts';

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

/** A numeric flag, or undefined when absent. */
export function num<F extends object>(flags: F, key: keyof F & string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  const text = flags[key];
  if (typeof text !== 'string') return undefined;
  const v = Number(text);
  const min = opts.min ?? 0;
  if (text.trim() === '' || !Number.isFinite(v) || v < min || (opts.integer && !Number.isInteger(v))) {
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
  const lr = num(flags, 'lr');
  const momentum = num(flags, 'momentum');
  const weightDecay = num(flags, 'weight-decay');
  return {
    ...(kind !== undefined ? { kind: kind as OptimizerKind } : {}),
    ...(lr !== undefined ? { lr } : {}),
    ...(momentum !== undefined ? { momentum } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
  };
}

/**
 * The front end for train, eval and predict. `--resize H[,W]` sets the image size of the data AND
 * of the model (its `input [C, H, W]` keeps C): d2l trains one model at several resolutions, and
 * lazy layers infer everything after the input.
 */
export function modelFrontend(file: string, flags: ModelFlags, io: Output): FrontendResult | null {
  const size = resizeFlag(flags.resize);
  if (!size) return frontend(file, modelOption(flags), io);
  // A first analysis finds the declared input's channels (elaboration is enough: the model may
  // only be valid at the new size); the second, at the new size, reports.
  const probe = analyze(file, readSource(file), modelOption(flags)).graph;
  const declared = probe?.nodes.find((n) => n.op === 'input')?.attrs as { shape: readonly number[] } | undefined;
  const shape = declared?.shape ?? null;
  // Not an image model: the data check names the mismatch.
  const input = shape?.length === 3 ? { inputShape: [shape[0]!, ...size] } : {};
  return frontend(file, { ...modelOption(flags), ...input }, io);
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

/** Compiles the model for the GPU; on diagnostics prints them and returns null (the caller exits 1). */
export async function compileModel(file: string, front: FrontendResult, options: CompileOptions, io: Output): Promise<Model | null> {
  try {
    // The shape the front end checked (the model's input, or --resize's).
    return await compile(front.file.text, { path: file, inputShape: sampleShape(front), ...options });
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return null;
  }
}
