// Convolution weight gradient (wgrad) and bias gradient as an implicit GEMM: per group, rows =
// the filter taps (c, ky, kx) of (C/g)*KH*KW, columns = that group's O/g output channels, and
// k = (n, oy, ox) runs over the whole batch: dw[o, c, ky, kx] = sum of dy[n, o, oy, ox] * x[n, c,
// oy * SH - PH + ky * DH, ox * SW - PW + kx * DW]. db[o] = sum of dy[n, o, oy, ox] is one more
// row whose x tap is 1. The long k is split across workgroups (then summed by a second kernel)
// rather than giving each invocation a whole weight element's loop over the batch.
import { readBinding, writeBinding } from '../indexing.ts';
import type { KernelModule } from '../kernel.ts';
import { wgsl } from '../writer.ts';
import { type ConvSpec, convConsts, convGeometry, tapHelper } from './conv2d.ts';
import { chooseSplitK, chooseTile, gemmKernels } from './matmul-core.ts';

export interface Conv2dGradWeightSpec extends ConvSpec {
  /** Binding names, defaulting to x, dy, dw, db (db only with attrs.bias). */
  readonly names?: Partial<Record<'x' | 'dy' | 'dw' | 'db', string>>;
  /** k partitions; chosen from the shape when omitted. */
  readonly splitK?: number;
}

/** The kernel, or with a split reduction the partial-sum kernel and then the `_sum` kernel. */
export function conv2dGradWeightKernels(s: Conv2dGradWeightSpec): KernelModule[] {
  const g = convGeometry(s);
  const [x, dy, dw, db] = [s.names?.x ?? 'x', s.names?.dy ?? 'dy', s.names?.dw ?? 'dw', s.names?.db ?? 'db'];
  const taps = g.cg * g.kh * g.kw;
  const rows = taps + (s.attrs.bias ? 1 : 0);
  const depth = g.n * g.oh * g.ow;
  // Full-size register tiles: the split over k, not smaller tiles, supplies the workgroups.
  const tile = s.tile ?? chooseTile(rows, g.og, g.groups, { minGroups: 1, shareU: s.subgroups ?? false });
  const ones = (i: number, load: string): string => (s.attrs.bias ? `select(${load}, 1.0, r${i} == ${taps}u)` : load);
  const dwAt = (row: string, col: string) => `${dw}[(batch * OG + ${col}) * CG * KH * KW + ${row}]`;
  return gemmKernels({
    name: s.name,
    origin: s.origin,
    inputs: [readBinding(x, g.n * g.c * g.h * g.w), readBinding(dy, g.n * g.o * g.oh * g.ow)],
    outputs: [writeBinding(dw, g.o * taps), ...(s.attrs.bias ? [writeBinding(db, g.o)] : [])],
    rows,
    cols: g.og,
    depth,
    batches: g.groups,
    tile,
    splitK: s.splitK ?? chooseSplitK(rows, g.og, depth, g.groups, tile),
    consts: convConsts(s, g),
    decls: tapHelper(x),
    // Row r = (ci, ky, kx) (the bias row clamps to the last channel): its x channel and window offset.
    rowSetup: (i) => wgsl`
      let xc${i} = (batch * CG + min(r${i} / (KH * KW), CG - 1u)) * H * W;
      let ky${i} = i32(r${i} / KW % KH * DH) - PH; let kx${i} = i32(r${i} % KW * DW) - PW;`,
    kSetup: 'let n = k / (OH * OW); let p = k % (OH * OW); let oy = p / OW; let ox = p % OW;',
    laneLoad: (i) => ones(i, `tap(n * C * H * W + xc${i}, i32(oy * SH) + ky${i}, i32(ox * SW) + kx${i})`),
    uniformLoad: (j) => `${dy}[(n * O + batch * OG + c${j}) * OH * OW + p]`,
    store: (row, col, v) =>
      s.attrs.bias ? `if (${row} == ${taps}u) { ${db}[batch * OG + ${col}] = ${v}; } else { ${dwAt(row, col)} = ${v}; }` : `${dwAt(row, col)} = ${v};`,
  });
}
