// The yardstick for cnnc's GEMM-shaped kernels: a plain tiled matmul, C[M, N] = A[M, K] B[K, N],
// written the textbook way (workgroup-memory tiles of A and B, a TM x TN block of C per
// invocation) and swept over tile shapes. The best of the sweep is "what this driver reaches
// with an ordinary tiled matmul"; cnnc's conv kernels are measured against it. Sizes must be
// multiples of the tiles: this is a benchmark, not a library kernel.
import type { KernelModule } from '../compiler/codegen/kernel.ts';

export interface RefTile {
  /** Invocations per workgroup along x (columns) and y (rows). */
  readonly wx: number;
  readonly wy: number;
  /** Outputs per invocation along rows and columns. */
  readonly tm: number;
  readonly tn: number;
  /** Depth of one workgroup-memory tile. */
  readonly bk: number;
}

/** Shapes within 16 KiB of workgroup memory, from one output per invocation to 8 x 8 register blocks. */
export const REF_TILES: readonly RefTile[] = [
  { wx: 16, wy: 16, tm: 1, tn: 1, bk: 16 },
  { wx: 8, wy: 8, tm: 4, tn: 4, bk: 16 },
  { wx: 16, wy: 16, tm: 4, tn: 4, bk: 8 },
  { wx: 8, wy: 8, tm: 8, tn: 8, bk: 8 },
  { wx: 8, wy: 4, tm: 8, tn: 4, bk: 16 },
];

export function referenceMatmul(m: number, n: number, k: number, t: RefTile): KernelModule {
  const bm = t.wy * t.tm;
  const bn = t.wx * t.tn;
  if (m % bm || n % bn || k % t.bk)
    throw new Error(`reference matmul ${m}x${n}x${k} is not a multiple of the tile ${bm}x${bn}x${t.bk}`);
  const threads = t.wx * t.wy;
  const wgsl = `// Reference tiled matmul ${m}x${n}x${k}: tile ${bm}x${bn}x${t.bk}, ${t.tm}x${t.tn} outputs per invocation
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
var<workgroup> ta: array<f32, ${bm * t.bk}>;
var<workgroup> tb: array<f32, ${t.bk * bn}>;

@compute @workgroup_size(${t.wx}, ${t.wy})
fn main(@builtin(workgroup_id) g: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = g.y * ${bm}u;
  let col0 = g.x * ${bn}u;
  var acc: array<f32, ${t.tm * t.tn}>;
  for (var k0 = 0u; k0 < ${k}u; k0 += ${t.bk}u) {
    for (var i = li; i < ${bm * t.bk}u; i += ${threads}u) {
      ta[i] = a[(row0 + i / ${t.bk}u) * ${k}u + k0 + i % ${t.bk}u];
    }
    for (var i = li; i < ${t.bk * bn}u; i += ${threads}u) {
      tb[i] = b[(k0 + i / ${bn}u) * ${n}u + col0 + i % ${bn}u];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.bk}u; kk++) {
      var av: array<f32, ${t.tm}>;
      for (var r = 0u; r < ${t.tm}u; r++) { av[r] = ta[(l.y * ${t.tm}u + r) * ${t.bk}u + kk]; }
      for (var j = 0u; j < ${t.tn}u; j++) {
        let bv = tb[kk * ${bn}u + l.x * ${t.tn}u + j];
        for (var r = 0u; r < ${t.tm}u; r++) { acc[r * ${t.tn}u + j] = fma(av[r], bv, acc[r * ${t.tn}u + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < ${t.tm}u; r++) {
    for (var j = 0u; j < ${t.tn}u; j++) {
      c[(row0 + l.y * ${t.tm}u + r) * ${n}u + col0 + l.x * ${t.tn}u + j] = acc[r * ${t.tn}u + j];
    }
  }
}
`;
  return {
    name: `reference_matmul_${bm}x${bn}x${t.bk}_${t.tm}x${t.tn}`,
    wgsl,
    bindings: [
      { name: 'a', access: 'read_write', type: 'f32', elements: m * k },
      { name: 'b', access: 'read_write', type: 'f32', elements: k * n },
      { name: 'c', access: 'read_write', type: 'f32', elements: m * n },
    ],
    workgroupSize: [t.wx, t.wy, 1],
    dispatch: [n / bn, m / bm, 1],
  };
}
