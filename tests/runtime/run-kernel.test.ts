import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { runKernels } from '../../runtime/gpu/run-kernel.ts';
import type { KernelModule } from '../../compiler/codegen/kernel.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const scale: KernelModule = {
  name: 'k00_scale',
  wgsl: `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < 5u) { y[g.x] = 2.0 * x[g.x] + 1.0; }
}`,
  bindings: [
    { name: 'x', access: 'read', type: 'f32', elements: 5 },
    { name: 'y', access: 'read_write', type: 'f32', elements: 5 },
  ],
  workgroupSize: [64, 1, 1],
  dispatch: [1, 1, 1],
};

describe('runKernels on dawn.node', () => {
  it('runs a kernel and reads back its output', async () => {
    const out = await runKernels(gpu, [scale], { x: new Float32Array([0, 1, 2, 3, -4]) }, ['y']);
    expect(Array.from(out['y']!)).toEqual([1, 3, 5, 7, -7]);
  });

  it('names the kernel in a WGSL compile error', async () => {
    const bad = { ...scale, name: 'k01_bad', wgsl: scale.wgsl.replace('2.0 * x[g.x]', 'undefined_fn(x[g.x])') };
    await expect(runKernels(gpu, [bad], {}, ['y'])).rejects.toThrow(/k01_bad.*\n.*k01_bad\.wgsl:\d+:\d+/);
  });
});
