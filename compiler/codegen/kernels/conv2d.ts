// Convolution forward as an implicit GEMM (PyTorch Conv2d: cross-correlation, zero padding, stride,
// dilation, groups; NCHW input, OIHW weight): per group, rows = output pixels (n, oy, ox) of
// N*OH*OW, columns = that group's O/g output channels, k = (c, ky, kx) of (C/g)*KH*KW.
// Also the convolution geometry and the zero-padded input tap shared with the weight gradient.
import type { OpAttrs } from '../../ir/ops.ts';
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import type { KernelModule } from '../kernel.ts';
import { type GemmTile, chooseRowRunTile, chooseTile, tileColumns } from './gemm-tiles.ts';
import { type WorkgroupTile, workgroupGemmKernel } from './gemm-workgroup.ts';
import { gemmKernel } from './matmul-core.ts';
import { wgsl } from '../writer.ts';

export interface ConvSpec extends KernelFrame {
  /** The input's shape [N, C, H, W]. */
  readonly input: readonly [number, number, number, number];
  readonly attrs: OpAttrs['conv2d'];
  readonly tile?: GemmTile;
  /** Use the workgroup-memory skeleton (gemm-workgroup.ts) with this tile instead; same bindings. */
  readonly workgroup?: WorkgroupTile;
  /** The device has subgroups of 8 or more: the default tile shares its weight loads (GemmTile.shareU). */
  readonly subgroups?: boolean;
}

export interface Conv2dSpec extends ConvSpec {
  /** Applied to each output (after the bias): folded batch norm, a fused activation. */
  readonly epilogue?: Epilogue;
  /** Rows in runs along each output row (RowRuns); by default wherever rowRun allows them. */
  readonly runs?: boolean;
  /** Binding names, defaulting to x, w, b, y. */
  readonly names?: Partial<Record<'x' | 'w' | 'b' | 'y', string>>;
}

export interface ConvGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly o: number;
  readonly oh: number;
  readonly ow: number;
  readonly kh: number;
  readonly kw: number;
  readonly groups: number;
  /** Input and output channels per group. */
  readonly cg: number;
  readonly og: number;
}

/** Shapes of a conv, checked; PyTorch: OH = floor((H + 2p - d(k - 1) - 1) / s) + 1. */
export function convGeometry(s: ConvSpec): ConvGeometry {
  const [n, c, h, w] = s.input;
  const a = s.attrs;
  const out = (i: 0 | 1, size: number) =>
    Math.floor((size + 2 * a.padding[i] - a.dilation[i] * (a.kernel[i] - 1) - 1) / a.stride[i]) + 1;
  const g = {
    n,
    c,
    h,
    w,
    o: a.outChannels,
    oh: out(0, h),
    ow: out(1, w),
    kh: a.kernel[0],
    kw: a.kernel[1],
    groups: a.groups,
    cg: c / a.groups,
    og: a.outChannels / a.groups,
  };
  if (!Number.isInteger(g.cg) || !Number.isInteger(g.og))
    throw new Error(`kernel ${s.name}: ${c} in / ${g.o} out channels do not split into ${a.groups} groups`);
  if (g.oh < 1 || g.ow < 1)
    throw new Error(`kernel ${s.name}: a ${a.kernel.join('x')} window does not fit a ${h}x${w} input`);
  return g;
}

/** The geometry as WGSL module constants, so kernel bodies read like the formulas they implement. */
export function convConsts(s: ConvSpec, g: ConvGeometry): string {
  const a = s.attrs;
  return wgsl`
    const C = ${g.c}u; const H = ${g.h}u; const W = ${g.w}u;
    const O = ${g.o}u; const OH = ${g.oh}u; const OW = ${g.ow}u;
    const CG = ${g.cg}u; const OG = ${g.og}u; const KH = ${g.kh}u; const KW = ${g.kw}u;
    const SH = ${a.stride[0]}u; const SW = ${a.stride[1]}u; const DH = ${a.dilation[0]}u; const DW = ${a.dilation[1]}u;
    const PH = ${a.padding[0]}i; const PW = ${a.padding[1]}i;`;
}

/**
 * `tap(base, iy, ix)`: x[base + iy * W + ix] for a tap inside the image, 0 in the zero padding.
 * Negative iy, ix wrap to huge u32s, so one unsigned compare per axis checks both edges.
 */
export function tapHelper(x: string): string {
  return wgsl`
    fn tap(base: u32, iy: i32, ix: i32) -> f32 {
      let inside = u32(iy) < H && u32(ix) < W;
      return select(0.0, ${x}[select(0u, base + u32(iy) * W + u32(ix), inside)], inside);
    }`;
}

