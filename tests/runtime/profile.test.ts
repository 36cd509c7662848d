// Model.profileTrainStep: one real training step with every kernel timed by timestamp queries
// (what bench/profile.ts prints). The times must cover every kernel, and the step must be the same
// step trainStep runs: equal weights afterwards.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/device.ts';
import { compile } from '../../runtime/model.ts';

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
