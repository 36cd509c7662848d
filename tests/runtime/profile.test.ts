// Model.profileTrainStep: one real training step with every kernel timed by timestamp queries
// (or on the wall clock). The times must cover every kernel, and the step must be the same step
// trainStep runs: equal weights afterwards. Then the profile by layer (runtime/profile.ts) and
// `cnnc profile`, which prints it: every kernel attributed, the rows summing to the step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { compile } from '../../runtime/model.ts';
import { profileSteps, randomBatch } from '../../runtime/profile.ts';
import { cnnc } from '../helpers/cli.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const source = `model M {
  input [1, 6, 6]
  conv(2, kernel = 3) relu maxpool(2) flatten linear(3)
}`;

it('times every kernel of a training step and trains exactly as trainStep does', async (ctx) => {
  if (!gpu.timestamps) ctx.skip();
  const options = { gpu, batch: 2, seed: 4, optimizer: { kind: 'sgd' as const, lr: 0.1 } };
  const [profiled, plain] = [await compile(source, options), await compile(source, options)];
  const x = Float32Array.from({ length: 72 }, (_, i) => Math.sin(i));
  const y = Int32Array.of(0, 2);
  const times = await profiled.profileTrainStep(x, y);
  plain.trainStep(x, y);
  expect(times.map((t) => t.kernel)).toEqual(profiled.compiled.kernels.train.map((c) => c.kernel.name));
  for (const t of times) expect(t.ms).toBeGreaterThanOrEqual(0);
  expect(times.reduce((s, t) => s + t.ms, 0)).toBeGreaterThan(0);
  for (const name of profiled.paramNames) expect(await profiled.getParam(name)).toEqual(await plain.getParam(name));
  expect(await profiled.lastLoss()).toBe(await plain.lastLoss());
  await profiled.dispose();
  await plain.dispose();
});

describe('the step profile by layer (runtime/profile.ts)', () => {
  // A graph with a residual add, so a layer's gradient sum is attributed too; large enough that its
  // step lasts several ticks of lavapipe's 65.5 us timestamps.
  const residual = `model R {
  input [2, 24, 24]
  y = conv(2, kernel = 3, padding = 1) relu
  z = y + x
  z -> maxpool(2) flatten linear(3)
}`;

  for (const method of ['timestamps', 'wall-clock'] as const)
    it(`attributes every kernel to a layer, the loss or the optimizer (${method})`, async (ctx) => {
      if (method === 'timestamps' && !gpu.timestamps) ctx.skip();
      const model = await compile(residual, { gpu, batch: 16, seed: 1 });
      try {
        // Quantised timestamps are averaged (the command's way); the wall clock keeps the fastest (the bench's).
        const statistic = method === 'timestamps' ? 'mean' : 'min';
        const p = await profileSteps(model, randomBatch(model), 3, { statistic, method });
        expect(p.method).toBe(method);
        expect(p.statistic).toBe(statistic);
        expect(p.kernels.map((k) => k.kernel)).toEqual(model.compiled.kernels.train.map((c) => c.kernel.name));
        // Every kernel is in exactly one row; the rows add up to the step.
        expect(p.rows.reduce((s, r) => s + r.kernels, 0)).toBe(p.kernels.length);
        const sum = p.rows.reduce((s, r) => s + r.forwardMs + r.backwardMs, 0);
        expect(sum).toBeCloseTo(p.totalMs, 9);
        expect(p.totalMs).toBeCloseTo(
          p.kernels.reduce((s, k) => s + k.ms, 0),
          9,
        );
        expect(p.totalMs).toBeGreaterThan(0);
        for (const k of p.kernels) expect(k.ms).toBeGreaterThanOrEqual(0);
        // The wall clock always advances: each kernel's time is positive.
        if (method === 'wall-clock') for (const k of p.kernels) expect(k.ms).toBeGreaterThan(0);
        expect(p.rows.map((r) => `${r.layer} ${r.op} ${r.source}`)).toEqual([
          '0 conv2d model.cnn:3',
          '%3 add model.cnn:4',
          '2 maxpool2d model.cnn:5',
          '4 linear model.cnn:5',
          'loss cross_entropy null',
          'optimizer sgd null',
        ]);
        const conv = p.rows[0]!;
        // conv forward (+ relu fused), input and weight gradients: time on both sides.
        expect(conv.forwardMs + conv.backwardMs).toBeGreaterThan(0);
        expect(conv.kernels).toBeGreaterThanOrEqual(2);
      } finally {
        await model.dispose();
      }
    });
});

describe('cnnc profile', () => {
  it('prints the per-layer table, and --json with every kernel attributed', () => {
    const lenet = 'dsl-examples/lenet.cnn';
    const text = cnnc('profile', lenet, '--batch-size', '4', '--steps', '1', '--set', 'num_classes=4');
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^LeNet, batch 4, input \[1, 28, 28\]: one training step, \d+ kernels, [\d.]+ ms of GPU time\n/,
    );
    expect(text.stdout).toMatch(/\n0 +conv2d +dsl-examples\/lenet\.cnn:\d+ +[\d.]+ +[\d.]+ +[\d.]+% +\d+\n/);
    expect(text.stdout).toMatch(/\noptimizer +sgd +[\d.]+ +[\d.]+% +1\n/);
    expect(text.stdout).toMatch(/\ntotal +[\d.]+ +[\d.]+ +100\.0% +\d+\n$/);
    const r = cnnc('profile', lenet, '--batch-size', '4', '--steps', '1', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ model: 'LeNet', batch: 4, input: [1, 28, 28], steps: 1 });
    expect(j.layers.map((l: { layer: string }) => l.layer)).toEqual([
      '0',
      '2',
      '3',
      '5',
      '7',
      '9',
      '11',
      'loss',
      'optimizer',
    ]);
    expect(j.layers.reduce((s: number, l: { kernels: number }) => s + l.kernels, 0)).toBe(j.kernels.length);
    expect(j.layers.reduce((s: number, l: { share: number }) => s + l.share, 0)).toBeCloseTo(1, 9);
  });

  it('refuses a model that does not compile with exit 1 and the diagnostic', () => {
    const r = cnnc('profile', 'dsl-examples/lenet.cnn', '--set', 'num_classes=0');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[E0\d+\]/);
  });
});
