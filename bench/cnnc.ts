// cnnc's side of a workload: compile the .cnn file for the workload's batch and input size, hand
// the initial weights and batch to the peers, then time training steps.
import fs from 'node:fs';
import type { Gpu } from '../runtime/gpu/device.ts';
import { compile } from '../runtime/model.ts';
import { makeBatch, writeJob, type PeerJob } from './exchange.ts';
import { measure, type StepTiming } from './measure.ts';
import type { Workload } from './workloads.ts';

export interface CnncRun extends StepTiming {
  /** Dispatches per training step (one submit holds them all). */
  readonly kernels: number;
  readonly compileMs: number;
}

/** `fuse: false` measures the same step with every op a kernel of its own (`--no-fuse`). */
export async function benchCnnc(gpu: Gpu, w: Workload, dir: string, fuse = true): Promise<{ run: CnncRun; job: PeerJob }> {
  const t0 = performance.now();
  const model = await compile(fs.readFileSync(w.file, 'utf8'), {
    path: w.file,
    gpu,
    batch: w.batch,
    inputShape: [1, w.size, w.size],
    optimizer: { kind: 'sgd', lr: w.lr, momentum: 0, weightDecay: 0 },
    loss: 'cross_entropy',
    fuse,
  });
  const compileMs = performance.now() - t0;
  try {
    const { x, y } = makeBatch(w);
    const job = await writeJob(dir, w, model, { x, y });
    const timing = await measure({ step: () => model.trainStep(x, y), loss: () => model.lastLoss() }, w);
    return { run: { ...timing, kernels: model.compiled.kernels.train.length, compileMs }, job };
  } finally {
    await model.dispose();
  }
}
