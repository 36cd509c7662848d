// IDX reading and dataset discovery on small synthetic files, then the real Fashion-MNIST.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../runtime/errors.ts';
import { DEFAULT_DATA_DIR, loadDataset } from '../../runtime/data/dataset.ts';
import { DataError, IMAGES_MAGIC, LABELS_MAGIC, readIdxImages, readIdxLabels } from '../../runtime/data/idx.ts';
import { idxBytes } from '../helpers/idx.ts';

const root = mkdtempSync(join(tmpdir(), 'cnnc-idx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A fresh directory holding the given files. */
function dir(files: Record<string, Buffer>): string {
  const d = join(root, `d${dirs++}`);
  mkdirSync(d, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), bytes);
  }
  return d;
}

// Three 2x2 images with pixel values 0..11, labelled 2, 0, 9.
const pixels = Array.from({ length: 12 }, (_, i) => i * 20);
const images = idxBytes(IMAGES_MAGIC, [3, 2, 2], pixels);
const labels = idxBytes(LABELS_MAGIC, [3], [2, 0, 9]);

function failure(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('readIdxImages / readIdxLabels', () => {
  it('reads plain and gzipped files alike', () => {
    const d = dir({ 'a-idx3-ubyte': images, 'a-idx3-ubyte.gz': gzipSync(images), 'l-idx1-ubyte.gz': gzipSync(labels) });
    for (const name of ['a-idx3-ubyte', 'a-idx3-ubyte.gz']) {
      const r = readIdxImages(join(d, name));
      expect([r.count, r.height, r.width]).toEqual([3, 2, 2]);
      expect(Array.from(r.pixels)).toEqual(pixels);
    }
    expect(Array.from(readIdxLabels(join(d, 'l-idx1-ubyte.gz'), 10))).toEqual([2, 0, 9]);
  });

  it('rejects a bad magic, naming what the file is', () => {
    const d = dir({ labels: labels, junk: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]) });
    expect(failure(() => readIdxImages(join(d, 'labels'))).message).toBe(
      `${join(d, 'labels')} @ byte 0: bad magic 0x00000801, which is a label file (expected 0x00000803 for an image file)`,
    );
    expect(failure(() => readIdxLabels(join(d, 'junk'), 10)).message).toBe(
      `${join(d, 'junk')} @ byte 0: bad magic 0xdeadbeef (expected 0x00000801 for a label file)`,
    );
  });

  it('reports truncated and over-long files with the offset', () => {
    const short = images.subarray(0, images.length - 2);
    const d = dir({
      short,
      'short.gz': gzipSync(short),
      long: Buffer.concat([labels, Buffer.from([1, 1])]),
      header: images.subarray(0, 10),
    });
    expect(failure(() => readIdxImages(join(d, 'short'))).message).toBe(
      `${join(d, 'short')} @ byte 16: expected 3 images of 2x2 (12 bytes of pixels), file is truncated at 26`,
    );
    expect(failure(() => readIdxImages(join(d, 'short.gz'))).message).toBe(
      `${join(d, 'short.gz')} @ byte 16 (after gunzip): expected 3 images of 2x2 (12 bytes of pixels), file is truncated at 26`,
    );
    expect(failure(() => readIdxLabels(join(d, 'long'), 10)).message).toBe(
      `${join(d, 'long')} @ byte 11: expected 3 labels (3 bytes of labels), the file has 2 bytes more`,
    );
    expect(failure(() => readIdxImages(join(d, 'header'))).message).toBe(
      `${join(d, 'header')} @ byte 0: expected the 16-byte IDX header of an image file, the file has 10 bytes`,
    );
  });

  it('reports a file cut short at any byte, plain or gzipped, never a crash', () => {
    for (const whole of [images, gzipSync(images)]) {
      for (let length = 0; length < whole.length; length++) {
        const d = dir({ cut: whole.subarray(0, length) });
        failure(() => readIdxImages(join(d, 'cut')));
      }
    }
  });

  it('reports a corrupt gzip stream and a missing file', () => {
    const gz = gzipSync(images);
    const d = dir({ 'cut.gz': gz.subarray(0, gz.length - 12) });
    expect(failure(() => readIdxImages(join(d, 'cut.gz'))).message).toMatch(
      /cut\.gz: gzip data is corrupt or truncated \(.+\)$/,
    );
    expect(failure(() => readIdxImages(join(d, 'nope'))).message).toBe(
      `cannot read ${join(d, 'nope')}: no such file or directory`,
    );
  });

  it('rejects a label that is not a class', () => {
    const d = dir({ l: idxBytes(LABELS_MAGIC, [3], [2, 10, 1]) });
    expect(failure(() => readIdxLabels(join(d, 'l'), 10)).message).toBe(
      `${join(d, 'l')} @ byte 9: label 10 of sample 1 is not a class 0..9`,
    );
  });

  it('is a UserError, so the CLI prints one line and exits 1', () => {
    expect(new DataError('x')).toBeInstanceOf(UserError);
  });
});

