// The workgroup-memory GEMM family (compiler/codegen/kernels/gemm-workgroup.ts) against today's
// register-tiled kernels on the same shapes, on this machine's adapter: for each of bench/kernels.ts's
// conv layers (forward, input and weight gradients) and a 512^3 matmul, the register kernel's time and
// each workgroup tile's, as a ratio, interleaved A/B `rounds` times (lavapipe's speed drifts under
// load); also the first run (the driver's shader compile). Usage: npx tsx bench/workgroup-gemm.ts [rounds]
import type { KernelModule } from '../compiler/codegen/kernel.ts';
import { conv2dKernel, convGeometry, type ConvSpec } from '../compiler/codegen/kernels/conv2d.ts';
import { conv2dGradInputKernel } from '../compiler/codegen/kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels } from '../compiler/codegen/kernels/conv2d-grad-weight.ts';
import { type WorkgroupTile, tileName, workgroupTiles } from '../compiler/codegen/kernels/gemm-workgroup.ts';
import { openGpu } from '../runtime/gpu/dawn.ts';
import { convCases, origin, squareMatmul, timeKernels } from './kernels.ts';

const rounds = Number(process.argv[2] ?? 2);
const gpu = await openGpu();
const subgroups = gpu.limits.subgroupMinSize >= 8;

interface Case {
  readonly label: string;
  readonly flops: number;
  /** The GEMM's rows, columns and depth, for the candidate tiles. */
  readonly gemm: readonly [number, number, number];
  readonly kernels: (workgroup?: WorkgroupTile) => KernelModule[];
}

const cases: Case[] = convCases.flatMap((c) => {
  const spec: ConvSpec = { name: 'bench', origin, input: c.input, attrs: c.attrs, subgroups };
  const g = convGeometry(spec);
  const flops = 2 * g.n * g.o * g.oh * g.ow * g.cg * g.kh * g.kw;
  const wg = (w?: WorkgroupTile) => (w ? { workgroup: w } : {});
  return [
    {
      label: `${c.label} forward`,
      flops,
      gemm: [g.n * g.oh * g.ow, g.og, g.cg * g.kh * g.kw] as const,
      kernels: (w?: WorkgroupTile) => [conv2dKernel({ ...spec, ...wg(w) })],
    },
    {
      label: `${c.label} input grad`,
      flops,
      gemm: [g.n * g.h * g.w, g.cg, g.og * g.kh * g.kw] as const,
      kernels: (w?: WorkgroupTile) => [conv2dGradInputKernel({ ...spec, ...wg(w) })],
    },
    {
      label: `${c.label} weight grad`,
      flops,
      gemm: [g.cg * g.kh * g.kw + 1, g.og, g.n * g.oh * g.ow] as const,
      kernels: (w?: WorkgroupTile) => conv2dGradWeightKernels({ ...spec, ...wg(w) }),
    },
  ];
});
const n = 512;
cases.push({
  label: `matmul ${n}^3`,
  flops: 2 * n ** 3,
  gemm: [n, n, n],
  kernels: (w?: WorkgroupTile) => [squareMatmul(n, subgroups, w)],
});

console.log(`adapter subgroups ${subgroups}, ${rounds} interleaved rounds; best ms of 3 runs per round`);
for (const c of cases) {
  // Two candidates a case: the tuner's first (largest) and last (smallest) that fit the shape.
  const all = workgroupTiles(...c.gemm, gpu.limits);
  const tiles = [...new Set([all[0]!, all[all.length - 1]!])];
  const best = new Map<string, { ms: number; first: number }>();
  const variants: [string, WorkgroupTile | undefined][] = [
    ['register', undefined],
    ...tiles.map((t): [string, WorkgroupTile] => [tileName(t), t]),
  ];
  for (let r = 0; r < rounds; r++) {
    for (const [name, tile] of variants) {
      const { first, best: ms } = await timeKernels(gpu, c.kernels(tile), 3);
      const prev = best.get(name);
      best.set(name, { ms: Math.min(ms, prev?.ms ?? Infinity), first: prev?.first ?? first });
    }
  }
  const reg = best.get('register')!;
  console.log(`${c.label}:`);
  for (const [name] of variants) {
    const v = best.get(name)!;
    const gflops = c.flops / v.ms / 1e6;
    console.log(
      `  ${name.padEnd(18)} ${v.ms.toFixed(1).padStart(8)} ms  ${gflops.toFixed(2).padStart(6)} GFLOP/s  ` +
        `x${(v.ms / reg.ms).toFixed(2)} of register  first run ${(v.first / 1000).toFixed(1)} s`,
    );
  }
}
gpu.dispose();
