// An epoch's short last batch (7 samples, batch 3: batches of 3, 3, 1). train_loss is the loss per
// sample, as validation's and d2l's Accumulator: it was the mean of the batch losses (for mse_sum
// about the batch size too large, and with a short last batch off for every loss). Batch norm over
// 1 value per channel cannot train (PyTorch refuses it): a last batch of 1 is left out with a warning.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc } from '../helpers/cli.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-last-batch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...parts: string[]): string => join(tmp, ...parts);

const N = 7;
const x = Float32Array.from({ length: N * 4 }, (_, i) => Math.sin(1.7 * i + 0.3));
writeNpy(at('x.npy'), [N, 4], x);
const labels = [0, 1, 2, 1, 0, 2, 1];
writeNpy(at('labels.npy'), [N], Float32Array.from(labels));
const targets = Float32Array.from({ length: N * 3 }, (_, i) => Math.cos(0.9 * i));
writeNpy(at('targets.npy'), [N, 3], targets);

function model(name: string, body: string, data: string, loss: string, lr = '1e-30'): string {
  const path = at(`${name}.cnn`);
  writeFileSync(
    path,
    `model M {\n  input [4]\n${body}}\ntrain {\n  data npy(inputs = "x.npy", targets = "${data}")\n  loss ${loss}\n  optimizer sgd(lr = ${lr})\n  batch 3  epochs 1\n}\n`,
  );
  return path;
}

/** Trains 1 epoch; returns the run's json-log record and the saved weights. */
function trainOnce(
  path: string,
  name: string,
): { record: { trainLoss: number; steps: number }; weights: Float64Array; bias: Float64Array; stderr: string } {
  const r = cnnc('train', path, '--json-log', at(`${name}.jsonl`), '--save', at(`${name}.safetensors`));
  expect(r.stderr.replace(/^cnnc: warning: .*\n/m, '')).toBe('');
  expect(r.code).toBe(0);
  const record = JSON.parse(readFileSync(at(`${name}.jsonl`), 'utf8').trim()) as { trainLoss: number; steps: number };
  const t = readCheckpoint(at(`${name}.safetensors`)).tensors;
  const f64 = (tensor: string): Float64Array => Float64Array.from(t.get(tensor)!.data as Float32Array);
  return { record, weights: f64('0.weight'), bias: f64('0.bias'), stderr: r.stderr };
}

/** The float64 logits of sample n under linear(3) with weight w [3, 4] and bias b. */
function logits(w: Float64Array, b: Float64Array, n: number): number[] {
  return [0, 1, 2].map((j) => b[j]! + [0, 1, 2, 3].reduce((s, k) => s + w[j * 4 + k]! * x[n * 4 + k]!, 0));
}

describe('train_loss with a short last batch', () => {
  // lr 1e-30 leaves every weight as initialised (an update far below a float32 ulp), so train_loss is
  // the saved weights' loss over the 7 samples: a float64 reference the test computes itself.
  it('cross_entropy: the mean over samples, not over the 3 batches (float64 reference, rtol 1e-5)', () => {
    const { record, weights, bias } = trainOnce(model('ce', '  linear(3)\n', 'labels.npy', 'cross_entropy'), 'ce');
    const perSample = labels.map((label, n) => {
      const z = logits(weights, bias, n);
      const max = Math.max(...z);
      return max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) - z[label]!;
    });
    const expected = perSample.reduce((a, b) => a + b, 0) / N;
    expect(record.steps).toBe(3);
    expect(Math.abs(record.trainLoss - expected) / expected).toBeLessThan(1e-5);
    // The mean of the batch means, which train_loss was, differs here by far more than the tolerance.
    const batchMeans = [perSample.slice(0, 3), perSample.slice(3, 6), perSample.slice(6)].map(
      (l) => l.reduce((a, b) => a + b, 0) / l.length,
    );
    expect(Math.abs(batchMeans.reduce((a, b) => a + b, 0) / 3 - expected) / expected).toBeGreaterThan(1e-3);
  });

  it("mse_sum: each sample's summed squared error, averaged over samples (float64 reference, rtol 1e-5)", () => {
    const { record, weights, bias } = trainOnce(model('mse', '  linear(3)\n', 'targets.npy', 'mse_sum'), 'mse');
    const perSample = Array.from({ length: N }, (_, n) =>
      logits(weights, bias, n).reduce((s, z, j) => s + (z - targets[n * 3 + j]!) ** 2, 0),
    );
    const expected = perSample.reduce((a, b) => a + b, 0) / N;
    expect(Math.abs(record.trainLoss - expected) / expected).toBeLessThan(1e-5);
  });
});

describe('batch norm and a last batch of 1', () => {
  const bn = model('bn', '  linear(4) -> batchnorm\n  relu\n  linear(3)\n', 'labels.npy', 'cross_entropy', '0.1');

  it('leaves that batch out of training with a warning, and evaluates at any batch', () => {
    const r = trainOnce(bn, 'bn');
    expect(r.stderr).toBe(
      `cnnc: warning: each epoch's last batch would hold 1 sample (7 = 2 x 3 + 1), and batch norm at ${bn}:3:16 cannot train on 1 value per channel: ` +
        'that batch is left out of training (as DataLoader(drop_last=True)), 1 of 7 samples per epoch; another --batch-size trains on all\n',
    );
    expect(r.record.steps).toBe(2);
    // Evaluation uses the running statistics: a batch of 1 (every batch, or the last) is fine and
    // gives what one batch of all 7 gives.
    const loss = (batch: string): number => {
      const e = cnnc('eval', bn, '--weights', at('bn.safetensors'), '--batch-size', batch, '--json');
      expect(e.code).toBe(0);
      return (JSON.parse(e.stdout) as { loss: number }).loss;
    };
    const whole = loss('7');
    for (const batch of ['1', '3']) expect(Math.abs(loss(batch) - whole)).toBeLessThan(1e-6 * Math.max(1, whole));
  });

  it('refuses data that is only that batch, and a batch size of 1 (E0307)', () => {
    writeNpy(at('x1.npy'), [1, 4], x.subarray(0, 4));
    writeNpy(at('y1.npy'), [1], Float32Array.of(0));
    const one = at('bn-one.cnn');
    writeFileSync(one, readFileSync(bn, 'utf8').replace('"x.npy"', '"x1.npy"').replace('"labels.npy"', '"y1.npy"'));
    const r = cnnc('train', one);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `cnnc: the data has 1 sample, and batch norm at ${one}:3:16 cannot train on 1 value per channel: train on 2 or more\n`,
    );
    const b1 = cnnc('train', bn, '--batch-size', '1');
    expect(b1.code).toBe(1);
    expect(b1.stderr).toContain(`${bn}:3:16: error[E0307]`);
  });
});
