// The timing protocol shared by cnnc and tfjs (bench/pytorch.py repeats it in Python): warm-up
// steps, then rounds of steps that end in one loss readback. GPU frameworks queue work and return
// at once, so only a readback tells when the steps are done; reading back every step would time
// the round trip too, so a round's time is divided by its steps. The best round is reported: on a
// shared machine a round is only ever slowed by others (this one's lavapipe rounds jumped between
// ~49 and ~97 ms for the same LeNet step within one run), and every framework is reported alike.
import type { Workload } from './workloads.ts';

export interface StepTiming {
  /** The best round's milliseconds per step. */
  readonly stepMs: number;
  /** Milliseconds per step of every round, in order. */
  readonly roundsMs: readonly number[];
  /** Milliseconds of each warm-up step with its readback: the first holds lazy compiles and allocation. */
  readonly warmupMs: readonly number[];
  /** Loss of each warm-up step (same weights and batch in every framework: they must agree). */
  readonly losses: readonly number[];
}

export interface Trainer {
  /** Queues one training step on the workload's fixed batch. */
  step(): void | Promise<void>;
  /** Waits for the queued steps and returns the last step's loss. */
  loss(): Promise<number>;
}

/**
 * Times one trainer, or several in alternating rounds (the first of a round alternates too), so
 * that a drift in the machine's speed reaches each alike: measured one after the other, fused and
 * unfused ResNet-18 steps differed by 15% in three runs that, alternated, came out even.
 */
export async function measure(trainers: readonly Trainer[], w: Workload): Promise<StepTiming[]> {
  const runs = trainers.map(() => ({ losses: [] as number[], warmupMs: [] as number[], roundsMs: [] as number[] }));
  for (const [t, trainer] of trainers.entries()) {
    for (let i = 0; i < w.warmup; i++) {
      const t0 = performance.now();
      await trainer.step();
      // A readback per warm-up step: it records the loss and keeps compile stalls out of round 1.
      runs[t]!.losses.push(await trainer.loss());
      runs[t]!.warmupMs.push(performance.now() - t0);
    }
  }
  for (let r = 0; r < w.rounds; r++) {
    const order = trainers.map((_, t) => t);
    if (r % 2 === 1) order.reverse();
    for (const t of order) {
      const trainer = trainers[t]!;
      const t0 = performance.now();
      for (let i = 0; i < w.stepsPerRound; i++) await trainer.step();
      const last = await trainer.loss();
      runs[t]!.roundsMs.push((performance.now() - t0) / w.stepsPerRound);
      if (!Number.isFinite(last)) throw new Error(`loss became ${last} in timed round ${r + 1}`);
    }
  }
  return runs.map((run) => ({ stepMs: Math.min(...run.roundsMs), ...run }));
}
