// The training loop: epochs of batches submitted without readbacks (loss and accuracy accumulate on
// the GPU), a readback about once a second for progress and divergence checks, and validation.
import type { Model } from '../model.ts';
import { UserError } from '../errors.ts';
import type { TrainData } from './data.ts';

export interface TrainRecipe {
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Stop after this many training steps in all (`--steps K`). */
  readonly maxSteps: number | null;
}

export interface EpochReport {
  readonly epoch: number;
  /** Training steps run so far, in all. */
  readonly steps: number;
  /** Mean of this epoch's batch losses. */
  readonly trainLoss: number;
  readonly valLoss: number | null;
  readonly valAcc: number | null;
  /** Training time of the epoch (validation excluded) and its throughput. */
  readonly seconds: number;
  readonly samplesPerSec: number;
}

export interface Progress {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly seconds: number;
  readonly samplesPerSec: number;
  readonly runningLoss: number;
}

export interface TrainHooks {
  onProgress?(p: Progress): void;
  onEpoch?(r: EpochReport): void | Promise<void>;
}

/** Training stopped on a NaN or infinite loss; weights from before it are what was last saved. */
export class DivergedError extends UserError {}

const READBACK_MS = 1000;

export async function train(model: Model, data: { train: TrainData; val: TrainData | null }, recipe: TrainRecipe, hooks: TrainHooks = {}): Promise<EpochReport[]> {
  const reports: EpochReport[] = [];
  const batches = Math.ceil(data.train.count / recipe.batchSize);
  for (let epoch = 1; epoch <= recipe.epochs; epoch++) {
    model.resetMetrics();
    const start = performance.now();
    let lastRead = start;
    let seen = 0;
    let done = 0;
    let checked = model.steps;
    const check = async (): Promise<number> => {
      const { lossSum } = await model.metrics();
      const running = lossSum / done;
      if (!Number.isFinite(running)) {
        throw new DivergedError(`the loss became ${Number.isNaN(running) ? 'NaN' : 'infinite'} in epoch ${epoch}, between steps ${checked + 1} and ${model.steps}; training stopped (lower the learning rate?)`);
      }
      checked = model.steps;
      return running;
    };
    for (const b of data.train.batches({ batchSize: recipe.batchSize, shuffle: recipe.shuffle, seed: recipe.seed, epoch })) {
      if (recipe.maxSteps !== null && model.steps >= recipe.maxSteps) break;
      (await model.withBatch(b.size)).trainStep(b.x, b.target);
      seen += b.size;
      done++;
      const now = performance.now();
      if (now - lastRead >= READBACK_MS) {
        // The readback also bounds how much work is queued on the device.
        const runningLoss = await check();
        lastRead = performance.now();
        const seconds = (lastRead - start) / 1000;
        hooks.onProgress?.({ epoch, batch: done, batches, seconds, samplesPerSec: seen / seconds, runningLoss });
      }
    }
    if (done === 0) break;
    const trainLoss = await check();
    const seconds = (performance.now() - start) / 1000;
    const val = data.val ? await validate(model, data.val, recipe.batchSize) : null;
    const report: EpochReport = {
      epoch, steps: model.steps, trainLoss, valLoss: val?.loss ?? null, valAcc: val?.acc ?? null, seconds, samplesPerSec: seen / seconds,
    };
    reports.push(report);
    await hooks.onEpoch?.(report);
    if (recipe.maxSteps !== null && model.steps >= recipe.maxSteps) break;
  }
  return reports;
}

/** Evaluation-mode loss and accuracy over a whole split, accumulated on the GPU. */
export async function validate(model: Model, data: TrainData, batchSize: number): Promise<{ loss: number; acc: number | null }> {
  model.resetMetrics();
  let n = 0;
  for (const b of data.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })) {
    (await model.withBatch(b.size)).evaluateStep(b.x, b.target);
    n++;
  }
  const { lossSum, correct } = await model.metrics();
  return { loss: lossSum / n, acc: correct === null ? null : correct / data.count };
}
