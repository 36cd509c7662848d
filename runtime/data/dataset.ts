// A split of an MNIST-style dataset (Fashion-MNIST, MNIST): finds the IDX image and label files in
// a directory, reads and cross-checks them. Everything stays u8 in memory (47 MB for the
// Fashion-MNIST train split); batches.ts converts to float per batch.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, readIdxImages, readIdxLabels } from './idx.ts';

/** Where Debian's dataset-fashion-mnist package installs the four gzipped IDX files. */
export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';

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

// The file stems of the original distribution (the test split is "t10k"); some mirrors spell
// "train-images.idx3-ubyte". torchvision's FashionMNIST/MNIST(root) keep them in <root>/<Class>/raw,
// so a d2l-style "../data" directory works as well.
const STEMS: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images', labels: 'train-labels' },
  test: { images: 't10k-images', labels: 't10k-labels' },
};
const SUBDIRS = ['', 'FashionMNIST/raw', 'MNIST/raw'];

function candidates(stem: string, rank: 1 | 3): string[] {
  const names = [`${stem}-idx${rank}-ubyte`, `${stem}.idx${rank}-ubyte`];
  return names.flatMap((n) => [`${n}.gz`, n]);
}

/** The first candidate file that exists in dir or its torchvision subdirectories. */
function find(dir: string, split: Split, stem: string, rank: 1 | 3): string {
  const names = candidates(stem, rank);
  for (const sub of SUBDIRS) {
    for (const name of names) {
      const path = join(dir, sub, name);
      if (existsSync(path)) return path;
    }
  }
  const where = SUBDIRS.map((s) => join(dir, s)).join(', ');
  throw new DataError(
    `no ${split} ${rank === 3 ? 'images' : 'labels'} found: looked for ${names.join(', ')} in ${where}`,
  );
}

/**
 * Loads the train or test split from dir (for Fashion-MNIST: DEFAULT_DATA_DIR). Throws DataError
 * when a file is missing or malformed, when it holds no images, when the label count differs from
 * the image count, or when a label is not below numClasses.
 */
export function loadDataset(dir: string, split: Split, numClasses = 10): Dataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`data directory ${dir} does not exist`);
  const imagesPath = find(dir, split, STEMS[split].images, 3);
  const labelsPath = find(dir, split, STEMS[split].labels, 1);
  const { count, height, width, pixels } = readIdxImages(imagesPath);
  // Training would save untrained weights, validation would divide by zero.
  if (count === 0) throw new DataError(`${imagesPath} holds 0 images: the ${split} split needs at least one`);
  const labels = readIdxLabels(labelsPath, numClasses);
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
