// Stopping and resuming training (`--save W` then `--resume W`). W stays a plain state_dict, so
// PyTorch's load_state_dict takes it as it is; what else a run needs to continue as if it had never
// stopped goes to a sibling file: the optimizer state named as torch.optim names it per parameter
// (`0.weight.momentum_buffer`, `0.weight.exp_avg`, `0.weight.exp_avg_sq`), and in its metadata the
// step count, the epoch, the settings that shape the run (optimizer, seed, batch, shuffle) and the
// curves so far.
import { existsSync } from 'node:fs';
import type { OptimizerConfig, OptimizerKind } from '../../compiler/ir/recipe.ts';
import type { ShapedGraph } from '../../compiler/ir/graph.ts';
import type { Model } from '../model.ts';
import { CheckpointError, expectTensors, readCheckpoint, writeCheckpoint, type Checkpoint, type StoredTensor } from './checkpoint.ts';
import type { CurvePoint } from './plot.ts';
import { floatTensor, readWeights, saveWeights, setWeights } from './state-dict.ts';

export interface SavedRun {
  /** Epochs and training steps done. */
  readonly epoch: number;
  readonly steps: number;
  readonly seed: number;
  readonly batch: number;
  readonly shuffle: boolean;
  readonly optimizer: Pick<OptimizerConfig, 'kind' | 'lr' | 'momentum' | 'weightDecay'>;
  readonly history: readonly CurvePoint[];
  /** The weights and the optimizer file, applied once the model is compiled. */
  readonly weights: Checkpoint;
  readonly state: Checkpoint;
}

/** `w.safetensors` -> `w.optim.safetensors`. */
export function optimPath(weights: string): string {
  return `${weights.replace(/\.safetensors$/, '')}.optim.safetensors`;
}

export async function saveRun(model: Model, path: string, run: Pick<SavedRun, 'epoch' | 'seed' | 'batch' | 'shuffle' | 'history'>): Promise<void> {
  const o = model.compiled.train.optimizer;
  const tensors = new Map<string, StoredTensor>();
  for (const { name, shape, data } of await model.getOptimizerState()) tensors.set(name, { dtype: 'F32', shape, data });
  writeCheckpoint(optimPath(path), tensors, {
    format: 'cnnc-optimizer', model: model.compiled.graph.model, steps: String(model.steps), epoch: String(run.epoch),
    optimizer: o.kind, lr: String(o.lr), momentum: String(o.momentum), weight_decay: String(o.weightDecay),
    seed: String(run.seed), batch: String(run.batch), shuffle: String(run.shuffle), history: JSON.stringify(run.history),
  });
  await saveWeights(model, path, { epoch: String(run.epoch) });
}

const isPoint = (p: unknown): p is CurvePoint =>
  typeof p === 'object' && p !== null && typeof (p as CurvePoint).epoch === 'number' && typeof (p as CurvePoint).trainLoss === 'number';

/**
 * Reads the run saved as weights `path` and the optimizer file beside it, checked against the model's
 * graph before anything is compiled; its settings become the resumed run's defaults.
 */
export function readRun(path: string, graph: ShapedGraph): SavedRun {
  const file = optimPath(path);
  if (!existsSync(path)) throw new CheckpointError(`cannot resume from ${path}: no such file`);
  if (!existsSync(file)) throw new CheckpointError(`cannot resume from ${path}: ${file}, the optimizer state that --save writes beside it, does not exist`);
  const state = readCheckpoint(file);
  const m = state.metadata;
  const bad = (key: string, what: string): CheckpointError =>
    new CheckpointError(`${file}: metadata ${key} is ${m[key] === undefined ? 'missing' : `'${m[key]}'`}, expected ${what} (was it written by cnnc train --save?)`);
  const number = (key: string, integer: boolean): number => {
    const v = Number(m[key]);
    if (m[key] === undefined || m[key] === '' || !Number.isFinite(v) || v < 0 || (integer && !Number.isSafeInteger(v))) throw bad(key, integer ? 'a count' : 'a number >= 0');
    return v;
  };
  if (m.model === undefined) throw bad('model', 'a model name');
  if (m.model !== graph.model) throw new CheckpointError(`${file}: holds the training state of model ${m.model}, not ${graph.model}`);
  const kind = m.optimizer;
  if (kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') throw bad('optimizer', 'sgd, adam or adamw');
  const steps = number('steps', true);
  const optimizer = { kind: kind as OptimizerKind, lr: number('lr', false), momentum: number('momentum', false), weightDecay: number('weight_decay', false) };
  if (m.shuffle !== 'true' && m.shuffle !== 'false') throw bad('shuffle', 'true or false');
  const run = { epoch: number('epoch', true), steps, seed: number('seed', true), batch: number('batch', true), shuffle: m.shuffle === 'true', optimizer };
  let history: unknown = null;
  try {
    history = JSON.parse(m.history ?? '');
  } catch {
    // reported below
  }
  if (!Array.isArray(history) || !history.every(isPoint)) throw bad('history', 'a JSON list of epochs');
  const weights = readWeights(graph, path);
  if (weights.metadata.steps !== String(steps)) throw new CheckpointError(`${path} (step ${weights.metadata.steps ?? 'unknown'}) and ${file} (step ${steps}) were not saved together`);
  return { ...run, history, weights, state };
}

/** Loads the weights, optimizer state and step count of a saved run into a model compiled for it. */
export function applyRun(model: Model, run: SavedRun): void {
  const { path: file } = run.state;
  const kind = model.compiled.train.optimizer.kind;
  if (run.optimizer.kind !== kind) throw new CheckpointError(`${file}: holds ${run.optimizer.kind} state, this run trains with ${kind} (resume without --optimizer)`);
  setWeights(model, run.weights);
  const expected = model.optimizerState();
  expectTensors(run.state, expected);
  model.setOptimizerState(new Map(expected.map((s) => [s.name, floatTensor(run.state, s.name)])));
  model.steps = run.steps;
}
