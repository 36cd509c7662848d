// Convolution input gradient (dgrad) as an implicit GEMM: per group, rows = input pixels,
// columns = that group's C/g input channels, k = the (o, ky, kx) taps of (O/g)*KH*KW, and
//   dx[n, c, y, x] = sum of dy[n, o, oy, ox] * w[o, c, ky, kx] over the taps with
//   y + PH = oy * SH + ky * DH and x + PW = ox * SW + kx * DW (the forward's index map, inverted).
// Three row orders:
// - image-major (n, y, x), any stride: every tap is tried and those that miss dy (outside it, or off
//   the stride grid) load 0;
// - pixel-major (y, x, n), where a row block divides the batch: a block is one pixel of several
//   images, so the taps that land inside dy are the same for the whole block, and the k loop runs
//   over just those with no bounds checks: at stride 1 one contiguous k range (kx, o) per kernel
//   row; with a stride (dilation 1) only the taps on the stride grid, a quarter of a 3x3's at
//   stride 2, one range of o per tap;
// - runs (y, n, x), stride 1, where a row block divides N*W: a lane computes a run of neighbouring
//   pixels of a row (RowRuns) and loads the dy row segment under them once per (o, ky); a block
//   shares y, so kernel rows that miss dy are skipped.
// dgradOrder picks among them (measurements: bench/NOTES.md).
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import { readBinding, writeBinding } from '../module.ts';
import type { KernelModule } from '../kernel.ts';
import { wgsl } from '../writer.ts';
import { type ConvGeometry, type ConvSpec, convConsts, convGeometry, rowSpan, runLength } from './conv2d.ts';
import { type GemmTile, chooseAlignedTile, chooseTile, tileColumns } from './gemm-tiles.ts';
import { workgroupGemmKernel } from './gemm-workgroup.ts';
import { type GemmFrame, type KSteps, type RunSteps, gemmKernel } from './matmul-core.ts';

export type DgradOrder = 'image' | 'pixel' | 'runs';

export interface Conv2dGradInputSpec extends ConvSpec {
  /** Binding names, defaulting to dy, w, dx. */
  readonly names?: Partial<Record<'dy' | 'w' | 'dx', string>>;
  /** Applied to each dx before it is stored: a fused activation gradient. */
  readonly epilogue?: Epilogue;
  /** Row order; by default dgradOrder's. */
  readonly order?: DgradOrder;
}

/** The tile of a row order for this conv, or undefined where the order does not apply. */
export function dgradTile(s: ConvSpec, order: DgradOrder): GemmTile | undefined {
  const g = convGeometry(s);
  const shareU = s.subgroups ?? false;
  const unitStride = s.attrs.stride.every((v) => v === 1);
  if (order === 'image') return chooseTile(g.n * g.h * g.w, g.cg, g.groups, { shareU });
  if (order === 'pixel')
    return unitStride || s.attrs.dilation.every((v) => v === 1) ? chooseAlignedTile(g.n, g.cg, { shareU }) : undefined;
  if (!unitStride) return undefined;
  const run = runLength(g.w, Math.floor(96 / tileColumns(g.cg, shareU)));
  return run === undefined ? undefined : chooseAlignedTile(g.n * g.w, g.cg, { shareU, rowsPerLane: run });
}

/**
 * Runs wherever they apply; else pixel-major rows where at most two thirds of the taps land inside
 * dy; else image-major. On lavapipe runs were fastest on LeNet's conv2 and ResNet's 3x3 convs, and
 * pixel-major lanes, which gather from different images (no shared cache lines), cost more than
 * the taps they skip unless many miss (measurements: bench/NOTES.md).
 */
export function dgradOrder(s: ConvSpec): { order: DgradOrder; tile: GemmTile } {
  const g = convGeometry(s);
  const runs = dgradTile(s, 'runs');
  if (runs) return { order: 'runs', tile: runs };
  const pixel = dgradTile(s, 'pixel');
  const a = s.attrs;
  const hits =
    (meanTaps(g.h, g.oh, g.kh, a.padding[0], a.dilation[0], a.stride[0]) *
      meanTaps(g.w, g.ow, g.kw, a.padding[1], a.dilation[1], a.stride[1])) /
    (g.kh * g.kw);
  if (pixel && hits <= 2 / 3) return { order: 'pixel', tile: pixel };
  return { order: 'image', tile: dgradTile(s, 'image')! };
}

