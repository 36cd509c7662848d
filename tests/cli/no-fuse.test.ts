// `cnnc train --no-fuse` trains the same model as the default (fused) compile: the same losses
// epoch by epoch and the same final weights, within float32 reordering (rtol 1e-4), on a model
// where every training-step rule fires (`cnnc compile --emit fusion` on it: conv + bias + relu,
// residual add + relu, linear + sigmoid, and the gradients of those activations in the conv and
// linear input gradients and the max-pooling gradient).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc } from '../helpers/cli.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-nofuse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string): string => join(tmp, name);

it('--no-fuse trains to the same losses and weights as the fused default', () => {
  writeNpy(
    at('x.npy'),
    [16, 2, 8, 8],
    Float32Array.from({ length: 16 * 128 }, (_, i) => Math.sin(i * 0.37)),
  );
  writeNpy(
    at('y.npy'),
    [16, 3],
    Float32Array.from({ length: 48 }, (_, i) => Math.cos(i * 0.9)),
  );
  writeFileSync(
    at('m.cnn'),
    `model M {
  input [2, 8, 8]
  y = x -> conv(4, kernel = 3, padding = 1) relu -> conv(4, kernel = 3, padding = 1) -> batchnorm
  s = x -> conv(4, kernel = 1)
  relu(y + s)
  maxpool(2) flatten linear(6) sigmoid linear(3)
}
train {
  data npy(inputs = "x.npy", targets = "y.npy")
  loss mse_mean
  optimizer sgd(lr = 0.05, momentum = 0.9)
  batch 4  epochs 3  seed 5
}
`,
  );
  const run = (name: string, ...flags: string[]) => {
    const r = cnnc(
      'train',
      at('m.cnn'),
      '--json-log',
      at(`${name}.jsonl`),
      '--save',
      at(`${name}.safetensors`),
      ...flags,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const log = readFileSync(at(`${name}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { trainLoss: number; valLoss?: number });
    return { losses: log.map((e) => e.trainLoss), weights: readCheckpoint(at(`${name}.safetensors`)).tensors };
  };
  const fused = run('fused');
  const plain = run('plain', '--no-fuse');
  expect(fused.losses).toHaveLength(3);
  fused.losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(l) + 1e-6));
  for (const [name, t] of fused.weights) {
    if (t.dtype !== 'F32') continue;
    const u = plain.weights.get(name)!.data as Float32Array;
    (t.data as Float32Array).forEach((v, i) =>
      expect(Math.abs(v - u[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-4 * Math.abs(v) + 1e-5),
    );
  }
  // The model really trains: equal losses are not equal because nothing happened.
  expect(fused.losses[2]).not.toBeCloseTo(fused.losses[0]!, 3);
});
