// Which kernels a cold start waits for: lavapipe JIT-compiles a pipeline at its first dispatch, so
// each distinct kernel of the train and evaluate passes is run alone twice (zeroed buffers) and the
// first run's extra time is its compile. Run with MESA_SHADER_CACHE_DISABLE=true to see cold times.
//   MESA_SHADER_CACHE_DISABLE=true npx tsx bench/first-dispatch.ts FILE [BATCH] [SIZE]
import fs from 'node:fs';
import { compileModel } from '../compiler/index.ts';
import { openGpu } from '../runtime/gpu/dawn.ts';
import { pipelineKey, runKernels } from '../runtime/gpu/run-kernel.ts';

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
const seen = new Set<string>();
const rows: { kernel: string; compileMs: number; runMs: number; bytes: number }[] = [];
for (const pass of ['train', 'evaluate'] as const) {
  for (const { kernel } of c.kernels[pass]) {
    if (seen.has(pipelineKey(kernel))) continue;
    seen.add(pipelineKey(kernel));
    const out = kernel.bindings.find((b) => b.access === 'read_write')!.name;
    const t0 = performance.now();
    await runKernels(gpu, [kernel], {}, [out]);
    const t1 = performance.now();
    await runKernels(gpu, [kernel], {}, [out]);
    const t2 = performance.now();
    rows.push({
      kernel: `${pass} ${kernel.name}`,
      compileMs: t1 - t0 - (t2 - t1),
      runMs: t2 - t1,
      bytes: kernel.wgsl.length,
    });
  }
}
rows.sort((a, b) => b.compileMs - a.compileMs);
console.log(
  `${rows.length} distinct kernels; first dispatches took ${rows.reduce((s, r) => s + r.compileMs, 0).toFixed(0)} ms more than second ones`,
);
for (const r of rows)
  console.log(
    `${r.compileMs.toFixed(0).padStart(7)} ms  (run ${r.runMs.toFixed(0).padStart(4)} ms, WGSL ${String(r.bytes).padStart(6)} B)  ${r.kernel}`,
  );
gpu.dispose();
