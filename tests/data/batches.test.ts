// The epoch iterator on a synthetic dataset whose pixels encode the sample index, so every batch
// can be traced back to the samples it holds.
import { describe, expect, it } from 'vitest';
import { epochBatches, epochOrder, type BatchOptions } from '../../runtime/data/batches.ts';
import type { Dataset } from '../../runtime/data/dataset.ts';
import { DataError } from '../../runtime/data/idx.ts';
import { planResize, resizeInto } from '../../runtime/data/resize.ts';

// 23 images of 2x3; pixel p of image i is 10 i + p (so the first pixel names the image), and
// its label is i % 10.
const COUNT = 23;
const ds: Dataset = {
  images: Uint8Array.from({ length: COUNT * 6 }, (_, k) => Math.floor(k / 6) * 10 + (k % 6)),
  labels: Uint8Array.from({ length: COUNT }, (_, i) => i % 10),
  count: COUNT,
  height: 2,
  width: 3,
  source: 'synthetic',
  files: [],
};
const base: BatchOptions = { batchSize: 5, shuffle: true, seed: 42, epoch: 0, resize: null };

/** The sample indices of every batch, read back from the pixels (copied: the buffers are reused). */
function samples(options: BatchOptions): number[][] {
  const out: number[][] = [];
  for (const b of epochBatches(ds, options)) {
    const pixels = b.images.length / b.size;
    const ids = Array.from({ length: b.size }, (_, i) => Math.round(b.images[i * pixels]! * 255) / 10);
    ids.forEach((id, i) => expect(b.labels[i]).toBe(id % 10));
    out.push(ids);
  }
  return out;
}

describe('epochBatches', () => {
  it('visits every sample exactly once and keeps the last partial batch (drop_last=False)', () => {
    const batches = samples(base);
    expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('starts at sample `from` of the epoch order: a run resumed inside an epoch gets the rest of it', () => {
    expect(samples({ ...base, from: 10 })).toEqual(samples(base).slice(2));
    // Resumed with another batch size, the rest of the order is the same samples.
    expect(samples({ ...base, from: 10, batchSize: 4 }).flat()).toEqual(samples(base).slice(2).flat());
  });

  it('keeps the dataset order without shuffle', () => {
    expect(samples({ ...base, shuffle: false }).flat()).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('gives the same order for the same seed and epoch, another for another epoch or seed', () => {
    const order = samples(base).flat();
    expect(samples(base).flat()).toEqual(order);
    expect(samples({ ...base, epoch: 1 }).flat()).not.toEqual(order);
    expect(samples({ ...base, seed: 43 }).flat()).not.toEqual(order);
  });

  it('gives every epoch a distinct permutation over many epochs', () => {
    const seen = new Set<string>();
    for (let epoch = 0; epoch < 50; epoch++) seen.add(epochOrder(1000, true, 7, epoch).join(','));
    expect(seen.size).toBe(50);
  });

  it('scales to [0, 1] and lays batches out as [b, 1, h, w]', () => {
    const [first] = epochBatches(ds, { ...base, shuffle: false, batchSize: 4 });
    expect(first!.images.length).toBe(4 * 1 * 2 * 3);
    expect(Array.from(first!.images.subarray(6, 12))).toEqual(
      [10, 11, 12, 13, 14, 15].map((v) => Math.fround(v / 255)),
    );
  });

  it('resizes every image with the shared plan', () => {
    const plan = planResize(2, 3, 4, 5);
    const expected = new Float32Array(20);
    for (const b of epochBatches(ds, { ...base, resize: [4, 5] })) {
      expect(b.images.length).toBe(b.size * 20);
      for (let i = 0; i < b.size; i++) {
        const id = Math.round(b.images[i * 20]! * 255) / 10;
        resizeInto(plan, ds.images, id * 6, expected, 0);
        expect(b.images.subarray(i * 20, (i + 1) * 20)).toEqual(expected);
      }
    }
  });

  it('refills the same buffers: a batch is valid until the next one', () => {
    const it = epochBatches(ds, base);
    const a = it.next().value!;
    const b = it.next().value!;
    expect(b.images).toBe(a.images);
    expect(b.labels).toBe(a.labels);
  });

  it('rejects a bad batch size or resize', () => {
    expect(() => epochBatches(ds, { ...base, batchSize: 0 }).next()).toThrow(
      new DataError('batch size must be a positive integer, got 0'),
    );
    expect(() => epochBatches(ds, { ...base, resize: [0, 4] }).next()).toThrow(
      new DataError('resize must be two positive integers, got [0, 4]'),
    );
  });
});
