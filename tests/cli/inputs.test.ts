// Inputs that used to crash a kernel or train silently on nonsense: float flags and resumed optimizer
// settings outside float32, class targets that are not classes, empty data, and NaN in data or
// weights. Each is a one-line exit 1 naming the flag, file or key, found before any GPU work (run
// in-process), except eval and predict on NaN, which compute and warn (checked on the GPU, tiny).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelFloat } from '../../compiler/ir/f32.ts';
import { parseCommandLine } from '../../runtime/cli/command-line.ts';
import { IMAGES_MAGIC, LABELS_MAGIC } from '../../runtime/data/idx.ts';
import { writeCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc, cnncInProcess } from '../helpers/cli.ts';
import { idxBytes } from '../helpers/idx.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...parts: string[]): string => join(tmp, ...parts);

/** A 3-class classifier of 2x2 images on x.npy / y.npy beside it (or on `data` when given). */
function classifier(name: string, data = 'npy(inputs = "x.npy", targets = "y.npy")'): string {
  const path = at(`${name}.cnn`);
  writeFileSync(
    path,
    `model M {\n  input [1, 2, 2]\n  flatten\n  linear(3)\n}\ntrain {\n  data ${data}\n  loss cross_entropy\n  optimizer sgd(lr = 0.1)\n  batch 2  epochs 1\n}\n`,
  );
  return path;
}
const model = classifier('m');
writeNpy(
  at('x.npy'),
  [4, 1, 2, 2],
  Float32Array.from({ length: 16 }, (_, i) => i / 16),
);
writeNpy(at('y.npy'), [4], Float32Array.of(0, 1, 2, 1));

/** Runs the CLI in-process; the case must end in exit 1 with one line on stderr and nothing on stdout. */
async function refused(...args: string[]): Promise<string> {
  const r = await cnncInProcess(...args);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(1);
  expect(r.stderr.split('\n')).toHaveLength(2);
  return r.stderr;
}

const F32 = '3.4028234663852886e+38';

describe('float flags that reach a kernel', () => {
  it.each([
    ['--lr=1e39', `--lr expects a number > 0 and at most ${F32} (float32), got '1e39'`],
    ['--lr=0', `--lr expects a number > 0 and at most ${F32} (float32), got '0'`],
    ['--lr=-0.1', `--lr expects a number > 0 and at most ${F32} (float32), got '-0.1'`],
    ['--lr=NaN', `--lr expects a number > 0 and at most ${F32} (float32), got 'NaN'`],
    ['--lr=', `--lr expects a number > 0 and at most ${F32} (float32), got ''`],
    ['--momentum=1e39', `--momentum expects a number >= 0 and at most ${F32} (float32), got '1e39'`],
    ['--momentum=-1', `--momentum expects a number >= 0 and at most ${F32} (float32), got '-1'`],
    ['--weight-decay=1e39', `--weight-decay expects a number >= 0 and at most ${F32} (float32), got '1e39'`],
    ['--weight-decay=Infinity', `--weight-decay expects a number >= 0 and at most ${F32} (float32), got 'Infinity'`],
  ])('train %s is refused before the model is read', async (flag, message) => {
    // The model does not exist: the flag is checked first.
    expect(await refused('train', at('absent.cnn'), flag)).toBe(`cnnc: ${message}\n`);
  });

  it('accepts every float32 in the domain, up to the largest', () => {
    const r = parseCommandLine([
      'train',
      'm.cnn',
      '--lr',
      '3.4028234663852886e38',
      '--momentum',
      '0',
      '--weight-decay',
      '0',
    ]);
    expect(r.kind === 'run' && r.flags).toEqual({ lr: 3.4028234663852886e38, momentum: 0, 'weight-decay': 0 });
    expect(kernelFloat(3.4028234663852886e38, 0)).toBeNull();
    // The next double above float32's largest value.
    expect(kernelFloat(3.402823466385289e38, 0)).not.toBeNull();
    expect(kernelFloat(-3.4028234663852886e38, -Infinity)).toBeNull();
    // The smallest normal float32 passes; below it a GPU may flush to zero, as the .cnn checks say too.
    expect(kernelFloat(1.1754943508222875e-38, 0, true)).toBeNull();
    expect(kernelFloat(1e-45, 0, true)).toMatch(/not below 1.1754943508222875e-38/);
  });
});

