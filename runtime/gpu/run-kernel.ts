// Runs kernel modules on given host arrays and reads results back: the harness for kernel tests
// and one-off evaluations. Training encodes whole steps instead (runtime/gpu/executor.ts).
import { type KernelModule, pipelineKey } from '../../compiler/codegen/kernel.ts';
import type { Gpu } from './device.ts';
import { awaitGpu } from './wait.ts';

export type HostArray = Float32Array | Int32Array | Uint32Array;

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** Compiles (once per device and kernel code) and reports WGSL errors with the kernel's name. */
export function pipelineFor(gpu: Gpu, k: KernelModule): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(gpu.device);
  if (!cache) {
    cache = new Map();
    pipelineCache.set(gpu.device, cache);
  }
  const key = pipelineKey(k.wgsl);
  let p = cache.get(key);
  if (!p) {
    p = compile(gpu.device, k);
    cache.set(key, p);
  }
  return p;
}

/**
 * The pipeline is asked for as soon as its module exists, not after the module's compilation info:
 * Dawn's threads then compile while the main thread parses the next kernel's WGSL (measurements:
 * bench/NOTES.md). The info is read only when creation fails, to name the WGSL line.
 */
async function compile(device: GPUDevice, k: KernelModule): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ code: k.wgsl, label: k.name });
  // The promise itself rejects on failure: no error scope, which concurrent creations would share.
  const pipeline = device.createComputePipelineAsync({
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
    label: k.name,
  });
  try {
    return await pipeline;
  } catch (e) {
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    if (errors.length === 0)
      throw new Error(`pipeline creation failed for kernel ${k.name}: ${e instanceof Error ? e.message : String(e)}`);
    const lines = k.wgsl.split('\n');
    const msgs = errors.map(
      (m) => `  ${k.name}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`,
    );
    throw new Error(`WGSL compile error in kernel ${k.name}:\n${msgs.join('\n')}`);
  }
}

/**
 * Runs `kernels` in order in one command buffer over buffers named by their bindings. Buffers with
 * the same name are shared between kernels; `inputs` fills them (others start zeroed), and every
 * name in `outputs` is read back as f32 (or the binding's type).
 */
export async function runKernels(
  gpu: Gpu,
  kernels: readonly KernelModule[],
  inputs: Readonly<Record<string, HostArray>>,
  outputs: readonly string[],
): Promise<Record<string, HostArray>> {
  const { device } = gpu;
  const buffers = new Map<string, { buf: GPUBuffer; type: string; elements: number }>();
  for (const k of kernels) {
    for (const b of k.bindings) {
      const have = buffers.get(b.name);
      if (have) {
        if (have.elements !== b.elements)
          throw new Error(`binding ${b.name}: ${have.elements} vs ${b.elements} elements`);
        continue;
      }
      const buf = device.createBuffer({
        size: Math.max(4, b.elements * 4),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      const init = inputs[b.name];
      if (init) {
        if (init.length !== b.elements)
          throw new Error(`input ${b.name}: ${init.length} elements given, kernel wants ${b.elements}`);
        device.queue.writeBuffer(buf, 0, init.buffer, init.byteOffset, init.byteLength);
      }
      buffers.set(b.name, { buf, type: b.type, elements: b.elements });
    }
  }
  const pipelines = await Promise.all(kernels.map((k) => pipelineFor(gpu, k)));
  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  kernels.forEach((k, i) => {
    const pipeline = pipelines[i]!;
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: k.bindings.map((b, j) => ({ binding: j, resource: { buffer: buffers.get(b.name)!.buf } })),
      }),
    );
    pass.dispatchWorkgroups(...k.dispatch);
  });
  pass.end();
  const staging = outputs.map((name) => {
    const b = buffers.get(name);
    if (!b) throw new Error(`no binding named ${name}`);
    const s = device.createBuffer({
      size: Math.max(4, b.elements * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    enc.copyBufferToBuffer(b.buf, 0, s, 0, Math.max(4, b.elements * 4));
    return { name, s, b };
  });
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`validation error running ${kernels.map((k) => k.name).join(', ')}: ${err.message}`);
  const result: Record<string, HostArray> = {};
  for (const { name, s, b } of staging) {
    await awaitGpu(() => s.mapAsync(GPUMapMode.READ));
    const bytes = s.getMappedRange().slice(0, b.elements * 4);
    result[name] =
      b.type === 'i32' ? new Int32Array(bytes) : b.type === 'u32' ? new Uint32Array(bytes) : new Float32Array(bytes);
    s.unmap();
    s.destroy();
  }
  for (const { buf } of buffers.values()) buf.destroy();
  return result;
}
