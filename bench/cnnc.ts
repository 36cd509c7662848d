// cnnc's side of a workload: compile the .cnn file for the workload's batch and input size, hand
// the initial weights and batch to the peers, then time training steps.
import fs from 'node:fs';
import type { Gpu } from '../runtime/gpu/device.ts';
import { compile, type Model } from '../runtime/model.ts';
import { makeBatch, writeJob, type PeerJob } from './exchange.ts';
import { measure, type StepTiming } from './measure.ts';
import type { Workload } from './workloads.ts';

export interface CnncRun extends StepTiming {
  /** Dispatches per training step (one submit holds them all). */
  readonly kernels: number;
  readonly compileMs: number;
}

/** The workload's training step (SGD without momentum, cross-entropy, as the peers train), and its compile time. */
export async function compileWorkload(
  gpu: Gpu,
  w: Workload,
  source: string,
  options: { readonly fuse?: boolean } = {},
): Promise<{ model: Model; compileMs: number }> {
  const t0 = performance.now();
  const model = await compile(source, {
    path: w.file,
    gpu,
    batch: w.batch,
    inputShape: [1, w.size, w.size],
    optimizer: { kind: 'sgd', lr: w.lr, momentum: 0, weightDecay: 0 },
    loss: 'cross_entropy',
    ...options,
  });
  return { model, compileMs: performance.now() - t0 };
}

/**
 * The workload's step fused and with every op a kernel of its own (`--no-fuse`), both compiled
 * from the same seed (the same weights) and timed in alternating rounds.
 */
export async function benchCnnc(
  gpu: Gpu,
  w: Workload,
  dir: string,
): Promise<{ fused: CnncRun; unfused: CnncRun; job: PeerJob }> {
  const build = (fuse: boolean) => compileWorkload(gpu, w, fs.readFileSync(w.file, 'utf8'), { fuse });
  const variants = [await build(true), await build(false)];
  try {
    const { x, y } = makeBatch(w);
    const job = await writeJob(dir, w, variants[0]!.model, { x, y });
    const timings = await measure(
      variants.map(({ model }) => ({ step: () => model.trainStep(x, y), loss: () => model.lastLoss() })),
      w,
    );
    const [fused, unfused] = variants.map(({ model, compileMs }, i) => ({
      ...timings[i]!,
      kernels: model.compiled.kernels.train.length,
      compileMs,
    }));
    return { fused: fused!, unfused: unfused!, job };
  } finally {
    for (const { model } of variants) await model.dispose();
  }
}
