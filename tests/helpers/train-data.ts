// Small deterministic data sets for trainer tests: sine inputs, in order, with class labels or
// regression targets.
import type { TrainBatch, TrainData } from '../../runtime/train/data.ts';

/** `labels`: class `index % labels` (i32); `values`: that many cosines a sample (f32). */
export type Targets = { readonly labels: number } | { readonly values: number };

/** `count` samples of `sampleShape`, sample i holding sin(i * size + j). */
export function sineData(count: number, sampleShape: readonly number[], targets: Targets): TrainData {
  const per = sampleShape.reduce((a, b) => a * b, 1);
  return {
    count,
    sampleShape,
    describe: `${count} samples`,
    files: [],
    nonFinite: null,
    *batches({ batchSize }): Iterable<TrainBatch> {
      for (let first = 0; first < count; first += batchSize) {
        const size = Math.min(batchSize, count - first);
        yield {
          size,
          x: Float32Array.from({ length: size * per }, (_, i) => Math.sin(first * per + i)),
          target:
            'labels' in targets
              ? Int32Array.from({ length: size }, (_, i) => (first + i) % targets.labels)
              : Float32Array.from({ length: size * targets.values }, (_, i) => Math.cos(first * targets.values + i)),
        };
      }
    },
  };
}
