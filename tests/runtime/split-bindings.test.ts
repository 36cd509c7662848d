// Tensors past the storage binding size (compiler/codegen/lower/slices.ts and dense.ts): with the
// device's limits lowered, small models train with their activations in batch slices, their
// linear weights in row blocks, the optimizer in chunks and their weights and work spread over
// several buffers, and match the same models trained whole on the same device; VGG-11's real
// first layer ([4096, 25088], 392 MiB) trains split at the real 128 MiB, against float64.
//
// Split against whole, tolerance: losses rtol 1e-6; each parameter |split - whole| <= 1e-6 *
// max |whole| of that tensor, and with Adam also up to 1e-4 of its largest possible move (lr a
// step). Not bit-exact, because sums run in another order: a weight gradient over batch slices
// adds the slices' sums (and split-K picks its partitions per slice's depth), and a split linear
// layer's input gradient adds its row blocks' products one dispatch at a time. SGD moves a weight
// in proportion to its gradient, so the difference stays at float32 rounding (measured after
// three steps: 1e-7 of the largest weight). Adam divides each gradient by its own running scale,
// so a rounding difference in a gradient that cancels to nearly zero shows at the scale of lr
// (with torch's eps 1e-8: 6e-6 on one MLP weight, 0.6% of lr); the Adam cases take eps 1e-4 so
// that tiny gradients move their weights in proportion, as SGD does (measured: 1.3e-7 on a conv
// bias). The forward pass rounds the same split or whole (each output's sum runs in one order
// whatever the slice), so the first losses agree exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelCall } from '../../compiler/codegen/lower/context.ts';
import type { DeviceLimits } from '../../compiler/codegen/limits.ts';
import type { OptimizerConfig } from '../../compiler/ir/recipe.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/device.ts';
import { compile } from '../../runtime/model.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { createRng, normal } from '../helpers/random.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const KiB = 1024;

// 256 inputs, batch 256: x, both hidden layers' outputs and their gradients run in batch slices;
// both hidden weights (512 x 256, 384 x 512) in row blocks; 1 MiB buffers bank the weights.
const mlp = `
model MLP {
  input [1, 16, 16]
  flatten
  linear(512) relu
  linear(384) sigmoid
  linear(10)
}
train { batch 256  init xavier_uniform  loss cross_entropy }`;

// Batch 16: both convs' outputs (and pools, and their gradients) in slices of 4 and 8 samples,
// the weight gradients summed over slices (the first conv's through split-K partial sums), the
// hidden linear's weight (256 x 128) in row blocks.
const cnn = `
model CNN {
  input [1, 16, 16]
  conv(8, kernel = 3, padding = 1) relu
  maxpool(2, stride = 2)
  conv(8, kernel = 3, padding = 1) relu
  maxpool(2, stride = 2)
  flatten
  linear(256) relu
  linear(10)
}
train { batch 16  init xavier_uniform  loss cross_entropy }`;

const sgd: Partial<OptimizerConfig> = { kind: 'sgd', lr: 0.05, momentum: 0.9 };
const adam: Partial<OptimizerConfig> = { kind: 'adam', lr: 1e-3, eps: 1e-4 };

/** Kernel names whose calls bind a window of a tensor (a batch slice or a row block). */
const windowed = (calls: readonly KernelCall[]): Set<string> =>
  new Set(calls.filter((c) => Object.values(c.args).some((a) => a.kind === 'window')).map((c) => c.kernel.name));

async function train(source: string, optimizer: Partial<OptimizerConfig>, limits: Partial<DeviceLimits>) {
  const model = await compile(source, { gpu: { ...gpu, limits: { ...gpu.limits, ...limits } }, optimizer, seed: 3 });
  try {
    const n = model.batch;
    const features = 256;
    const rng = createRng(11);
    const x = Float32Array.from({ length: n * features }, () => normal(rng));
    const y = Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % 10);
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      model.trainStep(x, y);
      losses.push(await model.lastLoss());
    }
    const params = new Map<string, Float32Array>();
    for (const name of model.paramNames) params.set(name, await model.getParam(name));
    return { losses, params, compiled: model.compiled };
  } finally {
    await model.dispose();
  }
}

