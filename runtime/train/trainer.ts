// The training loop: epochs of batches submitted without readbacks (loss and accuracy accumulate on
// the GPU), a readback about once a second for progress and divergence checks, and validation.
import type { Model } from '../model.ts';
import { UserError } from '../errors.ts';
import type { TrainData } from './data.ts';

export interface TrainRecipe {
  /** The last epoch to train (counting a resumed run's earlier epochs). */
  readonly epochs: number;
  /**
   * The epoch to start at (default 1). A resumed run continues its numbering, so each epoch's
   * shuffle order, report and divergence message are those of the uninterrupted run.
   */
  readonly firstEpoch?: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Stop after this many training steps in all (`--steps K`), inside an epoch if need be. */
  readonly maxSteps: number | null;
  /** Where in firstEpoch a resumed run stopped: it continues at the next sample of that epoch's order. */
  readonly position?: EpochPosition | null;
  /** Validate on the first this many samples of the validation split only (`--val-limit N`); null: all. */
  readonly valLimit?: number | null;
}

/**
 * Where a run stopped inside an epoch: what a checkpoint needs so that the resumed run trains the
 * rest of that epoch, in the same order, and reports the same train_loss for it as the
 * uninterrupted run (the epoch's mean batch loss, summed in float32 on the GPU in batch order).
 */
export interface EpochPosition {
  /** Samples of the epoch's order already trained. */
  readonly samples: number;
  /** Batches behind them, and the sum of their losses as the GPU accumulated it. */
  readonly batches: number;
  readonly lossSum: number;
}

export interface EpochReport {
  readonly epoch: number;
  /** Training steps run so far, in all. */
  readonly steps: number;
  /** Mean of this epoch's batch losses (so far, when partial). */
  readonly trainLoss: number;
  /**
   * Present when `--steps` stopped training inside the epoch: the batches done of the epoch's
   * batches. A resumed run continues that epoch and reports it again, whole, when it ends.
   */
  readonly partial?: { readonly batch: number; readonly batches: number };
  readonly valLoss: number | null;
  readonly valAcc: number | null;
  /** Present when validation used only the first valSamples of the split's valTotal samples (`--val-limit`). */
  readonly valSamples?: number;
  readonly valTotal?: number;
  /** Training time of the epoch in this process (validation excluded) and its throughput. */
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
  /** After every epoch, and after the partial one a `--steps` stop ends with (`position` then says where it stopped). */
  onEpoch?(r: EpochReport, position: EpochPosition | null): void | Promise<void>;
}

/** Training stopped on a NaN or infinite loss; weights from before it are what was last saved. */
export class DivergedError extends UserError {}

const READBACK_MS = 1000;

