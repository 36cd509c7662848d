// What the training loop reads: an epoch's batches behind one interface. IDX image sets
// (Fashion-MNIST, MNIST) as such data, portable; train/data.ts opens files under Node.
import type { Pair } from '../../compiler/ir/ops.ts';
import { epochBatches } from '../data/batches.ts';
import type { Dataset, Split } from '../data/split.ts';

export interface TrainBatch {
  readonly x: Float32Array;
  /** Class indices (i32) for classification, else a tensor like the model's output. */
  readonly target: Int32Array | Float32Array;
  readonly size: number;
}

export interface EpochOptions {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly epoch: number;
  /** The first sample of the epoch's order to yield (a run resumed inside the epoch); default 0. */
  readonly from?: number;
}

export interface TrainData {
  readonly count: number;
  /** One sample's shape, e.g. [1, 28, 28]. */
  readonly sampleShape: readonly number[];
  readonly describe: string;
  /** The files read (commands never write over them). */
  readonly files: readonly string[];
  /** Which samples hold NaN or infinities (npy data only), or null: training on them can only diverge. */
  readonly nonFinite: string | null;
  batches(o: EpochOptions): Iterable<TrainBatch>;
}

/** A split of an IDX image set, resized to `resize` if given. */
export function idxData(ds: Dataset, split: Split, resize: Pair | null): TrainData {
  const [h, w] = resize ?? [ds.height, ds.width];
  return {
    count: ds.count,
    sampleShape: [1, h, w],
    describe: `${ds.source} (${split}, ${ds.count} images${resize ? `, resized to ${h}x${w}` : ''})`,
    files: ds.files,
    nonFinite: null,
    *batches(o) {
      for (const b of epochBatches(ds, { ...o, resize })) yield { x: b.images, target: b.labels, size: b.size };
    },
  };
}
