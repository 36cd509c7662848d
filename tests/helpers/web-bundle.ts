// What the `cnnc export --web` tests share: seeded weights for a model (wide enough that the
// classes' probabilities differ, unlike a fresh init's near-uniform ones), Fashion-MNIST test images
// as the bundle takes them, and `cnnc predict --json` as the reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { readIdxImages } from '../../runtime/data/idx.ts';
import { writeCheckpoint, type StoredTensor } from '../../runtime/train/checkpoint.ts';
import { cnnc, root } from './cli.ts';
import { createRng } from './random.ts';

export const TEST_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

/** A ResNet-style classifier with batch norm (eval: running statistics) and dropout (eval: identity). */
export const SMALL_RESNET = `block Residual(num_channels, use_1x1conv = false, strides = 1) {
  y = conv(num_channels, kernel = 3, padding = 1, stride = strides) -> batchnorm -> relu
    -> conv(num_channels, kernel = 3, padding = 1) -> batchnorm
  shortcut = if use_1x1conv { x -> conv(num_channels, kernel = 1, stride = strides) } else { x }
  relu(y + shortcut)
}

model SmallResNet(num_classes = 10) {
  input [1, 28, 28]
  conv(8, kernel = 3, padding = 1) -> batchnorm -> relu
  Residual(8)
  dropout(p = 0.3)
  Residual(16, use_1x1conv = true, strides = 2)
  adaptive_avgpool((1, 1)) -> flatten
  dropout(p = 0.5)
  linear(num_classes)
}

train {
  data fashion_mnist
  batch 32  epochs 1
  optimizer sgd(lr = 0.1)
  loss cross_entropy
}
`;

/**
 * Writes seeded weights for the model in `file` to `path`: weights uniform in +-3/sqrt(fan-in),
 * biases and batch norm's shift in +-0.5, its scale and running variance in [0.5, 1.5].
 */
export function seededWeights(file: string, path: string, seed: number): void {
  const front = analyze(file, readFileSync(file, 'utf8'));
  expect(front.diagnostics.all).toEqual([]);
  const rng = createRng(seed);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
  const tensors = new Map<string, StoredTensor>();
  for (const node of front.shaped!.nodes) {
    for (const p of node.params) {
      if (p.role === 'num_batches_tracked') {
        tensors.set(p.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(0n) });
        continue;
      }
      const n = p.shape.reduce((a, b) => a * b, 1);
      const positive = p.name.endsWith('running_var') || (node.op.startsWith('batchnorm') && p.role === 'weight');
      const bound = p.shape.length > 1 ? 3 / Math.sqrt(n / p.shape[0]!) : 0.5;
      const data = Float32Array.from({ length: n }, () => (positive ? uniform(0.5, 1.5) : uniform(-bound, bound)));
      tensors.set(p.name, { dtype: 'F32', shape: p.shape, data });
    }
  }
  writeCheckpoint(path, tensors);
}

/** The first `n` test images as the model's input, NCHW floats in [0, 1] (ToTensor). */
export function testImages(n: number): Float32Array {
  const images = readIdxImages(TEST_IMAGES);
  return Float32Array.from(images.pixels.subarray(0, n * images.height * images.width), (v) => v / 255);
}

export interface Predicted {
  readonly class: number;
  readonly top: readonly { readonly class: number; readonly probability: number }[];
}

/** `cnnc predict --json` on the first `n` test images. */
export function predictJson(file: string, weights: string, n: number): Predicted[] {
  const r = cnnc('predict', file, '--weights', weights, '--images', TEST_IMAGES, '--count', String(n), '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Predicted[];
}

/**
 * The bundle's probabilities against predict's: every top-3 probability to 1e-5, the same best
 * class, rows that sum to 1.
 */
export function expectSameProbabilities(probs: ArrayLike<number>, want: readonly Predicted[], classes: number): void {
  expect(probs.length).toBe(want.length * classes);
  want.forEach((row, i) => {
    const mine = Array.from(probs).slice(i * classes, (i + 1) * classes);
    for (const t of row.top) expect(Math.abs(mine[t.class]! - t.probability)).toBeLessThanOrEqual(1e-5);
    expect(mine.indexOf(Math.max(...mine))).toBe(row.class);
    expect(Math.abs(mine.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-5);
  });
}

/**
 * The reference's rows differ from sample to sample and from uniform: a bundle that ignored its
 * input or its weights would then fail expectSameProbabilities.
 */
export function expectInformative(want: readonly Predicted[], classes: number): void {
  expect(Math.max(...want.map((r) => r.top[0]!.probability))).toBeGreaterThan(1.5 / classes);
  expect(new Set(want.map((r) => r.top[0]!.probability.toFixed(4))).size).toBeGreaterThan(want.length / 2);
}

/** Exports `file` with `weights` to `out` through the CLI. */
export function exportWeb(file: string, weights: string, out: string, ...flags: string[]): void {
  const r = cnnc('export', file, '--web', out, '--weights', weights, ...flags);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

export const LENET = join(root, 'dsl-examples', 'lenet.cnn');