export async function train(model: Model, data: { train: TrainData; val: TrainData | null }, recipe: TrainRecipe, hooks: TrainHooks = {}): Promise<EpochReport[]> {
  const reports: EpochReport[] = [];
  const batches = Math.ceil(data.train.count / recipe.batchSize);
  const firstEpoch = recipe.firstEpoch ?? 1;
  const stopHere = (): boolean => recipe.maxSteps !== null && model.steps >= recipe.maxSteps;
  for (let epoch = firstEpoch; epoch <= recipe.epochs; epoch++) {
    // A resumed epoch starts where it stopped, its loss sum as it was: train_loss stays the mean over all its batches.
    const resumed = epoch === firstEpoch ? recipe.position ?? null : null;
    model.resetMetrics(resumed?.lossSum ?? 0);
    const start = performance.now();
    let lastRead = start;
    let seen = 0;
    let done = resumed?.batches ?? 0;
    let checked = model.steps;
    const check = async (): Promise<{ lossSum: number; running: number }> => {
      const { lossSum } = await model.metrics();
      const running = lossSum / done;
      if (!Number.isFinite(running)) {
        // Every step's loss is kept on the GPU since the last check: name the first bad one.
        const losses = await model.stepLosses(checked, model.steps);
        const bad = losses ? losses.findIndex((l) => !Number.isFinite(l)) : -1;
        const value = bad >= 0 ? losses![bad]! : running;
        const where = bad >= 0 ? `at step ${checked + bad + 1}` : `between steps ${checked + 1} and ${model.steps}`;
        throw new DivergedError(`the loss became ${Number.isNaN(value) ? 'NaN' : 'infinite'} in epoch ${epoch} ${where} (steps count from 1 over the run); training stopped (lower the learning rate?)`);
      }
      checked = model.steps;
      return { lossSum, running };
    };
    let stopped = false;
    const from = resumed?.samples ?? 0;
    for (const b of data.train.batches({ batchSize: recipe.batchSize, shuffle: recipe.shuffle, seed: recipe.seed, epoch, from })) {
      if (stopHere()) {
        stopped = true;
        break;
      }
      (await model.withBatch(b.size)).trainStep(b.x, b.target);
      seen += b.size;
      done++;
      const now = performance.now();
      if (now - lastRead >= READBACK_MS) {
        // The readback also bounds how much work is queued on the device.
        const { running: runningLoss } = await check();
        lastRead = performance.now();
        const seconds = (lastRead - start) / 1000;
        hooks.onProgress?.({ epoch, batch: done, batches, seconds, samplesPerSec: seen / seconds, runningLoss });
      }
    }
    if (seen === 0) break;
    // Read before validation, which reuses the GPU's loss sum.
    const { lossSum, running: trainLoss } = await check();
    const seconds = (performance.now() - start) / 1000;
    const val = data.val ? await validate(model, data.val, recipe.batchSize, recipe.valLimit ?? null) : null;
    const limited = val !== null && val.samples < data.val!.count;
    const report: EpochReport = {
      epoch, steps: model.steps, trainLoss, ...(stopped ? { partial: { batch: done, batches } } : {}),
      valLoss: val?.loss ?? null, valAcc: val?.acc ?? null,
      ...(limited ? { valSamples: val.samples, valTotal: data.val!.count } : {}), seconds, samplesPerSec: seen / seconds,
    };
    reports.push(report);
    await hooks.onEpoch?.(report, stopped ? { samples: from + seen, batches: done, lossSum } : null);
    if (stopped || stopHere()) break;
  }
  return reports;
}

/**
 * Evaluation-mode loss and accuracy over a split, accumulated on the GPU: over all of it, or over its
 * first `limit` samples in order (the last batch cut short). `samples` says how many were used.
 * The loss is the sum of the samples' losses over their number, as PyTorch's mean over the whole
 * split: a batch's loss is the mean of its samples' (for `mse_sum`, their sum), so the GPU's running
 * sum of batch losses is read out and weighted by the batch size whenever the size changes (once,
 * before a short last batch). The mean of the batch means was ~2e-3 off with a short last batch.
 */
export async function validate(model: Model, data: TrainData, batchSize: number, limit: number | null = null): Promise<{ loss: number; acc: number | null; samples: number }> {
  const total = limit === null ? data.count : Math.min(limit, data.count);
  const summed = model.compiled.train.loss === 'mse_sum';
  let lossTotal = 0;
  let correctTotal = 0;
  let runSize = 0;
  const flush = async (): Promise<void> => {
    if (runSize === 0) return;
    const { lossSum, correct } = await model.metrics();
    lossTotal += summed ? lossSum : lossSum * runSize;
    correctTotal += correct ?? 0;
    model.resetMetrics();
  };
  model.resetMetrics();
  let used = 0;
  for (const b of data.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })) {
    if (used >= total) break;
    const size = Math.min(b.size, total - used);
    const x = size === b.size ? b.x : b.x.subarray(0, (b.x.length / b.size) * size);
    const target = size === b.size ? b.target : b.target.subarray(0, (b.target.length / b.size) * size);
    if (size !== runSize) {
      await flush();
      runSize = size;
    }
    (await model.withBatch(size)).evaluateStep(x, target);
    used += size;
  }
  await flush();
  return { loss: lossTotal / used, acc: model.compiled.program.correct === null ? null : correctTotal / used, samples: used };
}
