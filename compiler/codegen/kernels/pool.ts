// Max and average 2-D pooling over NCHW, forward and backward (PyTorch MaxPool2d with dilation and
// ceil_mode, AvgPool2d with ceil_mode and count_include_pad), and the window machinery adaptive
// pooling reuses.
import {
  type Pool2dAttrs,
  type PoolOptions,
  poolOptions,
  windowMissingInput,
  windowOutSize,
} from '../../ir/pool-window.ts';
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import type { KernelModule } from '../kernel.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { WgslWriter, wgsl } from '../writer.ts';
import { type ItemLanes, perItemKernel } from './reduce.ts';

/**
 * How one spatial axis maps outputs to input windows, as WGSL function bodies over i32:
 * `window` (sees `o`) returns Win(lo, hi, extent): the input range [lo, hi) the window reads,
 * clipped to the input, and the axis's factor of the average divisor; `cover` (sees `i`) returns
 * the inclusive range vec2i(first, last) of outputs whose window reads input `i` (may be empty).
 */
export interface PoolAxis {
  readonly size: number;
  readonly out: number;
  readonly window: string;
  readonly cover: string;
  /**
   * Every window's tap count, when none is clipped: its loop then has a trip count all lanes share.
   * Lanes of a loop whose bounds differ per lane run masked on lavapipe, at several times the cost.
   */
  readonly extent?: number;
  /** Taps this far apart (max pooling's dilation); absent: neighbours. */
  readonly step?: number;
  /**
   * Windows tile the axis, each this wide (k = s, no padding or dilation; equal adaptive bins): `cover` holds
   * at most one output, so the backward needs no loop, and neighbouring inputs share it.
   */
  readonly disjoint?: number;
}

export interface PoolGeometry {
  /** [N, C, H, W]. */
  readonly input: readonly [number, number, number, number];
  readonly rows: PoolAxis;
  readonly cols: PoolAxis;
}

export type PoolKind = 'max' | 'avg';

