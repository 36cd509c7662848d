// Where a training step's GPU time goes: every kernel of one step timed with timestamp queries
// (each dispatch in a compute pass of its own), grouped by kernel family, largest first.
//   npx tsx bench/profile.ts FILE [BATCH] [--no-fuse]      (default: the train section's batch)
import fs from 'node:fs';
import { openGpu } from '../runtime/gpu/device.ts';
import { compile } from '../runtime/model.ts';
import { Mulberry32 } from '../runtime/random.ts';

const args = process.argv.slice(2).filter((a) => a !== '--no-fuse');
const [file, batchText] = args;
if (!file) throw new Error('usage: npx tsx bench/profile.ts FILE [BATCH] [--no-fuse]');
const gpu = await openGpu();
const model = await compile(fs.readFileSync(file, 'utf8'), {
  path: file, gpu, trainBatch: true, fuse: !process.argv.includes('--no-fuse'),
  ...(batchText ? { batch: Number(batchText) } : {}),
});
const g = model.compiled.graph;
const inShape = g.nodes[0]!.shape;
const classes = g.nodes[g.output]!.shape[1]!;
const random = new Mulberry32(3);
const x = Float32Array.from({ length: inShape.reduce((a, b) => a * b, 1) }, () => random.next());
const y = Int32Array.from({ length: g.batch }, () => Math.floor(random.next() * classes));

// The first steps include lazy driver work. Of the next ten, each kernel's fastest time is
// reported: on a shared machine lavapipe's speed swings by up to 2x between runs, and a kernel's
// best time is the one least disturbed.
for (let i = 0; i < 2; i++) await model.profileTrainStep(x, y);
const runs: { kernel: string; ms: number }[][] = [];
for (let i = 0; i < 10; i++) runs.push(await model.profileTrainStep(x, y));
const kernels = runs[0]!.map((k, i) => ({ kernel: k.kernel, ms: Math.min(...runs.map((r) => r[i]!.ms)) }));
const total = kernels.reduce((s, k) => s + k.ms, 0);

console.log(`${g.model}, batch ${g.batch}, input ${inShape.slice(1).join('x')}: ${kernels.length} kernels, ${total.toFixed(1)} ms of GPU time per step (${gpu.adapterName})\n`);
const families = new Map<string, number>();
for (const k of kernels) {
  const family = k.kernel.replace(/^k\d+_/, '').replace(/_(relu|sigmoid|tanh|leaky_relu)(_grad)?$/, '').replace(/_sum$/, '').replace(/_bias/, '');
  families.set(family, (families.get(family) ?? 0) + k.ms);
}
console.log('by family');
for (const [f, ms] of [...families].sort((a, b) => b[1] - a[1])) console.log(`  ${f.padEnd(28)} ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
console.log('\nlargest kernels');
for (const k of [...kernels].sort((a, b) => b.ms - a.ms).slice(0, 12)) console.log(`  ${k.kernel.padEnd(40)} ${k.ms.toFixed(2).padStart(8)} ms  ${((100 * k.ms) / total).toFixed(1).padStart(5)}%`);
await model.dispose();
gpu.dispose();
