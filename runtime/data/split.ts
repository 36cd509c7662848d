// A split of an MNIST-style dataset (Fashion-MNIST, MNIST): its image and label files read and
// cross-checked. Everything stays u8 in memory (47 MB for the Fashion-MNIST train split);
// batches.ts converts to float per batch. Portable: dataset.ts finds the files under Node, the
// playground fetches them.
import { DataError, type IdxImages } from './idx-format.ts';

export type Split = 'train' | 'test';

export interface Dataset {
  /** u8 pixels [count, height, width], row-major. */
  readonly images: Uint8Array;
  /** u8 class indices [count], each below the numClasses given to loadDataset. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** The image and label files it was read from, for logs and messages. */
  readonly source: string;
  /** The same files, each a path (commands never write over them). */
  readonly files: readonly string[];
}

// The file stems of the original distribution (the test split is "t10k").
export const STEMS: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images', labels: 'train-labels' },
  test: { images: 't10k-images', labels: 't10k-labels' },
};

/**
 * The split of `images` and `labels` (read from the files named): refused when it holds no images
 * or when the label count differs from the image count.
 */
export function pairSplit(
  split: Split,
  images: IdxImages,
  imagesPath: string,
  labels: Uint8Array,
  labelsPath: string,
): Dataset {
  const { count, height, width, pixels } = images;
  // Training would save untrained weights, validation would divide by zero.
  if (count === 0) throw new DataError(`${imagesPath} holds 0 images: the ${split} split needs at least one`);
  if (labels.length !== count) {
    throw new DataError(
      `${labelsPath} has ${labels.length} labels but ${imagesPath} has ${count} images; they must pair one to one`,
    );
  }
  return {
    images: pixels,
    labels,
    count,
    height,
    width,
    source: `${imagesPath} + ${labelsPath}`,
    files: [imagesPath, labelsPath],
  };
}