describe('loadDataset', () => {
  it('finds Fashion-MNIST names, gzipped or not, and in torchvision raw/ folders', () => {
    const flat = dir({ 'train-images-idx3-ubyte': images, 'train-labels-idx1-ubyte.gz': gzipSync(labels) });
    const ds = loadDataset(flat, 'train');
    expect([ds.count, ds.height, ds.width]).toEqual([3, 2, 2]);
    expect(Array.from(ds.labels)).toEqual([2, 0, 9]);
    expect(ds.source).toBe(`${join(flat, 'train-images-idx3-ubyte')} + ${join(flat, 'train-labels-idx1-ubyte.gz')}`);
    expect(ds.files).toEqual([join(flat, 'train-images-idx3-ubyte'), join(flat, 'train-labels-idx1-ubyte.gz')]);
    const torchvision = dir({
      'FashionMNIST/raw/t10k-images.idx3-ubyte': images,
      'FashionMNIST/raw/t10k-labels.idx1-ubyte': labels,
    });
    expect(loadDataset(torchvision, 'test').count).toBe(3);
  });

  it('lists what it looked for when a file is missing', () => {
    const d = dir({ 'train-images-idx3-ubyte.gz': gzipSync(images) });
    expect(failure(() => loadDataset(d, 'train')).message).toBe(
      `no train labels found: looked for train-labels-idx1-ubyte.gz, train-labels-idx1-ubyte, train-labels.idx1-ubyte.gz, ` +
        `train-labels.idx1-ubyte in ${d}, ${join(d, 'FashionMNIST/raw')}, ${join(d, 'MNIST/raw')}`,
    );
    expect(failure(() => loadDataset(join(root, 'missing'), 'test')).message).toBe(
      `data directory ${join(root, 'missing')} does not exist`,
    );
  });

  it('rejects label and image counts that differ', () => {
    const d = dir({ 't10k-images-idx3-ubyte': images, 't10k-labels-idx1-ubyte': idxBytes(LABELS_MAGIC, [2], [1, 2]) });
    expect(failure(() => loadDataset(d, 'test')).message).toBe(
      `${join(d, 't10k-labels-idx1-ubyte')} has 2 labels but ${join(d, 't10k-images-idx3-ubyte')} has 3 images; they must pair one to one`,
    );
  });

  it('rejects a split of 0 images, naming its file (training would save untrained weights, validation divide by 0)', () => {
    for (const split of ['train', 'test'] as const) {
      const stem = split === 'train' ? 'train' : 't10k';
      const d = dir({
        [`${stem}-images-idx3-ubyte`]: idxBytes(IMAGES_MAGIC, [0, 2, 2], []),
        [`${stem}-labels-idx1-ubyte`]: idxBytes(LABELS_MAGIC, [0], []),
      });
      expect(failure(() => loadDataset(d, split)).message).toBe(
        `${join(d, `${stem}-images-idx3-ubyte`)} holds 0 images: the ${split} split needs at least one`,
      );
    }
  });

  const haveData = existsSync(DEFAULT_DATA_DIR);
  const skipped = haveData ? '' : ` (skipped: ${DEFAULT_DATA_DIR} is missing; apt install dataset-fashion-mnist)`;
  it.skipIf(!haveData)(`loads the real Fashion-MNIST test split${skipped}`, () => {
    const ds = loadDataset(DEFAULT_DATA_DIR, 'test');
    expect([ds.count, ds.height, ds.width]).toEqual([10000, 28, 28]);
    expect(ds.images.length).toBe(10000 * 28 * 28);
    const perClass = new Array<number>(10).fill(0);
    for (const l of ds.labels) perClass[l]!++;
    expect(perClass).toEqual(new Array(10).fill(1000)); // Fashion-MNIST's test split is balanced
  });
});
