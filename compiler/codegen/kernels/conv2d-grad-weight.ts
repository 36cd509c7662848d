// Convolution weight gradient (wgrad) and bias gradient as an implicit GEMM: per group, rows =
// the filter taps (c, ky, kx) of (C/g)*KH*KW, columns = that group's O/g output channels, and
// k = (n, oy, ox) runs over the whole batch: dw[o, c, ky, kx] = sum of dy[n, o, oy, ox] * x[n, c,
// oy * SH - PH + ky * DH, ox * SW - PW + kx * DW]. db[o] = sum of dy[n, o, oy, ox] is one more
// row whose x tap is 1. The long k is split across workgroups (then summed by a second kernel)
// rather than giving each invocation a whole weight element's loop over the batch.
import { readBinding, writeBinding } from '../module.ts';
import type { KernelModule } from '../kernel.ts';
import { wgsl } from '../writer.ts';
import { type ConvSpec, convConsts, convGeometry, rowSpan, runLength, tapHelper } from './conv2d.ts';
import { type GemmTile, chooseRowRunTile, chooseSplitK, chooseTile } from './gemm-tiles.ts';
import { workgroupGemmKernels, workgroupSplitK } from './gemm-workgroup.ts';
import { gemmKernels } from './matmul-core.ts';

export interface Conv2dGradWeightSpec extends ConvSpec {
  /** Binding names, defaulting to x, dy, dw, db (db only with attrs.bias). */
  readonly names?: Partial<Record<'x' | 'dy' | 'dw' | 'db', string>>;
  /** k partitions; chosen from the shape when omitted. */
  readonly splitK?: number;
  /**
   * Rows in runs (wgradRun): by default where wgradRun expects fewer loads; with a `tile` (whose
   * rowsPerLane must then be KW, a kernel row), only where this is true.
   */
  readonly runs?: boolean;
  /** dw (and db) += the sums: a batch summed over several dispatches (`lower/slices.ts`). */
  readonly accumulate?: boolean;
}

/**
 * Rows in runs (RowRuns) for the weight gradient: a lane owns the KW taps of one kernel row, and k
 * goes in groups of `steps` neighbouring output pixels of a row, so a lane loads the input
 * segment under them once (steps * SW + (KW - 1) * DW values) instead of KW per pixel. `steps`
 * divides the output width, 3 to 8; runs are taken where a count of loads per tap and pixel says
 * they save a quarter: LeNet's 5x5 and, since shared U loads are packed (sharedRunLoads), ResNet's
 * 3x3 convs yes (faster than the plain kernel; measurements: bench/NOTES.md), 1x1 never. `force`
 * true takes them wherever possible, false never (tests).
 */
export function wgradRun(s: ConvSpec, force?: boolean): number | undefined {
  const g = convGeometry(s);
  const shareU = s.subgroups ?? false;
  if (force === false || g.kw < 2 || g.kw > 8) return undefined;
  const rows = g.cg * g.kh * g.kw + (s.attrs.bias ? 1 : 0);
  const plain = chooseTile(rows, g.og, g.groups, { minGroups: 1, shareU });
  if (g.kw * plain.cols > 96) return undefined;
  const steps = runLength(g.ow);
  if (steps === undefined || force) return steps;
  // Loads per tap per output pixel.
  const plainLoads = 1 + plain.cols / (plain.rowsPerLane * (shareU ? 8 : 1));
  const runLoads =
    (rowSpan(s.attrs, g, steps) + (shareU ? Math.ceil((plain.cols * steps) / 8) : plain.cols * steps)) / (g.kw * steps);
  return runLoads * 1.25 <= plainLoads ? steps : undefined;
}

/** The tile, run steps (undefined: plain rows) and k partitions: the spec's, else the rules'. */
export function wgradPlan(s: Conv2dGradWeightSpec): { tile: GemmTile; steps: number | undefined; splitK: number } {
  const g = convGeometry(s);
  const rows = g.cg * g.kh * g.kw + (s.attrs.bias ? 1 : 0);
  const depth = g.n * g.oh * g.ow;
  const shareU = s.subgroups ?? false;
  const steps = s.tile ? (s.runs ? tileSteps(s, s.tile) : undefined) : wgradRun(s, s.runs);
  // Full-size register tiles: the split over k, not smaller tiles, supplies the workgroups.
  const tile =
    s.tile ??
    (steps
      ? chooseRowRunTile(rows, g.kw, g.og, g.groups, { shareU, minGroups: 1 })
      : chooseTile(rows, g.og, g.groups, { minGroups: 1, shareU }));
  return { tile, steps, splitK: s.splitK ?? chooseSplitK(rows, g.og, depth, g.groups, tile) };
}

