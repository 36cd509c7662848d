// Where a training step's GPU time goes, by kernel family and by kernel, largest first: the
// measurement of `cnnc profile` (runtime/profile.ts), which prints it by .cnn layer; here each
// kernel's best of 10 steps, as the benchmark's rounds are.
//   npx tsx bench/profile.ts FILE [BATCH] [--no-fuse]      (default: the train section's batch)
import fs from 'node:fs';
import { openGpu } from '../runtime/gpu/dawn.ts';
import { compile } from '../runtime/model.ts';
import { profileSteps, randomBatch } from '../runtime/profile.ts';

const args = process.argv.slice(2).filter((a) => a !== '--no-fuse');
const [file, batchText] = args;
if (!file) throw new Error('usage: npx tsx bench/profile.ts FILE [BATCH] [--no-fuse]');
const gpu = await openGpu();
const model = await compile(fs.readFileSync(file, 'utf8'), {
  path: file,
  gpu,
  trainBatch: true,
  fuse: !process.argv.includes('--no-fuse'),
  ...(batchText ? { batch: Number(batchText) } : {}),
});
const g = model.compiled.graph;
const { kernels, totalMs: total, method } = await profileSteps(model, randomBatch(model), 10, { statistic: 'min' });

console.log(
  `${g.model}, batch ${g.batch}, input ${g.nodes[0]!.shape.slice(1).join('x')}: ${kernels.length} kernels, ${total.toFixed(1)} ms of GPU time per step (${method}; ${gpu.adapterName})\n`,
);
const families = new Map<string, number>();
for (const k of kernels) {
  const family = k.kernel
    .replace(/^k\d+_/, '')
    .replace(/_(relu|sigmoid|tanh|leaky_relu)(_grad)?$/, '')
    .replace(/_sum$/, '')
    .replace(/_bias/, '');
  families.set(family, (families.get(family) ?? 0) + k.ms);
}
console.log('by family');
for (const [f, ms] of [...families].sort((a, b) => b[1] - a[1]))
  console.log(`  ${f.padEnd(28)} ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
console.log('\nlargest kernels');
for (const k of [...kernels].sort((a, b) => b.ms - a.ms).slice(0, 12))
  console.log(
    `  ${k.kernel.padEnd(40)} ${k.ms.toFixed(2).padStart(8)} ms  ${((100 * k.ms) / total).toFixed(1).padStart(5)}%`,
  );
await model.dispose();
gpu.dispose();