describe('optimizer settings read on --resume', () => {
  const meta = {
    model: 'M',
    steps: '2',
    epoch: '1',
    optimizer: 'sgd',
    lr: '0.1',
    momentum: '0',
    weight_decay: '0',
    seed: '0',
    batch: '2',
    shuffle: 'true',
    history: '[]',
  };
  it.each([
    ['lr', '1e39', `a number > 0 and at most ${F32} (float32)`],
    ['lr', '0', `a number > 0 and at most ${F32} (float32)`],
    ['momentum', 'Infinity', `a number >= 0 and at most ${F32} (float32)`],
    ['weight_decay', '1e39', `a number >= 0 and at most ${F32} (float32)`],
    ['batch', '0', 'a batch size >= 1'],
  ])('metadata %s %s is refused, naming the file and key', async (key, value, expected) => {
    const stem = at(`resume-${key}-${value}`);
    writeCheckpoint(
      `${stem}.safetensors`,
      new Map([
        ['1.weight', { dtype: 'F32', shape: [3, 4], data: new Float32Array(12) }],
        ['1.bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) }],
      ]),
      { model: 'M', steps: '2' },
    );
    writeCheckpoint(`${stem}.optim.safetensors`, new Map(), { ...meta, [key]: value });
    expect(await refused('train', model, '--epochs', '2', '--resume', `${stem}.safetensors`)).toBe(
      `cnnc: ${stem}.optim.safetensors: metadata ${key} is '${value}', expected ${expected} (was it written by cnnc train --save?)\n`,
    );
  });
});

describe('class targets of .npy data', () => {
  it.each([
    [200, '200'],
    [-1, '-1'],
    [2.5, '2.5'],
    [NaN, 'NaN'],
    [2 ** 40, '1099511627776'],
    [3, '3'],
  ])('target %s is refused, naming the file, the sample and the classes', async (bad, shown) => {
    const name = `labels-${shown}`;
    mkdirSync(at(name));
    writeNpy(at(name, 'x.npy'), [4, 1, 2, 2], new Float32Array(16));
    writeNpy(at(name, 'y.npy'), [4], Float32Array.of(0, 2, bad, 1));
    const m = classifier(`${name}/m`);
    expect(await refused('train', m)).toBe(
      `cnnc: ${at(name, 'y.npy')}: target ${shown} of sample 2 is not a class 0..2\n`,
    );
  });
});

describe('empty data', () => {
  /** An IDX folder with `train` and `test` 2x2 images. */
  function folder(name: string, train: number, test: number): string {
    const dir = at(name);
    mkdirSync(dir);
    for (const [stem, count] of [
      ['train', train],
      ['t10k', test],
    ] as const) {
      writeFileSync(
        join(dir, `${stem}-images-idx3-ubyte.gz`),
        gzipSync(idxBytes(IMAGES_MAGIC, [count, 2, 2], new Uint8Array(4 * count))),
      );
      writeFileSync(
        join(dir, `${stem}-labels-idx1-ubyte.gz`),
        gzipSync(idxBytes(LABELS_MAGIC, [count], new Uint8Array(count))),
      );
    }
    return dir;
  }
  const idxModel = classifier('idx', 'fashion_mnist');

  it('train with 0 training or 0 test images', async () => {
    const noTrain = folder('no-train', 0, 3);
    expect(await refused('train', idxModel, '--data', noTrain, '--save', at('z.safetensors'))).toBe(
      `cnnc: ${join(noTrain, 'train-images-idx3-ubyte.gz')} holds 0 images: the train split needs at least one\n`,
    );
    const noTest = folder('no-test', 3, 0);
    expect(await refused('train', idxModel, '--data', noTest)).toBe(
      `cnnc: ${join(noTest, 't10k-images-idx3-ubyte.gz')} holds 0 images: the test split needs at least one\n`,
    );
  });

  it('eval and predict name the empty file, not the model', async () => {
    const noTest = folder('eval-empty', 3, 0);
    expect(await refused('eval', idxModel, '--data', noTest, '--weights', at('unread.safetensors'))).toBe(
      `cnnc: ${join(noTest, 't10k-images-idx3-ubyte.gz')} holds 0 images: the test split needs at least one\n`,
    );
    const images = join(noTest, 't10k-images-idx3-ubyte.gz');
    expect(await refused('predict', idxModel, '--images', images, '--weights', at('unread.safetensors'))).toBe(
      `cnnc: ${images} holds 0 samples: nothing to predict\n`,
    );
  });
});

describe('non-finite data and weights', () => {
  const weights = (name: string, w: Float32Array): string => {
    const path = at(`${name}.safetensors`);
    writeCheckpoint(
      path,
      new Map([
        ['1.weight', { dtype: 'F32', shape: [3, 4], data: w }],
        ['1.bias', { dtype: 'F32', shape: [3], data: Float32Array.of(0, 0.5, -0.5) }],
      ]),
      { model: 'M' },
    );
    return path;
  };
  const finite = weights(
    'finite',
    Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 10),
  );
  const nan = weights(
    'nan',
    Float32Array.from({ length: 12 }, (_, i) => (i === 4 || i === 9 ? NaN : i / 10)),
  );
  mkdirSync(at('nan-data'));
  writeNpy(
    at('nan-data', 'x.npy'),
    [4, 1, 2, 2],
    Float32Array.from({ length: 16 }, (_, i) => (i === 13 ? Infinity : i / 16)),
  );
  writeNpy(at('nan-data', 'y.npy'), [4], Float32Array.of(0, 1, 2, 1));
  const nanModel = classifier('nan-data/m');

  it('training refuses NaN samples and NaN --init weights', async () => {
    expect(await refused('train', nanModel)).toBe(
      `cnnc: ${at('nan-data', 'x.npy')}: sample 3 has non-finite values (NaN or infinite): training on them would make every weight NaN\n`,
    );
    expect(await refused('train', model, '--init', nan)).toBe(
      `cnnc: ${nan}: non-finite values (NaN or infinite) in 1.weight (2 of 12): training on them would make every weight NaN\n`,
    );
  });

  it('eval and predict compute, warn on stderr naming the tensor or the sample, and exit 0', {
    timeout: 120_000,
  }, () => {
    const e = cnnc('eval', model, '--weights', nan);
    expect(e.stderr).toBe(
      `cnnc: warning: ${nan}: non-finite values (NaN or infinite) in 1.weight (2 of 12); the loss will be NaN\n`,
    );
    expect(e.stdout).toMatch(/val_loss NaN/);
    expect(e.code).toBe(0);

    const p = cnnc('predict', model, '--weights', finite, '--npy', at('nan-data', 'x.npy'), '--json');
    expect(p.stderr).toBe(
      `cnnc: warning: ${at('nan-data', 'x.npy')}: sample 3 has non-finite values (NaN or infinite); their predictions will be NaN\n`,
    );
    expect(p.code).toBe(0);
    const rows = JSON.parse(p.stdout) as { index: number; probability: number | null }[];
    // Samples 0-2 are finite; JSON writes sample 3's NaN probability as null.
    expect(rows.map((r) => r.probability === null || !Number.isFinite(r.probability))).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });
});
