// 3-D models through the whole pipeline on the GPU (compile, memory plan, kernels, runtime):
// the seeds' 3-D pooling exercise (dsl-examples/pool3d.cnn) run forward, and conv3d weights drawn
// by the initialiser as PyTorch's Conv3d draws them (kaiming_uniform(a = sqrt(5)): U(-b, b),
// b = 1 / sqrt(in / groups * kd * kh * kw), the bias with the same bound).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { compile } from '../../runtime/model.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const example = (file: string): string => readFileSync(new URL(`../../dsl-examples/${file}`, import.meta.url), 'utf8');

describe('3-D models on the GPU', () => {
  it("dsl-examples/pool3d.cnn on arange(27) as 3x3x3: max gives the seeds' [[[13, 14], [16, 17]], [[22, 23], [25, 26]]], avg 6.5 less", async () => {
    const x = Float32Array.from({ length: 27 }, (_, i) => i);
    for (const [model, want] of [
      ['MaxPool3d', [13, 14, 16, 17, 22, 23, 25, 26]],
      ['AvgPool3d', [6.5, 7.5, 9.5, 10.5, 15.5, 16.5, 18.5, 19.5]],
    ] as const) {
      // A model without logits compiles with a tensor loss.
      const m = await compile(example('pool3d.cnn'), { gpu, batch: 1, model, loss: 'mse_mean' });
      try {
        expect(Array.from(await m.forward(x)), model).toEqual(want);
      } finally {
        m.dispose();
      }
    }
  });

  it('initialises conv3d weights and bias as PyTorch does (default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 2 * 27)', async () => {
    const m = await compile(example('conv3d.cnn'), { gpu, batch: 2, seed: 3, init: 'default' });
    try {
      const bound = 1 / Math.sqrt(2 * 27);
      for (const name of ['0.weight', '0.bias']) {
        const w = await m.getParam(name);
        const most = Math.max(...w.map(Math.abs));
        expect(most, name).toBeLessThanOrEqual(bound);
        // 216 draws come within 5% of the bound; 4 bias draws are nonzero at least.
        expect(most, name).toBeGreaterThan(name === '0.weight' ? bound * 0.95 : 0);
      }
    } finally {
      m.dispose();
    }
  });
});