/** Taps of one kernel axis that land inside dy (on its stride grid), averaged over the input positions. */
function meanTaps(size: number, out: number, k: number, pad: number, dil: number, stride: number): number {
  let sum = 0;
  for (let y = 0; y < size; y++) {
    for (let t = 0; t < k; t++) {
      const at = y + pad - t * dil;
      sum += at >= 0 && at % stride === 0 && at / stride < out ? 1 : 0;
    }
  }
  return sum / size;
}

export function conv2dGradInputKernel(s: Conv2dGradInputSpec): KernelModule {
  const g = convGeometry(s);
  const names = { dy: s.names?.dy ?? 'dy', w: s.names?.w ?? 'w', dx: s.names?.dx ?? 'dx' };
  // The workgroup skeleton takes image-major rows, the only order without k ranges or runs.
  if (s.workgroup && s.order && s.order !== 'image')
    throw new Error(`kernel ${s.name}: workgroup tiles take image-major rows, not ${s.order}`);
  const chosen = s.workgroup
    ? { order: 'image' as const, tile: undefined }
    : s.order
      ? { order: s.order, tile: dgradTile(s, s.order) }
      : dgradOrder(s);
  if (!s.workgroup && !chosen.tile)
    throw new Error(`kernel ${s.name}: ${chosen.order} rows do not apply to this convolution`);
  const tile = s.tile ?? chosen.tile!;
  const strided = s.attrs.stride.some((v) => v !== 1);
  const orders = {
    image: () => imageMajor(names),
    pixel: () => pixelMajor(g, tile, names, strided),
    runs: () => rowRuns(s, g, tile, names),
  };
  const { decls, image, pixel, ...rows } = orders[chosen.order]();
  const frame = {
    name: s.name,
    origin: s.origin,
    limits: s.limits,
    inputs: [readBinding(names.dy, g.n * g.o * g.oh * g.ow), readBinding(names.w, g.o * g.cg * g.kh * g.kw)],
    outputs: [
      writeBinding(names.dx, g.n * g.c * g.h * g.w),
      ...epilogueBindings(s.epilogue, g.n * g.c * g.h * g.w, g.c),
    ],
    rows: g.n * g.h * g.w,
    cols: g.cg,
    depth: g.og * g.kh * g.kw,
    convGroups: g.groups,
    consts: convConsts(s, g),
    decls: [decls, epilogueDecls(s.epilogue)].filter((d) => d).join('\n'),
    store: (row: string, col: string, v: string) =>
      epilogueStore(
        names.dx,
        `(${image(row)} * C + batch * CG + ${col}) * H * W + ${pixel(row)}`,
        v,
        s.epilogue,
        `batch * CG + ${col}`,
      ),
  };
  // Staged coalesced: dy along input pixels (rows), w along its taps (k).
  if (s.workgroup)
    return workgroupGemmKernel({ ...frame, ...imageSteps(names), tile: s.workgroup, kContiguous: { u: true } });
  return gemmKernel({ ...frame, tile, ...rows });
}

interface Names {
  readonly dy: string;
  readonly w: string;
  readonly dx: string;
}

/** A row order: its GEMM mappings, and a row's image and pixel (y * W + x) for the store. */
type RowOrder = Pick<GemmFrame, 'rowSetup' | 'kRanges'> &
  (KSteps | RunSteps) & {
    readonly decls: string;
    readonly image: (row: string) => string;
    readonly pixel: (row: string) => string;
  };

function imageMajor(names: Names): RowOrder {
  return { ...imageSteps(names), image: (row) => `${row} / (H * W)`, pixel: (row) => `${row} % (H * W)` };
}