/** A given tile in runs: a lane's rows are one kernel row (rowsPerLane = KW), k in runs of runLength. */
function tileSteps(s: ConvSpec, tile: GemmTile): number {
  const g = convGeometry(s);
  const steps = runLength(g.ow);
  if (tile.rowsPerLane !== g.kw || g.kw < 2 || steps === undefined)
    throw new Error(
      `kernel ${s.name}: weight-gradient runs need ${g.kw} rows a lane and a run of 3 to 8 dividing ${g.ow}`,
    );
  return steps;
}

/** The kernel, or with a split reduction the partial-sum kernel and then the `_sum` kernel. */
export function conv2dGradWeightKernels(s: Conv2dGradWeightSpec): KernelModule[] {
  const g = convGeometry(s);
  const [x, dy, dw, db] = [s.names?.x ?? 'x', s.names?.dy ?? 'dy', s.names?.dw ?? 'dw', s.names?.db ?? 'db'];
  const taps = g.cg * g.kh * g.kw;
  const rows = taps + (s.attrs.bias ? 1 : 0);
  const depth = g.n * g.oh * g.ow;
  const ones = (i: number, load: string): string => (s.attrs.bias ? `select(${load}, 1.0, r${i} == ${taps}u)` : load);
  const dwAt = (row: string, col: string) => `${dw}[(batch * OG + ${col}) * CG * KH * KW + ${row}]`;
  const set = (at: string, v: string): string => `${at} = ${s.accumulate ? `${at} + ` : ''}${v};`;
  const frame = {
    name: s.name,
    origin: s.origin,
    limits: s.limits,
    inputs: [readBinding(x, g.n * g.c * g.h * g.w), readBinding(dy, g.n * g.o * g.oh * g.ow)],
    outputs: [writeBinding(dw, g.o * taps), ...(s.attrs.bias ? [writeBinding(db, g.o)] : [])],
    rows,
    cols: g.og,
    depth,
    convGroups: g.groups,
    consts: convConsts(s, g),
    decls: tapHelper(x),
    // Row r = (ci, ky, kx) (the bias row clamps to the last channel): its x channel and window offset.
    rowSetup: (i: number) => wgsl`
      let xc${i} = (batch * CG + min(r${i} / (KH * KW), CG - 1u)) * H * W;
      let ky${i} = i32(r${i} / KW % KH * DH) - PH; let kx${i} = i32(r${i} % KW * DW) - PW;`,
    store: (row: string, col: string, v: string) =>
      s.attrs.bias
        ? `if (${row} == ${taps}u) { ${set(`${db}[batch * OG + ${col}]`, v)} } else { ${set(dwAt(row, col), v)} }`
        : set(dwAt(row, col), v),
  };
  const kSteps = {
    kSetup: 'let n = k / (OH * OW); let p = k % (OH * OW); let oy = p / OW; let ox = p % OW;',
    laneLoad: (i: number) => ones(i, `tap(n * C * H * W + xc${i}, i32(oy * SH) + ky${i}, i32(ox * SW) + kx${i})`),
    uniformLoad: (j: number) => `${dy}[(n * O + batch * OG + c${j}) * OH * OW + p]`,
  };
  if (s.workgroup) {
    const splitK = s.splitK ?? workgroupSplitK(rows, g.og, depth, g.groups, s.workgroup);
    // Both operands run along output pixels (k): staged k fastest.
    return workgroupGemmKernels({ ...frame, ...kSteps, tile: s.workgroup, splitK, kContiguous: { p: true, u: true } });
  }
  const { tile, steps, splitK } = wgradPlan(s);
  return gemmKernels({
    ...frame,
    tile,
    splitK,
    // Runs: a lane's rows are one kernel row's taps (r0 its first; the bias row starts a run of
    // its own, as taps is a multiple of KW), a group is `steps` pixels of an output row from ox0.
    ...(steps
      ? {
          runs: {
            groups: depth / steps,
            steps,
            groupSetup: `let n = g / (OH * ${g.ow / steps}u); let oy = g / ${g.ow / steps}u % OH; let ox0 = g % ${g.ow / steps}u * ${steps}u;`,
            segment: rowSpan(s.attrs, g, steps),
            segmentLoad: (t: number) =>
              ones(0, `tap(n * C * H * W + xc0, i32(oy * SH) + ky0, i32(ox0 * SW) + kx0${t === 0 ? '' : ` + ${t}`})`),
            tapOf: (i: number, step: number) => s.attrs.dilation[1] * i + s.attrs.stride[1] * step,
            uniformLoad: (col: string, step: string) =>
              `${dy}[(n * O + batch * OG + ${col}) * OH * OW + oy * OW + ox0 + ${step}]`,
          },
        }
      : kSteps),
  });
}
