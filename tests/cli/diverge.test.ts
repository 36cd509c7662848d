// A training run whose loss overflows stops with the epoch and the exact step of the first
// non-finite loss, exit code 1 and no stack trace, and leaves the last epoch's checkpoint intact.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc } from '../helpers/cli.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-diverge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string): string => join(tmp, name);

it('stops at the first non-finite loss, naming epoch and step, with the last good checkpoint intact', () => {
  // Summed squared error with lr 1 on inputs near 1: every step multiplies the error by ~50, so the
  // loss passes float32's range within the second epoch of 8 one-sample steps.
  writeNpy(
    at('x.npy'),
    [8, 1, 4, 4],
    Float32Array.from({ length: 128 }, (_, i) => 1 + 0.1 * Math.sin(i)),
  );
  writeNpy(at('y.npy'), [8, 1, 4, 3], new Float32Array(96));
  writeFileSync(
    at('m.cnn'),
    'model M {\n  input [1, 4, 4]\n  conv(1, kernel = (1, 2))\n}\n' +
      'train {\n  data npy(inputs = "x.npy", targets = "y.npy")\n  loss mse_sum\n  optimizer sgd(lr = 1.0)\n  batch 1  epochs 5\n}\n',
  );
  const run = (...flags: string[]) =>
    cnnc('train', at('m.cnn'), '--no-shuffle', '--save', at('w.safetensors'), ...flags);

  const r = run();
  expect(r.code).toBe(1);
  const m =
    /^cnnc: the loss became (NaN|infinite) in epoch (\d+) at step (\d+) \(steps count from 1 over the run\); training stopped \(lower the learning rate\?\)\n$/.exec(
      r.stderr,
    );
  expect(m, r.stderr).not.toBeNull();
  const [epoch, step] = [Number(m![2]), Number(m![3])];
  expect(epoch).toBeGreaterThan(1);
  expect(step).toBeGreaterThan((epoch - 1) * 8);
  expect(step).toBeLessThanOrEqual(epoch * 8);
  expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  // The checkpoint is the one written after the last complete epoch, and finite.
  const saved = readCheckpoint(at('w.safetensors'));
  expect(saved.tensors.get('0.weight')!.data.every((v) => Number.isFinite(v))).toBe(true);
  expect(readCheckpoint(at('w.optim.safetensors')).metadata).toMatchObject({ epoch: String(epoch - 1) });
  expect(r.stdout).toMatch(new RegExp(`^epoch ${epoch - 1}/5 `, 'm'));

  // The step is exactly the first bad one: stopping one step earlier trains without complaint.
  expect(run('--steps', String(step - 1)).code).toBe(0);
  expect(run('--steps', String(step)).stderr).toContain(`at step ${step} `);
});