/** Image-major rows' mappings (the workgroup skeleton's too). */
function imageSteps({ dy, w }: Names): Pick<GemmFrame, 'rowSetup'> & KSteps & { readonly decls: string } {
  // `grad(base, ty, tx)`: the dy element a tap at padded offset (ty, tx) came from. Only offsets
  // on the stride grid inside the output were read by the forward; the rest contribute 0
  // (negative offsets wrap to huge u32s and fail the range check).
  return {
    decls: wgsl`
      fn grad(base: u32, ty: i32, tx: i32) -> f32 {
        let oy = u32(ty) / SH; let ox = u32(tx) / SW;
        let hit = oy < OH && ox < OW && oy * SH == u32(ty) && ox * SW == u32(tx);
        return select(0.0, ${dy}[select(0u, base + oy * OW + ox, hit)], hit);
      }`,
    // Row r = (n, y, x): the image's group channels of dy start at gb; (py, px) is the padded position.
    rowSetup: (i) => wgsl`
      let gb${i} = (r${i} / (H * W) * O + batch * OG) * OH * OW;
      let py${i} = i32(r${i} / W % H) + PH; let px${i} = i32(r${i} % W) + PW;`,
    kSetup: 'let oc = k / (KH * KW); let ky = k / KW % KH; let kx = k % KW;',
    laneLoad: (i) => `grad(gb${i} + oc * OH * OW, py${i} - i32(ky * DH), px${i} - i32(kx * DW))`,
    uniformLoad: (j) => `${w}[((batch * OG + oc) * CG + c${j}) * KH * KW + ky * KW + kx]`,
  };
}

/** The pixel of a pixel-major row block, from rb (uniform, as subgroupShuffle needs). */
function blockPixel(g: ConvGeometry, tile: GemmTile): string {
  const block = tile.rowsPerLane * tile.lanes;
  if (g.n % block !== 0)
    throw new Error(`pixel-major rows need row blocks that divide the batch (${g.n}), not ${block}`);
  return g.n === block ? 'rb' : `rb / ${g.n / block}u`;
}

/** Row r = (y, x, n): a block is one pixel of several images; the image's group channels of dy start at gb. */
function pixelMajor(g: ConvGeometry, tile: GemmTile, { dy, w }: Names, strided: boolean): RowOrder {
  const taps = strided ? stridedTaps : unitStrideTaps;
  return {
    decls: '',
    rowSetup: (i) => `let gb${i} = (r${i} % ${g.n}u * O + batch * OG) * OH * OW;`,
    // (ty, tx): the block's pixel, padded.
    kRanges: {
      ...taps.kRanges,
      setup: [
        `let pixel = ${blockPixel(g, tile)};`,
        'let ty = u32(i32(pixel / W) + PH); let tx = u32(i32(pixel % W) + PW);',
        taps.kRanges.setup,
      ].join('\n'),
    },
    kSetup: taps.kSetup,
    laneLoad: (i: number) => `${dy}[gb${i} + at]`,
    uniformLoad: (j: number) => `${w}[((batch * OG + oc) * CG + c${j}) * KH * KW + ky * KW + kx]`,
    image: (row) => `${row} % ${g.n}u`,
    pixel: (row) => `${row} / ${g.n}u`,
  };
}

/** A pixel-major block's k loop from its padded pixel (ty, tx): the taps that land in dy, and `at`, step k's dy offset. */
interface PixelTaps {
  readonly kRanges: NonNullable<GemmFrame['kRanges']>;
  readonly kSetup: string;
}

/**
 * With stride 1, tap ky reads dy row ty - ky * DH (ty = y + PH), inside dy for ky in
 * [ceil((ty - OH + 1) / DH), floor(ty / DH)] within [0, KH); likewise kx.
 */
const unitStrideTaps: PixelTaps = {
  kRanges: {
    setup: wgsl`
      let kyBegin = u32(max(0i, i32(ty) - i32(OH) + i32(DH))) / DH; let kyEnd = min(KH, ty / DH + 1u);
      let kxBegin = u32(max(0i, i32(tx) - i32(OW) + i32(DW))) / DW; let kxEnd = min(KW, tx / DW + 1u);`,
    outer: 'for (var ky = kyBegin; ky < kyEnd; ky++)',
    begin: '(ky * KW + kxBegin) * OG',
    end: '(ky * KW + kxEnd) * OG',
  },
  // k = (ky, kx, o); ky comes from the outer loop.
  kSetup: 'let kx = k / OG % KW; let oc = k % OG; let at = (oc * OH + ty - ky * DH) * OW + tx - kx * DW;',
};

