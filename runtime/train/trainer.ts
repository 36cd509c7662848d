// The training loop: epochs of batches submitted without readbacks (loss and accuracy accumulate on
// the GPU), a readback about once a second for progress and divergence checks, and validation.
import { location } from '../../compiler/diagnostics/render.ts';
import { untrainableBatchNorms } from '../../compiler/shapes/infer.ts';
import type { Model } from '../model.ts';
import { UserError } from '../errors.ts';
import type { TrainData } from './train-data.ts';

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
 * uninterrupted run (from the epoch's batch losses, summed in float32 on the GPU in batch order).
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
  /**
   * The epoch's loss per sample (so far, when partial): its samples' losses summed over their number
   * (for `mse_sum`, each sample's sum), as d2l's Accumulator and validation count it.
   */
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
  /**
   * Training time of the epoch in this process and its throughput, the steady rate: validation,
   * compiling and the first step at each batch size (`compileSeconds`) left out; 0 when the epoch
   * ran nothing but such steps.
   */
  readonly seconds: number;
  readonly samplesPerSec: number;
  /**
   * Seconds spent compiling kernels for this epoch: the model's own before the first epoch the run
   * trains, the first step at each batch size (drivers may compile a pipeline at its first dispatch,
   * as lavapipe does: LeNet's first step takes seconds, the next ones milliseconds), and a short
   * batch's or validation's back end when first met.
   */
  readonly compileSeconds: number;
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
  /** Once, before training, when something about the run deserves a word (a last batch left out). */
  onWarning?(message: string): void;
  /**
   * Each step's loss per sample, read at the readbacks the loop makes anyway (about once a second,
   * and at an epoch's end) from the GPU's ring of step losses: batches `first`.. of `epoch`'s `batches`.
   */
  onStepLosses?(epoch: number, batches: number, first: number, losses: readonly number[]): void;
  /** Asked before every step: true stops training there, as `--steps` does (the playground's stop button). */
  shouldStop?(): boolean;
}

/** Training stopped on a NaN or infinite loss; weights from before it are what was last saved. */
export class DivergedError extends UserError {}

const READBACK_MS = 1000;

/**
 * Each epoch's last batch, when batch norm cannot train on it (one sample, where a layer has 1 value
 * per channel: `compile` refuses such a batch size, E0307): the size to leave out, as PyTorch's
 * DataLoader(drop_last=True) would (without it PyTorch stops in the first epoch's last batch); 0 when
 * every batch trains. Data that is nothing but that batch is refused.
 */
function untrainableLastBatch(model: Model, count: number, batchSize: number, hooks: TrainHooks): number {
  const last = count % batchSize;
  const layer = last > 0 ? untrainableBatchNorms(model.compiled.graph, last)[0] : undefined;
  if (layer === undefined) return 0;
  const where = `batch norm at ${location(layer.span)} cannot train on 1 value per channel`;
  if (count < batchSize)
    throw new UserError(`the data has ${count} sample${count === 1 ? '' : 's'}, and ${where}: train on 2 or more`);
  hooks.onWarning?.(
    `each epoch's last batch would hold ${last} sample${last === 1 ? '' : 's'} (${count} = ${Math.floor(count / batchSize)} x ${batchSize} + ${last}), and ${where}: ` +
      `that batch is left out of training (as DataLoader(drop_last=True)), ${last} of ${count} samples per epoch; another --batch-size trains on all`,
  );
  return last;
}

/**
 * A loss per sample from the GPU's running sum of batch losses, each the mean of its batch's samples
 * (for `mse_sum`, their sum): before a batch of another size (once, a short last batch) the sum is
 * read out, weighted by the batch size it holds, and reset. Over batches of one size this costs no
 * readback, and the mean of batch means (~2e-3 off with a short last batch) is avoided.
 */
class PerSampleLoss {
  private readonly model: Model;
  /** The size of the batches the GPU's sums hold (0: none yet). */
  private size: number;
  private flushed = 0;
  private flushedCorrect = 0;

