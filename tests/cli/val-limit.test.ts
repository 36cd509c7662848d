// `cnnc train --val-limit N`: validation on the first N test samples only, said so in the epoch line
// and the JSON log; the numbers equal a full validation on a test split holding just those N samples.
// A tiny model (4x4 images, one linear layer) on small synthetic IDX folders keeps it fast.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { cnnc } from '../helpers/cli.ts';
import { IMAGES_MAGIC, LABELS_MAGIC } from '../../runtime/data/idx.ts';
import { idxBytes } from '../helpers/idx.ts';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-val-limit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const model = join(tmp, 'tiny.cnn');
writeFileSync(
  model,
  `model Tiny {
  input [1, 4, 4]
  flatten
  linear(10)
}

train {
  data fashion_mnist
  batch 8  epochs 1
  optimizer sgd(lr = 0.1)
  loss cross_entropy
}
`,
);

const idx = (magic: number, dims: readonly number[], values: Uint8Array): Buffer =>
  gzipSync(idxBytes(magic, dims, values));

/** Deterministic pseudo-random 4x4 images and labels; sample i is the same in every folder. */
function sample(i: number): { pixels: Uint8Array; label: number } {
  const pixels = Uint8Array.from({ length: 16 }, (_, k) => (i * 97 + k * 31 + ((i * k) % 7) * 13) % 256);
  return { pixels, label: (i * 7 + 3) % 10 };
}

/** An IDX folder: `train` samples 0.., `test` samples 1000.. (the first `test` of them). */
function folder(name: string, train: number, test: number): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const [stem, first, count] of [
    ['train', 0, train],
    ['t10k', 1000, test],
  ] as const) {
    const s = Array.from({ length: count }, (_, i) => sample(first + i));
    writeFileSync(
      join(dir, `${stem}-images-idx3-ubyte.gz`),
      idx(IMAGES_MAGIC, [count, 4, 4], Uint8Array.from(s.flatMap((x) => [...x.pixels]))),
    );
    writeFileSync(
      join(dir, `${stem}-labels-idx1-ubyte.gz`),
      idx(LABELS_MAGIC, [count], Uint8Array.from(s.map((x) => x.label))),
    );
  }
  return dir;
}

interface Epoch {
  valLoss: number;
  valAcc: number;
  valSamples?: number;
  valTotal?: number;
}

function run(name: string, data: string, ...flags: string[]): { stdout: string; epoch: Epoch } {
  const log = join(tmp, `${name}.jsonl`);
  const r = cnnc('train', model, '--data', data, '--json-log', log, '--seed', '3', ...flags);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { stdout: r.stdout, epoch: JSON.parse(readFileSync(log, 'utf8').trim()) as Epoch };
}

describe('cnnc train --val-limit', () => {
  it('validates on the first N test samples, says so, and equals a test split of just those', {
    timeout: 120_000,
  }, () => {
    const full = folder('full', 40, 30);
    const first13 = folder('first13', 40, 13);
    const limited = run('limited', full, '--val-limit', '13');
    expect(limited.stdout).toContain('validating on the first 13 of 30 val samples only (--val-limit)');
    expect(limited.stdout).toMatch(
      /^epoch 1\/1 {2}train_loss [\d.]+ {2}val_loss [\d.]+ {2}val_acc [\d.]+ \(first 13 of 30 val samples\)/m,
    );
    expect(limited.epoch.valSamples).toBe(13);
    expect(limited.epoch.valTotal).toBe(30);

    // Same training (same train data and seed), validated in full on a split of those 13 samples.
    const small = run('small', first13);
    expect(small.stdout).not.toContain('val samples');
    expect(small.epoch.valSamples).toBeUndefined();
    expect(limited.epoch.valLoss).toBeCloseTo(small.epoch.valLoss, 6);
    expect(limited.epoch.valAcc).toBeCloseTo(small.epoch.valAcc, 9);
    expect(Number.isInteger(Math.round(limited.epoch.valAcc * 13 * 1e6) / 1e6)).toBe(true);

    // A limit at or above the split's size is no limit: nothing to flag.
    const all = run('all', full, '--val-limit', '30');
    const unlimited = run('unlimited', full);
    expect(all.stdout).not.toContain('val samples');
    expect(all.epoch.valSamples).toBeUndefined();
    expect(all.epoch.valLoss).toBeCloseTo(unlimited.epoch.valLoss, 6);
    expect(all.epoch.valAcc).toBeCloseTo(unlimited.epoch.valAcc, 9);
  });

  it.each(['0', '-3', '1.5', 'ten', ''])('rejects --val-limit=%j with a one-line error', (value) => {
    const r = cnnc('train', model, `--val-limit=${value}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`cnnc: --val-limit expects an integer >= 1, got '${value}'\n`);
  });

  it('refuses --val-limit on data without a validation split', () => {
    const r = cnnc('train', 'dsl-examples/corr2d.cnn', '--val-limit', '5');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('cnnc: --val-limit: this data has no validation split (npy data is not validated)\n');
  });
});

describe('cnnc train --resize', () => {
  it('resizes the data and the model: lazy layers infer their shapes at the new size', () => {
    const data = folder('resize', 16, 8);
    const save = join(tmp, 'resized.safetensors');
    const r = cnnc('train', model, '--data', data, '--resize', '6', '--steps', '2', '--save', save);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('resized to 6x6');
    // linear(10) after flatten sees 1 x 6 x 6 inputs, not the 4 x 4 of `input [1, 4, 4]`.
    expect(readCheckpoint(save).tensors.get('1.weight')!.shape).toEqual([10, 36]);
  });

  it('accepts a model that is only valid at the new size', () => {
    const big = join(tmp, 'needs-6.cnn');
    // A 5x5 kernel does not fit the declared 4x4 input; it does fit 6x6.
    writeFileSync(big, readFileSync(model, 'utf8').replace('  flatten', '  conv(2, kernel = 5)\n  flatten'));
    expect(cnnc('train', big, '--data', folder('resize-big', 8, 4), '--steps', '1').code).toBe(1);
    const r = cnnc('train', big, '--data', join(tmp, 'resize-big'), '--resize', '6', '--steps', '1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