/**
 * With a stride (dilation 1), tap ky reaches dy row (ty - ky) / SH only where SH divides ty - ky,
 * so the block's taps are ky = kyFirst, kyFirst + SH, ... below min(KH, ty + 1), from the first one
 * at or above ty - (OH - 1) * SH on that grid; likewise kx. The k loop runs over those taps, OG
 * channels each. ResNet-18's stride-2 3x3 input gradients tried all 9 taps a pixel in image-major
 * rows, 2.25 of which land on average.
 */
const stridedTaps: PixelTaps = {
  kRanges: {
    setup: wgsl`
      let kyLow = u32(max(0i, i32(ty) - i32((OH - 1u) * SH))); let kxLow = u32(max(0i, i32(tx) - i32((OW - 1u) * SW)));
      let kyFirst = kyLow + (ty - kyLow) % SH; let kyEnd = min(KH, ty + 1u);
      let kxFirst = kxLow + (tx - kxLow) % SW; let kxEnd = min(KW, tx + 1u);
      let nky = select(0u, (kyEnd - kyFirst + SH - 1u) / SH, kyFirst < kyEnd);
      let nkx = select(0u, (kxEnd - kxFirst + SW - 1u) / SW, kxFirst < kxEnd);`,
    outer: 'for (var tap = 0u; tap < nky * nkx; tap++)',
    begin: 'tap * OG',
    end: 'tap * OG + OG',
  },
  // k = (tap, o).
  kSetup:
    'let oc = k % OG; let ky = kyFirst + k / OG / nkx * SH; let kx = kxFirst + k / OG % nkx * SW; let at = (oc * OH + (ty - ky) / SH) * OW + (tx - kx) / SW;',
};

function rowRuns(s: ConvSpec, g: ConvGeometry, tile: GemmTile, { dy, w }: Names): RowOrder {
  const block = tile.rowsPerLane * tile.lanes;
  const plane = g.n * g.w;
  if (plane % block !== 0) throw new Error(`row runs need row blocks that divide N * W (${plane}), not ${block}`);
  return {
    // `dyAt(base, xx)`: dy[base + xx] for a column inside dy, else 0 (negative xx wraps and fails).
    decls: wgsl`
      fn dyAt(base: u32, xx: i32) -> f32 {
        let inside = u32(xx) < OW;
        return select(0.0, ${dy}[select(0u, base + u32(xx), inside)], inside);
      }`,
    // Row r = (y, n, x): the image's group channels of dy start at gb; tap kx of pixel x reads dy
    // column x + PW - kx * DW, and the segment starts at sx (the run's first pixel, kx = KW - 1).
    rowSetup: (i) => wgsl`
      let gb${i} = (r${i} / W % ${g.n}u * O + batch * OG) * OH * OW;
      let sx${i} = i32(r${i} % W) + PW - i32((KW - 1u) * DW);`,
    // A block's y comes from rb (uniform); only kernel rows landing inside dy are looped.
    kRanges: {
      setup: wgsl`
        let y = ${plane === block ? 'rb' : `rb / ${plane / block}u`};
        let ty = u32(i32(y) + PH);
        let kyBegin = u32(max(0i, i32(ty) - i32(OH) + i32(DH))) / DH; let kyEnd = min(KH, ty / DH + 1u);`,
      outer: 'for (var ky = kyBegin; ky < kyEnd; ky++)',
      begin: '0u',
      end: 'OG',
    },
    runs: {
      groups: g.og,
      steps: g.kw,
      groupSetup: 'let dyRow = gb0 + (g * OH + ty - ky * DH) * OW;',
      segment: rowSpan(s.attrs, g, tile.rowsPerLane),
      segmentLoad: (t: number) => `dyAt(dyRow, sx0${t === 0 ? '' : ` + ${t}`})`,
      tapOf: (i: number, step: number) => i + (g.kw - 1 - step) * s.attrs.dilation[1],
      uniformLoad: (col: string, step: string) =>
        `${w}[((batch * OG + g) * CG + ${col}) * KH * KW + ky * KW + ${step}]`,
    },
    image: (row) => `${row} / W % ${g.n}u`,
    pixel: (row) => `${row} / ${plane}u * W + ${row} % W`,
  };
}
