// What cnnc hands the peers so the three frameworks train the same thing: its initial weights (a
// PyTorch state_dict in safetensors, as `cnnc train --save` writes) and one fixed batch. Equal
// weights and data make the first losses comparable number for number, a check that the peers
// implement the same model and that the timings compare like with like.
import path from 'node:path';
import { writeCheckpoint, readCheckpoint, type StoredTensor } from '../runtime/train/checkpoint.ts';
import { Mulberry32 } from '../runtime/random.ts';
import type { Model } from '../runtime/model.ts';
import { saveWeights } from '../runtime/train/state-dict.ts';
import type { Workload } from './workloads.ts';

/** The job a peer process gets as its one JSON argument. */
export interface PeerJob {
  readonly workload: Workload;
  readonly weights: string;
  readonly batch: string;
}

export interface Batch {
  /** [batch, 1, size, size], values in [0, 1) like normalised pixels. */
  readonly x: Float32Array;
  readonly y: Int32Array;
}

/** Timing does not depend on the pixels, so a seeded random batch stands in for Fashion-MNIST. */
export function makeBatch(w: Workload, seed = 1): Batch {
  const random = new Mulberry32(seed);
  const x = Float32Array.from({ length: w.batch * w.size * w.size }, () => random.next());
  const y = Int32Array.from({ length: w.batch }, () => Math.floor(random.next() * w.classes));
  return { x, y };
}

/** Writes the model's current weights and the batch into dir; returns the peers' job. */
export async function writeJob(dir: string, w: Workload, model: Model, batch: Batch): Promise<PeerJob> {
  const job = {
    workload: w,
    weights: path.join(dir, `${w.name}.weights.safetensors`),
    batch: path.join(dir, `${w.name}.batch.safetensors`),
  };
  await saveWeights(model, job.weights);
  const tensors = new Map<string, StoredTensor>([
    ['x', { dtype: 'F32', shape: [w.batch, 1, w.size, w.size], data: batch.x }],
    ['y', { dtype: 'I32', shape: [w.batch], data: batch.y }],
  ]);
  writeCheckpoint(job.batch, tensors);
  return job;
}

/** The weights (float32 ones: num_batches_tracked is left out) and the batch of a job. */
export function readJob(job: PeerJob): {
  weights: Map<string, { shape: readonly number[]; data: Float32Array }>;
  batch: Batch;
} {
  const weights = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, t] of readCheckpoint(job.weights).tensors)
    if (t.dtype === 'F32') weights.set(name, { shape: t.shape, data: t.data });
  const b = readCheckpoint(job.batch).tensors;
  const x = b.get('x');
  const y = b.get('y');
  if (x?.dtype !== 'F32' || y?.dtype !== 'I32') throw new Error(`${job.batch}: expected F32 x and I32 y`);
  return { weights, batch: { x: x.data, y: y.data } };
}
