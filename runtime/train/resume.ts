// Stopping and resuming training (`--save W` then `--resume W`). W stays a plain state_dict, so
// PyTorch's load_state_dict takes it as it is; what else a run needs to continue as if it had never
// stopped goes to a sibling file: the optimizer state named as torch.optim names it per parameter
// (`0.weight.momentum_buffer`, `0.weight.exp_avg`, `0.weight.exp_avg_sq`), and in its metadata the
// step count, the epoch, the settings that shape the run (optimizer, seed, batch, shuffle), the
// curves so far and, for a run stopped inside an epoch (`--steps`), where in it. The two files are
// saved as one pair (pair.ts): a crash at any instant leaves the previous pair or the new one.
import { existsSync } from 'node:fs';
import type { OptimizerConfig, OptimizerKind } from '../../compiler/ir/recipe.ts';
import type { ShapedGraph } from '../../compiler/ir/graph.ts';
import { kernelFloat } from '../../compiler/ir/f32.ts';
import type { Model } from '../model.ts';
import { CheckpointError, expectTensors, readCheckpoint, type Checkpoint, type StoredTensor } from './checkpoint.ts';
import { completePair, savedTogether, writePair } from './pair.ts';
import type { CurvePoint, StepPoint } from './plot.ts';
import { floatTensor, readWeights, setWeights, stateDict } from './state-dict.ts';
import type { EpochPosition } from './trainer.ts';

export interface SavedRun {
  /** Epochs and training steps done. */
  readonly epoch: number;
  readonly steps: number;
  readonly seed: number;
  readonly batch: number;
  readonly shuffle: boolean;
  readonly optimizer: Pick<OptimizerConfig, 'kind' | 'lr' | 'momentum' | 'weightDecay'>;
  readonly history: readonly CurvePoint[];
  /**
   * The train loss per group of steps (`--plot`'s step curve, StepCurve), so a resumed run redraws it
   * whole; [] where the run drew per-epoch points only, or was saved before step points existed.
   */
  readonly stepHistory: readonly StepPoint[];
  /** Where in epoch `epoch + 1` the run stopped (`--steps` inside an epoch); null at an epoch's end. */
  readonly position: EpochPosition | null;
  /** The weights and the optimizer file, applied once the model is compiled. */
  readonly weights: Checkpoint;
  readonly state: Checkpoint;
}

/** `w.safetensors` -> `w.optim.safetensors`. */
export function optimPath(weights: string): string {
  return `${weights.replace(/\.safetensors$/, '')}.optim.safetensors`;
}

/** The metadata keys of a position inside an epoch, written only for a run stopped inside one. */
const POSITION = { samples: 'epoch_samples', batches: 'epoch_batches', lossSum: 'epoch_loss_sum' } as const;

export async function saveRun(
  model: Model,
  path: string,
  run: Pick<SavedRun, 'epoch' | 'seed' | 'batch' | 'shuffle' | 'history' | 'stepHistory' | 'position'>,
): Promise<void> {
  const o = model.compiled.train.optimizer;
  const tensors = new Map<string, StoredTensor>();
  for (const { name, shape, data } of await model.getOptimizerState()) tensors.set(name, { dtype: 'F32', shape, data });
  const { model: name } = model.compiled.graph;
  const [steps, epoch] = [String(model.steps), String(run.epoch)];
  const p = run.position;
  const position = p
    ? {
        [POSITION.samples]: String(p.samples),
        [POSITION.batches]: String(p.batches),
        [POSITION.lossSum]: String(p.lossSum),
      }
    : {};
  writePair(
    { path, tensors: await stateDict(model), metadata: { format: 'pt', model: name, steps, epoch } },
    {
      path: optimPath(path),
      tensors,
      metadata: {
        format: 'cnnc-optimizer',
        model: name,
        steps,
        epoch,
        ...position,
        optimizer: o.kind,
        lr: String(o.lr),
        momentum: String(o.momentum),
        weight_decay: String(o.weightDecay),
        seed: String(run.seed),
        batch: String(run.batch),
        shuffle: String(run.shuffle),
        history: JSON.stringify(run.history),
        ...(run.stepHistory.length > 0 ? { step_history: JSON.stringify(run.stepHistory) } : {}),
      },
    },
  );
}

const isPoint = (p: unknown): p is CurvePoint & StepPoint =>
  typeof p === 'object' &&
  p !== null &&
  typeof (p as CurvePoint).epoch === 'number' &&
  typeof (p as CurvePoint).trainLoss === 'number';

/** A JSON list of points from the metadata, or null when it is not one. */
function points(text: string | undefined): (CurvePoint & StepPoint)[] | null {
  let list: unknown = null;
  try {
    list = JSON.parse(text ?? '');
  } catch {
    // null below
  }
  return Array.isArray(list) && list.every(isPoint) ? list : null;
}

