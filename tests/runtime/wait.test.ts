// awaitGpu: dawn.node's polls are paced to one a millisecond while cnnc waits on the GPU, every
// other setImmediate keeps its meaning, and the global is restored however the wait ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { awaitGpu } from '../../runtime/gpu/wait.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

/** A kernel that keeps lavapipe busy for tens of milliseconds (a dependent chain per lane). */
function busyWork(): void {
  const module = gpu.device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  var v = f32(g.x);
  for (var i = 0u; i < 200000u; i++) { v = v * 0.999 + 1.0; }
  out[g.x] = v;
}`,
  });
  const pipeline = gpu.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const out = gpu.device.createBuffer({ size: 64 * 16 * 4, usage: GPUBufferUsage.STORAGE });
  const enc = gpu.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    gpu.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: out } }],
    }),
  );
  pass.dispatchWorkgroups(16);
  pass.end();
  gpu.device.queue.submit([enc.finish()]);
}

describe('awaitGpu', () => {
  it('polls dawn.node about once a millisecond during a long GPU wait, where it otherwise spins', async () => {
    const measure = async (paced: boolean) => {
      let polls = 0;
      const spy = () => {
        const inner = globalThis.setImmediate;
        globalThis.setImmediate = ((cb: (...a: unknown[]) => void, ...a: unknown[]) => {
          if (cb.name === '' && Function.prototype.toString.call(cb).includes('[native code]')) polls++;
          return inner(cb, ...a);
        }) as unknown as typeof setImmediate;
        return inner;
      };
      busyWork();
      const t0 = performance.now();
      const wait = async () => {
        const restore = spy();
        try {
          await gpu.device.queue.onSubmittedWorkDone();
        } finally {
          globalThis.setImmediate = restore;
        }
      };
      await (paced ? awaitGpu(wait) : wait());
      return { polls, ms: performance.now() - t0 };
    };
    const spinning = await measure(false);
    const paced = await measure(true);
    expect(spinning.ms).toBeGreaterThan(5);
    expect(spinning.polls).toBeGreaterThan(4 * spinning.ms);
    expect(paced.ms).toBeGreaterThan(5);
    expect(paced.polls).toBeLessThanOrEqual(paced.ms + 2);
  });

  it('leaves other callers of setImmediate their own immediates', async () => {
    const order: string[] = [];
    await awaitGpu(async () => {
      const handle = setImmediate(() => order.push('immediate'));
      setTimeout(() => order.push('timeout'), 5);
      expect(handle.constructor.name).toBe('Immediate');
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    expect(order).toEqual(['immediate', 'timeout']);
  });

  it('restores the global setImmediate after the outermost wait, and after a failure', async () => {
    const real = globalThis.setImmediate;
    await awaitGpu(async () => {
      const paced = globalThis.setImmediate;
      expect(paced).not.toBe(real);
      await awaitGpu(async () => expect(globalThis.setImmediate).toBe(paced));
      expect(globalThis.setImmediate).toBe(paced);
    });
    expect(globalThis.setImmediate).toBe(real);
    await expect(awaitGpu(async () => Promise.reject(new Error('lost')))).rejects.toThrow('lost');
    expect(globalThis.setImmediate).toBe(real);
  });
});
