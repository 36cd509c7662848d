// `cnnc train` as a user runs it. d2l 7.2: learning the edge kernel from X (6x8, columns 2..5 zero)
// and Y = corr2d(X, [1, -1]) with summed squared error, lr 3e-2, from given start weights; each
// step's loss is checked against float64 gradient descent (rtol 1e-4) and the kernel ends near [1, -1].
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cnnc, root } from '../helpers/cli.ts';
import { readCheckpoint, writeCheckpoint } from '../../runtime/train/checkpoint.ts';
import { readNpy } from '../../runtime/data/npy.ts';
import * as ops from '../../runtime/reference/ops.ts';
import { tensor } from '../../runtime/reference/tensor.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Plain gradient descent on sum((conv(X, w) - Y)^2) in float64: the loss before each step. */
function referenceLosses(w0: number[], steps: number, lr: number): number[] {
  const x = readNpy(join(root, 'dsl-examples/data/edge-x.npy'));
  const y = readNpy(join(root, 'dsl-examples/data/edge-y.npy'));
  const X = tensor(x.shape, x.data);
  const Y = tensor(y.shape, y.data);
  const attrs = {
    outChannels: 1,
    kernel: [1, 2],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    groups: 1,
    bias: false,
  } as const;
  let w = tensor([1, 1, 1, 2], w0);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const out = ops.conv2d(X, w, null, attrs);
    losses.push(ops.mseSum(out, Y));
    const { dw } = ops.conv2dBackward(X, w, ops.mseSumBackward(out, Y), attrs);
    w = tensor(
      w.shape,
      w.data.map((v, j) => v - lr * dw.data[j]!),
    );
  }
  return losses;
}

describe('cnnc train: d2l 7.2 learning a kernel', () => {
  it('follows float64 gradient descent step for step and learns [1, -1]', () => {
    const init = join(tmp, 'start.safetensors');
    writeCheckpoint(
      init,
      new Map([['0.weight', { dtype: 'F32', shape: [1, 1, 1, 2], data: Float32Array.of(0.25, 0.5) }]]),
    );
    const log = join(tmp, 'log.jsonl');
    const save = join(tmp, 'edge.safetensors');
    const r = cnnc('train', 'dsl-examples/corr2d.cnn', '--init', init, '--json-log', log, '--save', save);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('epoch 10/10');
    const losses = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { trainLoss: number }).trainLoss);
    const want = referenceLosses([0.25, 0.5], 10, 3e-2);
    expect(losses).toHaveLength(10);
    losses.forEach((l, i) => expect(Math.abs(l - want[i]!)).toBeLessThanOrEqual(1e-4 * want[i]! + 1e-6));
    expect(losses[9]!).toBeLessThan(losses[0]! / 100);
    const w = readCheckpoint(save).tensors.get('0.weight')!;
    const [w1, w2] = Array.from(w.data as Float32Array);
    expect(Math.abs(w1! - 1)).toBeLessThan(0.15);
    expect(Math.abs(w2! + 1)).toBeLessThan(0.15);
  });

  it('refuses a checkpoint whose tensors do not match the model, naming the tensor', () => {
    const bad = join(tmp, 'bad.safetensors');
    writeCheckpoint(bad, new Map([['0.weight', { dtype: 'F32', shape: [1, 1, 2, 2], data: new Float32Array(4) }]]));
    const r = cnnc('train', 'dsl-examples/corr2d.cnn', '--init', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tensor 0.weight has shape [1, 1, 2, 2], the model expects [1, 1, 1, 2]');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--lr', 'fast'], "--lr expects a number > 0 and at most 3.4028234663852886e+38 (float32), got 'fast'"],
    [['--optimizer', 'rmsprop'], "--optimizer must be sgd, adam or adamw, got 'rmsprop'"],
    [['--batch-size', '0'], '--batch-size expects an integer >= 1'],
  ])('rejects bad flags %j', (flags, message) => {
    const r = cnnc('train', 'dsl-examples/corr2d.cnn', ...flags);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });
});