  constructor(model: Model, size: number) {
    this.model = model;
    this.size = size;
  }

  private weight(size: number): number {
    return this.model.compiled.train.loss === 'mse_sum' ? 1 : size;
  }

  /** Call before running a batch of `size`. */
  async next(size: number): Promise<void> {
    if (size === this.size) return;
    if (this.size > 0) {
      const { lossSum, correct } = await this.model.metrics();
      this.flushed += lossSum * this.weight(this.size);
      this.flushedCorrect += correct ?? 0;
      this.model.resetMetrics();
    }
    this.size = size;
  }

  /** The summed loss and correct count so far, with the GPU's current sums (`model.metrics()`). */
  total(gpu: { lossSum: number; correct: number | null }): { loss: number; correct: number } {
    return {
      loss: this.flushed + gpu.lossSum * this.weight(this.size),
      correct: this.flushedCorrect + (gpu.correct ?? 0),
    };
  }
}

export async function train(
  model: Model,
  data: { train: TrainData; val: TrainData | null },
  recipe: TrainRecipe,
  hooks: TrainHooks = {},
): Promise<EpochReport[]> {
  const reports: EpochReport[] = [];
  const dropped = untrainableLastBatch(model, data.train.count, recipe.batchSize, hooks);
  const batches = Math.ceil((data.train.count - dropped) / recipe.batchSize);
  const firstEpoch = recipe.firstEpoch ?? 1;
  const stopHere = (): boolean =>
    (recipe.maxSteps !== null && model.steps >= recipe.maxSteps) || hooks.shouldStop?.() === true;
  // Compile time already reported: none yet, so the first epoch counts the model's own.
  let compileReported = 0;
  // Batch sizes that have trained a step in this run: the first step at each waits for compiles.
  const warm = new Set<number>();
  for (let epoch = firstEpoch; epoch <= recipe.epochs; epoch++) {
    // A resumed epoch starts where it stopped, its loss sum (of whole batches) as it was: train_loss
    // stays the mean over all its samples.
    const resumed = epoch === firstEpoch ? (recipe.position ?? null) : null;
    model.resetMetrics(resumed?.lossSum ?? 0);
    const tally = new PerSampleLoss(model, recipe.batchSize);
    const start = performance.now();
    const compileBefore = model.compileSeconds;
    // First steps at a batch size: their wall time and samples, and the back end's compile inside them.
    const first = { seconds: 0, samples: 0, compile: 0 };
    const steady = (now: number): { seconds: number; samplesPerSec: number } => {
      const seconds = Math.max(
        0,
        (now - start) / 1000 - first.seconds - (model.compileSeconds - compileBefore - first.compile),
      );
      return { seconds, samplesPerSec: seen > first.samples && seconds > 0 ? (seen - first.samples) / seconds : 0 };
    };
    let lastRead = start;
    let seen = 0;
    let done = resumed?.batches ?? 0;
    let checked = model.steps;
    /** The sizes of the batches since the last check: `mse_sum` losses are sums over them. */
    const sizes: number[] = [];
    const from = resumed?.samples ?? 0;
    const check = async (): Promise<{ lossSum: number; running: number }> => {
      const metrics = await model.metrics();
      const { lossSum } = metrics;
      const running = tally.total(metrics).loss / (from + seen);
      if (!Number.isFinite(running)) {
        // Every step's loss is kept on the GPU since the last check: name the first bad one.
        const losses = await model.stepLosses(checked, model.steps);
        const bad = losses ? losses.findIndex((l) => !Number.isFinite(l)) : -1;
        const value = bad >= 0 ? losses![bad]! : running;
        const where = bad >= 0 ? `at step ${checked + bad + 1}` : `between steps ${checked + 1} and ${model.steps}`;
        throw new DivergedError(
          `the loss became ${Number.isNaN(value) ? 'NaN' : 'infinite'} in epoch ${epoch} ${where} (steps count from 1 over the run); training stopped (lower the learning rate?)`,
        );
      }
      const losses = hooks.onStepLosses && sizes.length > 0 ? await model.stepLosses(checked, model.steps) : null;
      if (losses) {
        const perSample =
          model.compiled.train.loss === 'mse_sum' ? [...losses].map((l, i) => l / sizes[i]!) : [...losses];
        hooks.onStepLosses!(epoch, batches, done - losses.length, perSample);
      }
      sizes.length = 0;
      checked = model.steps;
      return { lossSum, running };
    };
    let stopped = false;
    for (const b of data.train.batches({
      batchSize: recipe.batchSize,
      shuffle: recipe.shuffle,
      seed: recipe.seed,
      epoch,
      from,
    })) {
      if (b.size === dropped) break;
      if (stopHere()) {
        stopped = true;
        break;
      }
      // Only a short last batch changes the size, so a stop (above) always leaves the GPU's loss sum
      // whole batches only, which is what a saved position holds.
      await tally.next(b.size);
      if (warm.has(b.size)) {
        (await model.withBatch(b.size, 'train')).trainStep(b.x, b.target);
      } else {
        // Timed to its end (one readback) and counted as compiling.
        const [t, c] = [performance.now(), model.compileSeconds];
        const m = await model.withBatch(b.size, 'train');
        m.trainStep(b.x, b.target);
        await m.lastLoss();
        warm.add(b.size);
        first.seconds += (performance.now() - t) / 1000;
        first.compile += model.compileSeconds - c;
        first.samples += b.size;
      }
      sizes.push(b.size);
      seen += b.size;
      done++;
      const now = performance.now();
      if (now - lastRead >= READBACK_MS) {
        // The readback also bounds how much work is queued on the device.
        const { running: runningLoss } = await check();
        lastRead = performance.now();
        hooks.onProgress?.({ epoch, batch: done, batches, ...steady(lastRead), runningLoss });
      }
    }
    if (seen === 0) break;
    // Read before validation, which reuses the GPU's loss sum.
    const { lossSum, running: trainLoss } = await check();
    const { seconds, samplesPerSec } = steady(performance.now());
    const val = data.val ? await validate(model, data.val, recipe.batchSize, recipe.valLimit ?? null) : null;
    const compileSeconds = model.compileSeconds - compileReported - first.compile + first.seconds;
    compileReported = model.compileSeconds;
    const limited = val !== null && val.samples < data.val!.count;
    const report: EpochReport = {
      epoch,
      steps: model.steps,
      trainLoss,
      ...(stopped ? { partial: { batch: done, batches } } : {}),
      valLoss: val?.loss ?? null,
      valAcc: val?.acc ?? null,
      ...(limited ? { valSamples: val.samples, valTotal: data.val!.count } : {}),
      seconds,
      samplesPerSec,
      compileSeconds,
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
 * split (PerSampleLoss).
 */
export async function validate(
  model: Model,
  data: TrainData,
  batchSize: number,
  limit: number | null = null,
): Promise<{ loss: number; acc: number | null; samples: number }> {
  const total = limit === null ? data.count : Math.min(limit, data.count);
  model.resetMetrics();
  const tally = new PerSampleLoss(model, 0);
  let used = 0;
  for (const b of data.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })) {
    if (used >= total) break;
    const size = Math.min(b.size, total - used);
    const x = size === b.size ? b.x : b.x.subarray(0, (b.x.length / b.size) * size);
    const target = size === b.size ? b.target : b.target.subarray(0, (b.target.length / b.size) * size);
    await tally.next(size);
    model.evaluateStep(x, target);
    used += size;
  }
  const { loss, correct } = tally.total(await model.metrics());
  return { loss: loss / used, acc: model.compiled.program.correct === null ? null : correct / used, samples: used };
}
