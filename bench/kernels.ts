// Throughput of the GEMM-shaped kernels on this machine's WebGPU adapter: conv forward, input and
// weight gradients on a LeNet-like and a ResNet-like layer, and a 512^3 matmul. Prints GFLOP/s
// (2 flops per multiply-add) from the best of a few timed runs, and the first run's time, which
// is dominated by the driver's shader compile (set MESA_SHADER_CACHE_DISABLE=true to see it
// uncached on lavapipe).
//   npx tsx bench/kernels.ts [rowsPerLane cols lanes]   (optional tile override for every kernel)
import type { KernelModule, KernelOrigin } from '../compiler/codegen/kernel.ts';
import type { OpAttrs } from '../compiler/ir/ops.ts';
import { conv2dKernel, convGeometry } from '../compiler/codegen/kernels/conv2d.ts';
import { conv2dGradInputKernel } from '../compiler/codegen/kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels } from '../compiler/codegen/kernels/conv2d-grad-weight.ts';
import type { GemmTile } from '../compiler/codegen/kernels/matmul-core.ts';
import { matmulKernel } from '../compiler/codegen/kernels/matmul.ts';
import { openGpu, type Gpu } from '../runtime/gpu/device.ts';
import { pipelineFor } from '../runtime/gpu/run-kernel.ts';

const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['bench'] };
const [tm, tn, lanes] = process.argv.slice(2).map(Number);
const tile: { tile?: GemmTile } = tm && tn && lanes ? { tile: { rowsPerLane: tm, cols: tn, lanes } } : {};

/** Runs `kernels` (in order, one submit) on random buffers: first-run and best-of-5 milliseconds. */
async function time(gpu: Gpu, kernels: readonly KernelModule[]): Promise<{ first: number; best: number }> {
  const { device } = gpu;
  const buffers = new Map<string, GPUBuffer>();
  for (const b of kernels.flatMap((k) => k.bindings)) {
    if (buffers.has(b.name)) continue;
    const buf = device.createBuffer({ size: b.elements * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buf, 0, Float32Array.from({ length: b.elements }, () => Math.random() - 0.5));
    buffers.set(b.name, buf);
  }
  const t0 = performance.now();
  const pipelines = await Promise.all(kernels.map((k) => pipelineFor(gpu, k)));
  const run = async (): Promise<void> => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    kernels.forEach((k, i) => {
      const pipeline = pipelines[i]!;
      pass.setPipeline(pipeline);
      const entries = k.bindings.map((b, j) => ({ binding: j, resource: { buffer: buffers.get(b.name)! } }));
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
      pass.dispatchWorkgroups(...k.dispatch);
    });
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const first = performance.now() - t0;
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await run();
    best = Math.min(best, performance.now() - t);
  }
  for (const b of buffers.values()) b.destroy();
  return { first, best };
}

const conv = (o: number, k: number, pad: number): OpAttrs['conv2d'] =>
  ({ outChannels: o, kernel: [k, k], stride: [1, 1], padding: [pad, pad], dilation: [1, 1], groups: 1, bias: true });

const convCases = [
  { label: 'LeNet conv2  [64, 6, 14, 14] -> 16, 5x5', input: [64, 6, 14, 14] as const, attrs: conv(16, 5, 0) },
  { label: 'ResNet conv  [16, 64, 24, 24] -> 64, 3x3 pad 1', input: [16, 64, 24, 24] as const, attrs: conv(64, 3, 1) },
];

const gpu = await openGpu();
console.log(`adapter: ${gpu.adapterName}${tile.tile ? `, tile ${tm}x${tn} lanes ${lanes}` : ''}`);
const report = async (label: string, flops: number, kernels: readonly KernelModule[]): Promise<void> => {
  const { first, best } = await time(gpu, kernels);
  const name = `${label}`.padEnd(62);
  console.log(`${name} ${(flops / best / 1e6).toFixed(2).padStart(6)} GFLOP/s  (${best.toFixed(1)} ms; first run ${first.toFixed(0)} ms)`);
};
for (const c of convCases) {
  const spec = { name: 'bench', origin, input: c.input, attrs: c.attrs, ...tile };
  const g = convGeometry(spec);
  const flops = 2 * g.n * g.o * g.oh * g.ow * g.cg * g.kh * g.kw;
  await report(`${c.label}  forward`, flops, [conv2dKernel({ ...spec, name: 'bench_fwd' })]);
  await report(`${c.label}  dgrad`, flops, [conv2dGradInputKernel({ ...spec, name: 'bench_dgrad' })]);
  await report(`${c.label}  wgrad+db`, flops, conv2dGradWeightKernels({ ...spec, name: 'bench_wgrad' }));
}
const n = 512;
await report(`matmul ${n}^3`, 2 * n * n * n, [matmulKernel({ name: 'bench_mm', origin, m: n, n, k: n, transA: false, transB: false, a: 'a', b: 'b', c: 'c', ...tile })]);
gpu.dispose();
