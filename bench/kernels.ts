// Throughput of cnnc's GEMM-shaped kernels on this machine's WebGPU adapter (conv forward, input
// and weight gradients on a LeNet and a ResNet layer, a 512^3 matmul) against the best plain tiled
// matmul the same driver reaches (bench/reference-matmul.ts). GFLOP/s count 2 flops per
// multiply-add of the direct algorithm, from the best of a few timed runs; the first run holds the
// driver's shader compile.
import type { KernelModule, KernelOrigin } from '../compiler/codegen/kernel.ts';
import type { OpAttrs } from '../compiler/ir/ops.ts';
import { conv2dKernel, convGeometry } from '../compiler/codegen/kernels/conv2d.ts';
import { conv2dGradInputKernel } from '../compiler/codegen/kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels } from '../compiler/codegen/kernels/conv2d-grad-weight.ts';
import type { WorkgroupTile } from '../compiler/codegen/kernels/gemm-workgroup.ts';
import { matmulKernel } from '../compiler/codegen/kernels/matmul.ts';
import type { Gpu } from '../runtime/gpu/device.ts';
import { pipelineFor, runKernels } from '../runtime/gpu/run-kernel.ts';
import { awaitGpu } from '../runtime/gpu/wait.ts';
import { REF_TILES, referenceMatmul } from './reference-matmul.ts';

export interface KernelRow {
  readonly label: string;
  readonly gflops: number;
  readonly bestMs: number;
  readonly firstMs: number;
}

export interface KernelReport {
  readonly rows: readonly KernelRow[];
  /** The best reference tiled matmul of the sweep. */
  readonly reference: KernelRow;
}

export const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['bench'] };

/** Runs `kernels` (in order, one submit) on random buffers: first-run and best-of-`repeats` milliseconds. */
export async function timeKernels(
  gpu: Gpu,
  kernels: readonly KernelModule[],
  repeats: number,
): Promise<{ first: number; best: number }> {
  const { device } = gpu;
  const buffers = new Map<string, GPUBuffer>();
  for (const b of kernels.flatMap((k) => k.bindings)) {
    if (buffers.has(b.name)) continue;
    const buf = device.createBuffer({ size: b.elements * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(
      buf,
      0,
      Float32Array.from({ length: b.elements }, () => Math.random() - 0.5),
    );
    buffers.set(b.name, buf);
  }
  const t0 = performance.now();
  const pipelines: GPUComputePipeline[] = [];
  for (const k of kernels) pipelines.push(await pipelineFor(gpu, k));
  const bindGroups = kernels.map((k, i) =>
    device.createBindGroup({
      layout: pipelines[i]!.getBindGroupLayout(0),
      entries: k.bindings.map((b, j) => ({ binding: j, resource: { buffer: buffers.get(b.name)! } })),
    }),
  );
  const run = async (): Promise<void> => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    kernels.forEach((k, i) => {
      pass.setPipeline(pipelines[i]!);
      pass.setBindGroup(0, bindGroups[i]!);
      pass.dispatchWorkgroups(...k.dispatch);
    });
    pass.end();
    device.queue.submit([enc.finish()]);
    await awaitGpu(() => device.queue.onSubmittedWorkDone());
  };
  await run();
  const first = performance.now() - t0;
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await run();
    best = Math.min(best, performance.now() - t);
  }
  for (const b of buffers.values()) b.destroy();
  return { first, best };
}

/** A wrong kernel would make a meaningless yardstick: check a few entries of C against the CPU. */
async function checkReference(gpu: Gpu, k: KernelModule, n: number): Promise<void> {
  const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const { c } = await runKernels(gpu, [k], { a, b }, ['c']);
  for (let s = 0; s < 16; s++) {
    const i = Math.floor(Math.random() * n);
    const j = Math.floor(Math.random() * n);
    let want = 0;
    for (let t = 0; t < n; t++) want += a[i * n + t]! * b[t * n + j]!;
    if (Math.abs(c![i * n + j]! - want) > 1e-3 * (1 + Math.abs(want)))
      throw new Error(`${k.name}: C[${i}, ${j}] = ${c![i * n + j]}, expected ${want}`);
  }
}

const conv = (o: number, k: number, pad: number): OpAttrs['conv2d'] => ({
  outChannels: o,
  kernel: [k, k],
  stride: [1, 1],
  padding: [pad, pad],
  dilation: [1, 1],
  groups: 1,
  bias: true,
});

export const convCases = [
  { label: 'LeNet conv2 [128, 6, 14, 14] -> 16, 5x5', input: [128, 6, 14, 14] as const, attrs: conv(16, 5, 0) },
  {
    label: 'ResNet b3 conv [32, 128, 12, 12] -> 128, 3x3 pad 1',
    input: [32, 128, 12, 12] as const,
    attrs: conv(128, 3, 1),
  },
];

/** The n^3 matmul row: C = A B, n x n, neither transposed; with `workgroup`, on that workgroup tile. */
export function squareMatmul(n: number, subgroups: boolean, workgroup?: WorkgroupTile): KernelModule {
  return matmulKernel({
    name: 'bench_mm',
    origin,
    m: n,
    n,
    k: n,
    transA: false,
    transB: false,
    a: 'a',
    b: 'b',
    c: 'c',
    subgroups,
    ...(workgroup ? { workgroup } : {}),
  });
}

export async function kernelThroughput(gpu: Gpu, quick: boolean): Promise<KernelReport> {
  const repeats = quick ? 2 : 5;
  const measureRow = async (label: string, flops: number, kernels: readonly KernelModule[]): Promise<KernelRow> => {
    const { first, best } = await timeKernels(gpu, kernels, repeats);
    return { label, gflops: flops / best / 1e6, bestMs: best, firstMs: first };
  };
  const rows: KernelRow[] = [];
  // The kernels cnnc runs on this adapter: with shared loads where it has subgroups of 8+.
  const subgroups = gpu.limits.subgroupMinSize >= 8;
  for (const c of convCases) {
    const spec = { name: 'bench', origin, input: c.input, attrs: c.attrs, subgroups };
    const g = convGeometry(spec);
    const flops = 2 * g.n * g.o * g.oh * g.ow * g.cg * g.kh * g.kw;
    rows.push(await measureRow(`${c.label} forward`, flops, [conv2dKernel({ ...spec, name: 'bench_fwd' })]));
    rows.push(
      await measureRow(`${c.label} input grad`, flops, [conv2dGradInputKernel({ ...spec, name: 'bench_dgrad' })]),
    );
    rows.push(
      await measureRow(`${c.label} weight grad`, flops, conv2dGradWeightKernels({ ...spec, name: 'bench_wgrad' })),
    );
  }
  const n = 512;
  const mmFlops = 2 * n * n * n;
  rows.push(await measureRow(`cnnc matmul ${n}^3`, mmFlops, [squareMatmul(n, subgroups)]));
  let reference: KernelRow | undefined;
  for (const t of quick ? REF_TILES.slice(0, 2) : REF_TILES) {
    const k = referenceMatmul(n, n, n, t);
    await checkReference(gpu, k, n);
    const row = await measureRow(`reference ${k.name.replace('reference_matmul_', 'tiled matmul ')} ${n}^3`, mmFlops, [
      k,
    ]);
    if (!reference || row.gflops > reference.gflops) reference = row;
  }
  return { rows, reference: reference! };
}