/**
 * Reads the run saved as weights `path` and the optimizer file beside it, checked against the model's
 * graph before anything is compiled; its settings become the resumed run's defaults.
 */
export function readRun(path: string, graph: ShapedGraph): SavedRun {
  const file = optimPath(path);
  // A save interrupted between its two renames left W's new contents in a temporary: finish it.
  if (!existsSync(path)) completePair(path, file);
  if (!existsSync(path)) throw new CheckpointError(`cannot resume from ${path}: no such file`);
  if (!existsSync(file))
    throw new CheckpointError(
      `cannot resume from ${path}: ${file}, the optimizer state that --save writes beside it, does not exist`,
    );
  const state = readCheckpoint(file);
  const m = state.metadata;
  const bad = (key: string, what: string): CheckpointError =>
    new CheckpointError(
      `${file}: metadata ${key} is ${m[key] === undefined ? 'missing' : `'${m[key]}'`}, expected ${what} (was it written by cnnc train --save?)`,
    );
  const number = (key: string, integer: boolean): number => {
    const v = Number(m[key]);
    if (m[key] === undefined || m[key] === '' || !Number.isFinite(v) || v < 0 || (integer && !Number.isSafeInteger(v)))
      throw bad(key, integer ? 'a count' : 'a number >= 0');
    return v;
  };
  if (m.model === undefined) throw bad('model', 'a model name');
  if (m.model !== graph.model)
    throw new CheckpointError(`${file}: holds the training state of model ${m.model}, not ${graph.model}`);
  const kind = m.optimizer;
  if (kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') throw bad('optimizer', 'sgd, adam or adamw');
  const steps = number('steps', true);
  // They reach the update kernel as float32 literals, as the flags do.
  const float = (key: string, above: boolean): number => {
    const v = m[key] === undefined || m[key] === '' ? NaN : Number(m[key]);
    const expected = kernelFloat(v, 0, above);
    if (expected !== null) throw bad(key, expected);
    return v;
  };
  const optimizer = {
    kind: kind as OptimizerKind,
    lr: float('lr', true),
    momentum: float('momentum', false),
    weightDecay: float('weight_decay', false),
  };
  if (m.shuffle !== 'true' && m.shuffle !== 'false') throw bad('shuffle', 'true or false');
  const batch = number('batch', true);
  if (batch < 1) throw bad('batch', 'a batch size >= 1');
  const run = {
    epoch: number('epoch', true),
    steps,
    seed: number('seed', true),
    batch,
    shuffle: m.shuffle === 'true',
    optimizer,
  };
  const history = points(m.history);
  if (!history) throw bad('history', 'a JSON list of epochs');
  const stepHistory = m.step_history === undefined ? [] : points(m.step_history);
  if (!stepHistory) throw bad('step_history', 'a JSON list of step points');
  const position = readPosition(m, bad);
  let weights = readWeights(graph, path);
  if (!savedTogether(weights.metadata, m) && completePair(path, file)) weights = readWeights(graph, path);
  if (!savedTogether(weights.metadata, m))
    throw new CheckpointError(
      `${path} (step ${weights.metadata.steps ?? 'unknown'}) and ${file} (step ${steps}) were not saved together`,
    );
  return { ...run, history, stepHistory, position, weights, state };
}

function readPosition(
  m: Readonly<Record<string, string>>,
  bad: (key: string, what: string) => CheckpointError,
): EpochPosition | null {
  if (Object.values(POSITION).every((key) => m[key] === undefined)) return null;
  const value = (key: string, integer: boolean): number => {
    const v = Number(m[key]);
    if (
      m[key] === undefined ||
      m[key] === '' ||
      !Number.isFinite(v) ||
      (integer && (!Number.isSafeInteger(v) || v < 1))
    )
      throw bad(key, integer ? 'a count >= 1' : 'a finite number');
    return v;
  };
  return {
    samples: value(POSITION.samples, true),
    batches: value(POSITION.batches, true),
    lossSum: value(POSITION.lossSum, false),
  };
}

/** Loads the weights, optimizer state and step count of a saved run into a model compiled for it. */
export function applyRun(model: Model, run: SavedRun): void {
  const { path: file } = run.state;
  const kind = model.compiled.train.optimizer.kind;
  if (run.optimizer.kind !== kind)
    throw new CheckpointError(
      `${file}: holds ${run.optimizer.kind} state, this run trains with ${kind} (resume without --optimizer)`,
    );
  setWeights(model, run.weights);
  const expected = model.optimizerState();
  expectTensors(run.state, expected);
  model.setOptimizerState(new Map(expected.map((s) => [s.name, floatTensor(run.state, s.name)])));
  model.steps = run.steps;
}
