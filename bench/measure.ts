// The timing protocol shared by cnnc and tfjs (bench/torch.py repeats it in Python): warm-up
// steps, then rounds of steps that end in one loss readback. GPU frameworks queue work and return
// at once, so only a readback tells when the steps are done; reading back every step would time
// the round trip too, so a round's time is divided by its steps and the median round is reported.
import type { Workload } from './workloads.ts';

export interface StepTiming {
  /** Median over rounds of the milliseconds per step. */
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

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function measure(trainer: Trainer, w: Workload): Promise<StepTiming> {
  const losses: number[] = [];
  const warmupMs: number[] = [];
  for (let i = 0; i < w.warmup; i++) {
    const t0 = performance.now();
    await trainer.step();
    // A readback per warm-up step: it records the loss and keeps compile stalls out of round 1.
    losses.push(await trainer.loss());
    warmupMs.push(performance.now() - t0);
  }
  const roundsMs: number[] = [];
  for (let r = 0; r < w.rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < w.stepsPerRound; i++) await trainer.step();
    const last = await trainer.loss();
    roundsMs.push((performance.now() - t0) / w.stepsPerRound);
    if (!Number.isFinite(last)) throw new Error(`loss became ${last} in timed round ${r + 1}`);
  }
  return { stepMs: median(roundsMs), roundsMs, warmupMs, losses };
}