describe('split bindings train as the whole ones do', () => {
  const cases = [
    ['an MLP, SGD with momentum', mlp, sgd, { maxStorageBufferBindingSize: 128 * KiB, maxBufferSize: 1024 * KiB }],
    ['an MLP, Adam', mlp, adam, { maxStorageBufferBindingSize: 128 * KiB, maxBufferSize: 1024 * KiB }],
    ['a CNN, SGD with momentum', cnn, sgd, { maxStorageBufferBindingSize: 32 * KiB }],
    ['a CNN, Adam', cnn, adam, { maxStorageBufferBindingSize: 32 * KiB }],
  ] as const;

  it.each(cases)('%s', async (_, source, optimizer, limits) => {
    const whole = await train(source, optimizer, {});
    const split = await train(source, optimizer, limits);

    // The split run did split: every binding fits, and the big ops bind windows.
    const calls = split.compiled.kernels.train;
    for (const c of calls)
      for (const b of c.kernel.bindings) expect(b.elements * 4).toBeLessThanOrEqual(limits.maxStorageBufferBindingSize);
    const names = [...windowed(calls)].join(' ');
    const families =
      source === cnn
        ? ['conv2d_bias_relu', 'maxpool2d', 'linear_relu', 'linear_grad_weight', 'maxpool2d_grad', 'conv2d_grad_weight']
        : ['linear_relu', 'linear_sigmoid', 'linear_grad_input', 'linear_grad_weight'];
    for (const family of families) expect(names).toContain(family);
    if (source === mlp) expect(split.compiled.plan.paramBanks.length).toBeGreaterThan(1);
    expect(windowed(whole.compiled.kernels.train).size).toBe(0);

    expect(split.losses[0]).toBe(whole.losses[0]);
    expectAllclose(split.losses, whole.losses, { rtol: 1e-6, atol: 0 }, 'losses');
    const steps = split.losses.length;
    const adamMove = optimizer.kind === 'adam' ? 1e-4 * optimizer.lr! * steps : 0;
    for (const [name, w] of whole.params) {
      const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expectAllclose(split.params.get(name)!, w, { rtol: 0, atol: Math.max(1e-6 * scale, adamMove) }, name);
    }
  });
});

// VGG-11's first linear layer at its real shape, [4096, 25088] (392 MiB), at the device's real
// binding limit (128 MiB: lavapipe's, WebGPU's default): four row blocks of 1024. A 1x1 conv in
// front makes the layer's input gradient run (summed over the blocks) and lands in the conv's
// weight gradient. One SGD step (lr 1) at batch 2, against float64 for the loss, the bias, the
// weight rows on either side of each block boundary and the conv's weights. Tolerance: float32
// sums of 25088 products against float64, |gpu - ref| <= 1e-3 |ref| + 1e-4 max |ref| on the
// gradients (recovered as weight before - after; each weight's float32 rounding is far below).
const vggLayer = `
model VGGLayer {
  input [8, 56, 56]
  conv(8, kernel = 1, bias = false)
  flatten
  linear(4096)
  linear(10)
}
train { batch 2  optimizer sgd(lr = 1)  init xavier_uniform  loss cross_entropy }`;