/**
 * How many neighbouring output pixels of a row one lane computes in a run (RowRuns), or undefined
 * for the plain GEMM: runs wherever the kernel is 2+ wide and a run of 3 to 8 divides the output
 * width (so it never leaves a row) with at most 96 accumulators; `enabled = false` turns them off.
 * Runs beat the plain GEMM on LeNet's 5x5 and ResNet's 3x3 convs: the segment loads save more than
 * the unshared U loads of a group cost, which a load count had predicted otherwise (measurements:
 * bench/NOTES.md).
 */
export function rowRun(s: ConvSpec, enabled = true): number | undefined {
  const g = convGeometry(s);
  const shareU = s.subgroups ?? false;
  if (!enabled || g.kw < 2) return undefined;
  return runLength(g.ow, Math.floor(96 / tileColumns(g.og, shareU)));
}

/** The longest run (3 to `longest`, at most 8) that divides a row of `width`, so no run leaves its row. */
export function runLength(width: number, longest = 8): number | undefined {
  for (let r = Math.min(8, longest); r >= 3; r--) if (width % r === 0) return r;
  return undefined;
}

/** Input columns that `count` neighbouring output pixels read through one kernel row. */
export function rowSpan(a: OpAttrs['conv2d'], g: ConvGeometry, count: number): number {
  return a.stride[1] * (count - 1) + a.dilation[1] * (g.kw - 1) + 1;
}

export function conv2dKernel(s: Conv2dSpec): KernelModule {
  const g = convGeometry(s);
  const [x, w, b, y] = [s.names?.x ?? 'x', s.names?.w ?? 'w', s.names?.b ?? 'b', s.names?.y ?? 'y'];
  const rows = g.n * g.oh * g.ow;
  const run = s.tile || s.workgroup ? undefined : rowRun(s, s.runs);
  const shareU = s.subgroups ?? false;
  const frame = {
    name: s.name,
    origin: s.origin,
    limits: s.limits,
    inputs: [
      readBinding(x, g.n * g.c * g.h * g.w),
      readBinding(w, g.o * g.cg * g.kh * g.kw),
      ...(s.attrs.bias ? [readBinding(b, g.o)] : []),
    ],
    outputs: [writeBinding(y, g.n * g.o * g.oh * g.ow), ...epilogueBindings(s.epilogue, g.n * g.o * g.oh * g.ow, g.o)],
    rows,
    cols: g.og,
    depth: g.cg * g.kh * g.kw,
    convGroups: g.groups,
    consts: convConsts(s, g),
    decls: [tapHelper(x), epilogueDecls(s.epilogue)].filter((d) => d).join('\n'),
    // Row r = (n, oy, ox): the image's group channels start at xb; the window's top-left is (iy, ix).
    rowSetup: (i: number) => wgsl`
      let xb${i} = (r${i} / (OH * OW) * C + batch * CG) * H * W;
      let iy${i} = i32(r${i} / OW % OH * SH) - PH; let ix${i} = i32(r${i} % OW * SW) - PW;`,
    ...(s.attrs.bias ? { bias: (col: string) => `${b}[batch * OG + ${col}]` } : {}),
    store: (row: string, col: string, v: string) =>
      epilogueStore(
        y,
        `(${row} / (OH * OW) * O + batch * OG + ${col}) * OH * OW + ${row} % (OH * OW)`,
        v,
        s.epilogue,
        `batch * OG + ${col}`,
      ),
  };
  const steps = {
    kSetup: 'let ci = k / (KH * KW); let ky = i32(k / KW % KH * DH); let kx = i32(k % KW * DW);',
    laneLoad: (i: number) => `tap(xb${i} + ci * H * W, iy${i} + ky, ix${i} + kx)`,
    // OIHW: w[o, ci, ky, kx] sits at o * CG * KH * KW + k.
    uniformLoad: (j: number) => `${w}[(batch * OG + c${j}) * CG * KH * KW + k]`,
  };
  // Staged coalesced: x along output pixels (rows), w along its taps (k).
  if (s.workgroup) return workgroupGemmKernel({ ...frame, ...steps, tile: s.workgroup, kContiguous: { u: true } });
  return gemmKernel({
    ...frame,
    tile:
      s.tile ??
      (run ? chooseRowRunTile(rows, run, g.og, g.groups, { shareU }) : chooseTile(rows, g.og, g.groups, { shareU })),
    // Runs: group (ci, kernel row), step = kernel column; the run's first pixel is row 0's window.
    ...(run
      ? {
          runs: {
            groups: g.cg * g.kh,
            steps: g.kw,
            groupSetup: 'let ci = g / KH; let ky = i32(g % KH * DH);',
            segment: rowSpan(s.attrs, g, run),
            segmentLoad: (t: number) => `tap(xb0 + ci * H * W, iy0 + ky, ${t === 0 ? 'ix0' : `ix0 + ${t}`})`,
            tapOf: (i: number, step: number) => s.attrs.stride[1] * i + s.attrs.dilation[1] * step,
            uniformLoad: (col: string, step: string) => `${w}[(batch * OG + ${col}) * CG * KH * KW + g * KW + ${step}]`,
          },
        }
      : steps),
  });
}
