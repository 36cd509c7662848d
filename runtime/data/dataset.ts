// A split of an MNIST-style dataset (Fashion-MNIST, MNIST) from a directory under Node: finds the
// IDX image and label files, reads them and pairs them (split.ts).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, readIdxImages, readIdxLabels } from './idx.ts';
import { type Dataset, pairSplit, type Split, STEMS } from './split.ts';

export type { Dataset, Split } from './split.ts';

/** Where Debian's dataset-fashion-mnist package installs the four gzipped IDX files. */
export const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';

// Some mirrors spell "train-images.idx3-ubyte". torchvision's FashionMNIST/MNIST(root) keep the
// files in <root>/<Class>/raw, so a d2l-style "../data" directory works as well.
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

/** The image and label files of a split in dir (DataError when dir or a file is missing). */
export function splitFiles(dir: string, split: Split): { imagesPath: string; labelsPath: string } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`data directory ${dir} does not exist`);
  return { imagesPath: find(dir, split, STEMS[split].images, 3), labelsPath: find(dir, split, STEMS[split].labels, 1) };
}

/**
 * Loads the train or test split from dir (for Fashion-MNIST: DEFAULT_DATA_DIR). Throws DataError
 * when a file is missing or malformed, when it holds no images, when the label count differs from
 * the image count, or when a label is not below numClasses.
 */
export function loadDataset(dir: string, split: Split, numClasses = 10): Dataset {
  const { imagesPath, labelsPath } = splitFiles(dir, split);
  return pairSplit(split, readIdxImages(imagesPath), imagesPath, readIdxLabels(labelsPath, numClasses), labelsPath);
}