describe("VGG-11's first linear layer at the real binding limit", () => {
  it('trains a step in four row blocks, as float64 says', async () => {
    const model = await compile(vggLayer, { gpu, seed: 5 });
    try {
      const blocks = model.compiled.kernels.train.filter(
        (c) => c.kernel.name.includes('linear_grad_input') && Object.values(c.args).some((a) => a.kind === 'window'),
      );
      expect(blocks).toHaveLength(4);
      const [n, c, p, features, hidden, classes] = [2, 8, 56 * 56, 25088, 4096, 10];
      const rng = createRng(17);
      const x = Float32Array.from({ length: n * c * p }, () => normal(rng));
      const target = Int32Array.from([3, 7]);
      const [w0, w1, b1, w2, b2] = await Promise.all(
        ['0.weight', '2.weight', '2.bias', '3.weight', '3.bias'].map((name) => model.getParam(name)),
      );
      model.trainStep(x, target);
      const loss = await model.lastLoss();

      // Forward in float64: h = conv1x1(x) flattened, y = h W1^T + b1, logits = y W2^T + b2.
      const h = new Float64Array(n * features);
      for (let i = 0; i < n; i++)
        for (let o = 0; o < c; o++)
          for (let ci = 0; ci < c; ci++)
            for (let q = 0; q < p; q++) h[i * features + o * p + q]! += w0![o * c + ci]! * x[(i * c + ci) * p + q]!;
      const y = new Float64Array(n * hidden);
      for (let i = 0; i < n; i++)
        for (let r = 0; r < hidden; r++) {
          let s = b1![r]!;
          for (let j = 0; j < features; j++) s += w1![r * features + j]! * h[i * features + j]!;
          y[i * hidden + r] = s;
        }
      // Cross-entropy averaged over the batch, and its gradient through the last layer.
      let ref = 0;
      const dy = new Float64Array(n * hidden);
      for (let i = 0; i < n; i++) {
        const logits = Array.from({ length: classes }, (_, k) => {
          let s = b2![k]!;
          for (let r = 0; r < hidden; r++) s += w2![k * hidden + r]! * y[i * hidden + r]!;
          return s;
        });
        const top = Math.max(...logits);
        const sum = logits.reduce((a, l) => a + Math.exp(l - top), 0);
        ref += (top + Math.log(sum) - logits[target[i]!]!) / n;
        logits.forEach((l, k) => {
          const d = (Math.exp(l - top) / sum - (k === target[i] ? 1 : 0)) / n;
          for (let r = 0; r < hidden; r++) dy[i * hidden + r]! += d * w2![k * hidden + r]!;
        });
      }
      expect(loss).toBeCloseTo(ref, 4);

      const after = new Map<string, Float32Array>();
      for (const name of ['0.weight', '2.weight', '2.bias']) after.set(name, await model.getParam(name));
      const tol = (reference: ArrayLike<number>) => ({
        rtol: 1e-3,
        atol: 1e-4 * Array.from(reference).reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      });
      const grad = (before: Float32Array, name: string, at: readonly number[]) =>
        at.map((i) => before[i]! - after.get(name)![i]!);

      const db = Array.from({ length: hidden }, (_, r) => dy[r]! + dy[hidden + r]!);
      const allRows = Array.from({ length: hidden }, (_, r) => r);
      expectAllclose(grad(b1!, '2.bias', allRows), db, tol(db), 'bias gradient');

      const rows = [0, 1023, 1024, 2047, 2048, 3071, 3072, 4095];
      const at = rows.flatMap((r) => Array.from({ length: features }, (_, j) => r * features + j));
      const dw1 = at.map((i) => {
        const [r, j] = [Math.floor(i / features), i % features];
        return dy[r]! * h[j]! + dy[hidden + r]! * h[features + j]!;
      });
      expectAllclose(grad(w1!, '2.weight', at), dw1, tol(dw1), 'weight gradient rows at the block boundaries');

      // dh = dy W1 (the four blocks' sum), then the conv's weight gradient from it.
      const dw0 = new Float64Array(c * c);
      for (let i = 0; i < n; i++) {
        const dh = new Float64Array(features);
        for (let r = 0; r < hidden; r++) {
          const d = dy[i * hidden + r]!;
          for (let j = 0; j < features; j++) dh[j]! += d * w1![r * features + j]!;
        }
        for (let o = 0; o < c; o++)
          for (let ci = 0; ci < c; ci++)
            for (let q = 0; q < p; q++) dw0[o * c + ci]! += dh[o * p + q]! * x[(i * c + ci) * p + q]!;
      }
      const conv = Array.from({ length: c * c }, (_, i) => i);
      expectAllclose(grad(w0!, '0.weight', conv), Array.from(dw0), tol(dw0), 'conv weight gradient (through dx)');
    } finally {
      await model.dispose();
    }
  });
});
