// One epoch of mini-batches, as d2l's `DataLoader(dataset, batch_size, shuffle=..., drop_last=False)`
// yields them: every sample exactly once, the last batch partial when the count is not a multiple
// of the batch size. The order comes from a seeded PRNG so a run can be repeated (and resumed
// mid-training from a checkpoint): the same (seed, epoch) always gives the same order.
import type { Dataset } from './split.ts';
import { Mulberry32 } from '../random.ts';
import { DataError } from './idx-format.ts';
import { planResize, resizeInto, toUnitInto } from './resize.ts';

export interface BatchOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  /** Any integer; only its low 32 bits matter. */
  readonly seed: number;
  /** 0-based; mixed into the seed so every epoch has its own order. */
  readonly epoch: number;
  /** The first sample of the epoch's order to yield (a run resumed inside the epoch); default 0. */
  readonly from?: number;
  /** [height, width] to resize every image to (d2l's `resize=`), or null to keep the dataset's. */
  readonly resize: readonly [number, number] | null;
}

export interface Batch {
  /** [size, 1, h, w] float32 in [0, 1]: ToTensor's scaling, NCHW with one channel. */
  readonly images: Float32Array;
  /** [size] class indices. */
  readonly labels: Int32Array;
  readonly size: number;
}

/** Murmur3's 32-bit finaliser over seed and epoch, so nearby (seed, epoch) pairs start far apart. */
function mixSeed(seed: number, epoch: number): number {
  let h = (seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The sample order of one epoch: 0..count-1, Fisher-Yates shuffled by (seed, epoch) when shuffle
 * is set. floor(u * (i + 1)) from a 32-bit u is biased by at most count / 2^32 (1.4e-5 for 60000).
 */
export function epochOrder(count: number, shuffle: boolean, seed: number, epoch: number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  if (!shuffle) return order;
  const random = new Mulberry32(mixSeed(seed, epoch));
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * The batches of one epoch. Ownership: every batch is a view of two buffers allocated once per
 * call and refilled in place, so a batch is valid only until the iterator advances; copy it (or
 * upload it: GPUQueue.writeBuffer copies) before asking for the next.
 */
export function* epochBatches(ds: Dataset, options: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize, shuffle, seed, epoch, resize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new DataError(`batch size must be a positive integer, got ${batchSize}`);
  const [h, w] = resize ?? [ds.height, ds.width];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1)
    throw new DataError(`resize must be two positive integers, got [${h}, ${w}]`);
  const inPixels = ds.height * ds.width;
  const outPixels = h * w;
  // At the dataset size the filter is the identity: ToTensor alone.
  const plan = h === ds.height && w === ds.width ? null : planResize(ds.height, ds.width, h, w);
  const order = epochOrder(ds.count, shuffle, seed, epoch);
  const images = new Float32Array(batchSize * outPixels);
  const labels = new Int32Array(batchSize);
  for (let first = options.from ?? 0; first < ds.count; first += batchSize) {
    const size = Math.min(batchSize, ds.count - first);
    for (let b = 0; b < size; b++) {
      const sample = order[first + b]!;
      labels[b] = ds.labels[sample]!;
      if (plan) resizeInto(plan, ds.images, sample * inPixels, images, b * outPixels);
      else toUnitInto(ds.images, sample * inPixels, inPixels, images, b * outPixels);
    }
    yield size === batchSize
      ? { images, labels, size }
      : { images: images.subarray(0, size * outPixels), labels: labels.subarray(0, size), size };
  }
}
