// Which kernels a cold start waits for: lavapipe JIT-compiles a pipeline at its first dispatch, so
// each distinct kernel of the train and evaluate passes is run alone twice (zeroed buffers) and the
// first run's extra time is its compile. Run with MESA_SHADER_CACHE_DISABLE=true to see cold times.
// The process's CPU time is reported beside the wall clock: the driver's compiler thread counts in
// it, and on a machine shared with other work it moves far less than the wall clock does.
//   MESA_SHADER_CACHE_DISABLE=true npx tsx bench/first-dispatch.ts FILE [BATCH] [SIZE]
import fs from 'node:fs';
import { pipelineKey } from '../compiler/codegen/kernel.ts';
import { compileModel } from '../compiler/index.ts';
import { openGpu } from '../runtime/gpu/dawn.ts';
import { runKernels } from '../runtime/gpu/run-kernel.ts';

const [file, batch, size] = process.argv.slice(2);
if (!file) throw new Error('usage: npx tsx bench/first-dispatch.ts FILE [BATCH] [SIZE]');
const gpu = await openGpu();
const c = compileModel(fs.readFileSync(file, 'utf8'), {
  path: file,
  limits: gpu.limits,
  trainBatch: true,
  forTraining: true,
  ...(batch ? { batch: Number(batch) } : {}),
  ...(size ? { inputSize: [Number(size), Number(size)] as const } : {}),
});

/** Wall and CPU milliseconds of `work`. */
async function timed(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const [t, u] = [performance.now(), process.cpuUsage()];
  await work();
  const { user, system } = process.cpuUsage(u);
  return { wall: performance.now() - t, cpu: (user + system) / 1000 };
}

const seen = new Set<string>();
const rows: { kernel: string; compileMs: number; compileCpuMs: number; runMs: number; bytes: number }[] = [];
for (const pass of ['train', 'evaluate'] as const) {
  for (const { kernel } of c.kernels[pass]) {
    if (seen.has(pipelineKey(kernel.wgsl))) continue;
    seen.add(pipelineKey(kernel.wgsl));
    const out = kernel.bindings.find((b) => b.access === 'read_write')!.name;
    const first = await timed(() => runKernels(gpu, [kernel], {}, [out]));
    const second = await timed(() => runKernels(gpu, [kernel], {}, [out]));
    rows.push({
      kernel: `${pass} ${kernel.name}`,
      compileMs: first.wall - second.wall,
      compileCpuMs: first.cpu - second.cpu,
      runMs: second.wall,
      bytes: kernel.wgsl.length,
    });
  }
}
rows.sort((a, b) => b.compileCpuMs - a.compileCpuMs);
const sum = (f: (r: (typeof rows)[number]) => number): string => rows.reduce((s, r) => s + f(r), 0).toFixed(0);
console.log(
  `${rows.length} distinct kernels; first dispatches took ${sum((r) => r.compileMs)} ms (${sum((r) => r.compileCpuMs)} ms of CPU) more than second ones`,
);
for (const r of rows)
  console.log(
    `${r.compileMs.toFixed(0).padStart(7)} ms ${r.compileCpuMs.toFixed(0).padStart(6)} ms CPU  (run ${r.runMs.toFixed(0).padStart(4)} ms, WGSL ${String(r.bytes).padStart(6)} B)  ${r.kernel}`,
  );
gpu.dispose();