export interface Pool2dSpec extends KernelFrame, ItemLanes {
  /** [N, C, H, W]. */
  readonly input: readonly [number, number, number, number];
  readonly attrs: Pool2dAttrs;
  /** Backward only: applied to each dx before it is stored (a fused activation gradient). */
  readonly epilogue?: Epilogue;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** `expr + n` and `expr / d` as WGSL, without `+ -1`, `+ 0` or `/ 1`. */
function plus(expr: string, n: number): string {
  return n === 0 ? expr : n > 0 ? `${expr} + ${n}` : `${expr} - ${-n}`;
}

function over(expr: string, d: number): string {
  return d === 1 ? expr : `(${expr}) / ${d}`;
}

/**
 * A strided, padded, dilated window axis; its output size is PyTorch's, ceil_mode included
 * (ir/pool-window.ts). The avg divisor factor is min(start + k, size + p) - start taken BEFORE
 * clipping, so padded zeros count (count_include_pad) but a ceil_mode window's overhang past the
 * padding does not; without count_include_pad it is the clipped length. Max pooling alone dilates.
 */
function stridedAxis(
  kernel: string,
  size: number,
  k: number,
  s: number,
  p: number,
  d: number,
  o: PoolOptions,
): PoolAxis {
  if (k < 1 || s < 1 || p < 0 || d < 1)
    throw new Error(`kernel ${kernel}: bad window (kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
  // PyTorch rejects padding above half the kernel, which guarantees every undilated window reads the input.
  if (p > k / 2) throw new Error(`kernel ${kernel}: padding ${p} exceeds half of kernel size ${k}`);
  const out = windowOutSize(size, k, s, p, d, o.ceilMode);
  if (out < 1)
    throw new Error(
      `kernel ${kernel}: window ${k} (stride ${s}, padding ${p}, dilation ${d}) does not fit size ${size}`,
    );
  if (windowMissingInput(size, out, k, s, p, d) >= 0)
    throw new Error(
      `kernel ${kernel}: a window (kernel ${k}, dilation ${d}, padding ${p}) reads only padding of size ${size}`,
    );
  const span = d * (k - 1) + 1;
  const tiling = p === 0 && k === s && d === 1;
  // A dilated window starting in the padding reads from its first tap inside the input.
  const lo =
    d > 1 && p > 0 ? `select(start, start + ${over(plus('-start', d - 1), d)} * ${d}, start < 0)` : 'max(start, 0)';
  return {
    size,
    out,
    // Without padding, every window lies inside the input unless ceil_mode adds a last one past it.
    ...(p === 0 && (out - 1) * s + span <= size ? { extent: k } : {}),
    ...(d > 1 ? { step: d } : {}),
    ...(tiling ? { disjoint: k } : {}),
    window: wgsl`
      let start = ${plus(s === 1 ? 'o' : `o * ${s}`, -p)};
      let end = min(start + ${span}, ${size + p});
      return Win(${lo}, min(end, ${size}), ${o.countIncludePad ? 'end - start' : `min(end, ${size}) - max(start, 0)`});
    `,
    // Window o reads i when o*s - p <= i < o*s - p + span: o in [ceil((i + p - span + 1) / s), floor((i + p) / s)]
    // (with dilation a superset: max pooling's argmax picks the taps); tiling windows reduce that
    // to o = i / s (none past the last window), unsigned since i >= 0.
    cover: tiling
      ? wgsl`
        let o = i32(u32(i) / ${s}u);
        return vec2i(o, min(o, ${out - 1}));
      `
      : wgsl`
        let a = ${plus('i', p - span + 1)};
        let first = select(0, ${over(plus('a', s - 1), s)}, a > 0);
        return vec2i(first, min(${over(plus('i', p), s)}, ${out - 1}));
      `,
  };
}

export function stridedGeometry(spec: Pool2dSpec): PoolGeometry {
  const [, , h, w] = spec.input;
  const { kernel, stride, padding } = spec.attrs;
  const o = poolOptions(spec.attrs);
  return {
    input: spec.input,
    rows: stridedAxis(spec.name, h, kernel[0], stride[0], padding[0], o.dilation[0], o),
    cols: stridedAxis(spec.name, w, kernel[1], stride[1], padding[1], o.dilation[1], o),
  };
}

/** [N, C, OH, OW] of a pooling op. */
export function poolOutputShape(g: PoolGeometry): [number, number, number, number] {
  return [g.input[0], g.input[1], g.rows.out, g.cols.out];
}

/** The geometry as WGSL: shape consts and the per-axis window/cover functions. */
function geometryDecls(g: PoolGeometry): string {
  const w = new WgslWriter();
  w.chunk(wgsl`
    const H: i32 = ${g.rows.size};
    const W: i32 = ${g.cols.size};
    const OH: i32 = ${g.rows.out};
    const OW: i32 = ${g.cols.out};

    struct Win { lo: i32, hi: i32, extent: i32 }
  `);
  for (const [axis, a] of [
    ['h', g.rows],
    ['w', g.cols],
  ] as const) {
    w.line().block(`fn window_${axis}(o: i32) -> Win`, () => w.chunk(a.window));
    w.line().block(`fn cover_${axis}(i: i32) -> vec2i`, () => w.chunk(a.cover));
  }
  return w.toString();
}

/** Element j of the run starting at `i0`. */
const runItem = (j: number): string => (j === 0 ? 'i0' : `i0 + ${j}u`);

/**
 * Run `i` of `run` neighbouring elements of a [planes, rows, cols] grid (run divides cols) as its
 * first element `i0` and (plane base, row, first column).
 */
function splitRun(
  run: number,
  base: string,
  planeStride: number,
  rows: number,
  cols: number,
  r: string,
  c: string,
): string {
  return wgsl`
    let i0 = ${run === 1 ? 'i' : `i * ${run}u`};
    let ${c} = i32(i0 % ${cols}u);
    let ${r} = i32((i0 / ${cols}u) % ${rows}u);
    let ${base} = (i0 / ${rows * cols}u) * ${planeStride}u;
  `;
}

const scan: Record<PoolKind, { init: string; tap: string; store: string }> = {
  // Padding acts as -inf, so only real taps compete; starting from the first tap with a strict `>`
  // keeps the FIRST maximum in row-major scan order, as PyTorch's CPU kernel does. (PyTorch also
  // lets a NaN win; WGSL may assume floats are never NaN, so that is not reproduced.)
  max: {
    init: 'var best = x[base + u32(r.lo * W + q.lo)];\nvar arg = r.lo * W + q.lo;',
    tap: 'if (v > best) {\n  best = v;\n  arg = t;\n}',
    store: 'y[i] = best;\nargmax[i] = arg;',
  },
  // Padded zeros add nothing to the sum but count in the divisor (count_include_pad = true).
  avg: {
    init: 'var sum = 0.0;',
    tap: 'sum += v;',
    store: 'y[i] = sum / f32(r.extent * q.extent);',
  },
};

/**
 * How many neighbouring columns one invocation handles: 4 where it divides the row, else the
 * largest divisor up to 8 (1 for a prime width above 8). On lavapipe an invocation's fixed cost
 * (index split, bounds checks, launch) is several times a load's, so a run of columns sharing one
 * index split halves a pooling kernel; runs of 4 measured faster than runs of 7 or 14
 * (measurements: bench/NOTES.md).
 */
export function columnRun(width: number): number {
  if (width % 4 === 0) return 4;
  for (let r = 8; r > 1; r--) if (width % r === 0) return r;
  return 1;
}

/**
 * One invocation per run of `columnRun(OW)` outputs of a row: each scans its window; max also
 * stores the argmax (h * W + w in the plane).
 */
export function poolForward(frame: KernelFrame & ItemLanes, kind: PoolKind, g: PoolGeometry): KernelModule {
  const [n, c, h, w] = g.input;
  const outCount = n * c * g.rows.out * g.cols.out;
  const bindings = [readBinding('x', n * c * h * w), writeBinding('y', outCount)];
  if (kind === 'max') bindings.push(writeBinding('argmax', outCount, 'i32'));
  const s = scan[kind];
  const run = columnRun(g.cols.out);
  const main = new WgslWriter()
    .chunk(splitRun(run, 'base', h * w, g.rows.out, g.cols.out, 'oy', 'ox0'))
    .line('let r = window_h(oy);');
  for (let j = 0; j < run; j++) {
    main.block('', () => {
      main
        .line(`let i = ${runItem(j)};`)
        .line(`let q = window_w(${plus('ox0', j)});`)
        .chunk(s.init);
      windowLoop(main, 'yy', 'r', g.rows, () =>
        windowLoop(main, 'xx', 'q', g.cols, () => {
          main.line('let t = yy * W + xx;').line('let v = x[base + u32(t)];').chunk(s.tap);
        }),
      );
      main.chunk(s.store);
    });
  }
  return perItemKernel({ ...frame, bindings }, outCount / run, geometryDecls(g), main.toString());
}

/**
 * One invocation per run of `columnRun(W)` INPUT elements of a row, each gathering from the outputs
 * whose windows read it, so no two invocations write the same dx (race-free, no atomics). Max: the
 * whole dy of each output whose stored argmax is this element; avg: dy / divisor of every covering
 * window.
 */
export function poolBackward(
  frame: KernelFrame & ItemLanes,
  kind: PoolKind,
  g: PoolGeometry,
  epilogue?: Epilogue,
): KernelModule {
  const [n, c, h, w] = g.input;
  const inCount = n * c * h * w;
  const outCount = n * c * g.rows.out * g.cols.out;
  const bindings =
    kind === 'max'
      ? [
          readBinding('argmax', outCount, 'i32'),
          readBinding('dy', outCount),
          writeBinding('dx', inCount),
          ...epilogueBindings(epilogue, inCount, c),
        ]
      : [readBinding('dy', outCount), writeBinding('dx', inCount), ...epilogueBindings(epilogue, inCount, c)];
  const scale = `f32(${divisor('h', 'oy', g.rows)} * ${divisor('w', 'ox', g.cols)})`;
  // Max: the whole dy of an output whose argmax is this input; avg: dy / the window's divisor.
  const take = (sum: string, ix: string, d: string): string =>
    kind === 'max' ? `if (argmax[o] == iy * W + ${ix}) {\n  ${sum} += ${d};\n}` : `${sum} += ${d} / ${scale};`;
  const run = columnRun(w);
  const main = new WgslWriter()
    .chunk(splitRun(run, 'base', g.rows.out * g.cols.out, h, w, 'iy', 'ix0'))
    .line('let rows = cover_h(iy);');
  const tile = g.cols.disjoint !== undefined && run % g.cols.disjoint === 0 ? g.cols.disjoint : 0;
  if (tile > 0) {
    // Tiling windows: the run's columns go `tile` at a time to one output, whose dy (and argmax)
    // load once. The tile divides the run, which divides W, so every column has its window.
    for (let u = 0; u < run / tile; u++) {
      const cols = range(tile).map((t) => u * tile + t);
      main.block('', () => {
        main
          .line(`let ox = ix0 / ${tile}${u === 0 ? '' : ` + ${u}`};`)
          .line(cols.map((j) => `var g${j} = 0.0;`).join(' '));
        coverLoop(main, 'oy', 'rows', g.rows, () => {
          main.line('let o = base + u32(oy * OW + ox);').line('let d = dy[o];');
          for (const j of cols) main.chunk(take(`g${j}`, plus('ix0', j), 'd'));
        });
        for (const j of cols) main.line(epilogueStore('dx', runItem(j), `g${j}`, epilogue));
      });
    }
  } else {
    for (let j = 0; j < run; j++) {
      main.block('', () => {
        main
          .line(`let i = ${runItem(j)};`)
          .line(`let ix = ${plus('ix0', j)};`)
          .line('let cols = cover_w(ix);')
          .line('var g = 0.0;');
        coverLoop(main, 'oy', 'rows', g.rows, () =>
          coverLoop(main, 'ox', 'cols', g.cols, () => {
            main.line('let o = base + u32(oy * OW + ox);').chunk(take('g', 'ix', 'dy[o]'));
          }),
        );
        main.line(epilogueStore('dx', 'i', 'g', epilogue));
      });
    }
  }
  return perItemKernel(
    { ...frame, bindings },
    inCount / run,
    [geometryDecls(g), epilogueDecls(epilogue)].filter((d) => d).join('\n'),
    main.toString(),
  );
}

/** One axis's factor of the average divisor of window `o`: a constant when no window is clipped. */
function divisor(axis: 'h' | 'w', o: string, a: PoolAxis): string {
  return a.extent === undefined ? `window_${axis}(${o}).extent` : `${a.extent}`;
}

/** `v` over the window `win` (a Win) of one axis. */
function windowLoop(w: WgslWriter, v: string, win: string, axis: PoolAxis, body: () => void): void {
  const step = axis.step ?? 1;
  if (axis.extent === undefined) {
    w.block(`for (var ${v} = ${win}.lo; ${v} < ${win}.hi; ${v}${step === 1 ? '++' : ` += ${step}`})`, body);
    return;
  }
  w.block(`for (var d${v} = 0; d${v} < ${axis.extent}; d${v}++)`, () => {
    w.line(`let ${v} = ${win}.lo + d${v}${step === 1 ? '' : ` * ${step}`};`);
    body();
  });
}

/** `v` over the outputs `range` (a vec2i, inclusive) whose windows cover one input. */
function coverLoop(w: WgslWriter, v: string, range: string, axis: PoolAxis, body: () => void): void {
  if (axis.disjoint === undefined) {
    w.block(`for (var ${v} = ${range}.x; ${v} <= ${range}.y; ${v}++)`, body);
    return;
  }
  w.block(`if (${range}.x <= ${range}.y)`, () => {
    w.line(`let ${v} = ${range}.x;`);
    body();
  });
}

/** Bindings: x | y, argmax (i32, plane-local index h * W + w of each output's maximum). */
export function maxpool2dForward(spec: Pool2dSpec): KernelModule {
  return poolForward(spec, 'max', stridedGeometry(spec));
}

/** Bindings: argmax (from the forward), dy | dx. */
export function maxpool2dBackward(spec: Pool2dSpec): KernelModule {
  return poolBackward(spec, 'max', stridedGeometry(spec), spec.epilogue);
}

/** Bindings: x | y. */
export function avgpool2dForward(spec: Pool2dSpec): KernelModule {
  return poolForward(spec, 'avg', stridedGeometry(spec));
}

/** Bindings: dy | dx. */
export function avgpool2dBackward(spec: Pool2dSpec): KernelModule {
  return poolBackward(spec, 'avg', stridedGeometry(spec), spec.epilogue);
}
