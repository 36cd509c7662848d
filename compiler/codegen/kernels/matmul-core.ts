// The register-tiled GEMM skeleton behind linear and the three convolutions (as implicit GEMMs):
//   out[g][r, c] = sum over k < depth of P(g, r, k) * U(g, k, c),   g < convGroups (a grouped
// convolution's groups; 1 otherwise). The WGSL local holding g is named `batch` (the golden
// files pin the generated text).
// Families supply index mappings (how to load P and U, where to store), never loops or tiling.
//
// Shape: each invocation owns `rowsPerLane` rows (strided by `lanes`, so neighbouring invocations
// read neighbouring rows; consecutive in row runs, RowRuns below, so that a lane's rows share what
// they load) and the whole workgroup shares `cols` columns, whose U loads have the
// same address in every invocation (weights: broadcast on GPUs). Each k step does
// rowsPerLane + cols loads for rowsPerLane * cols FMAs into registers; no workgroup memory and no
// barriers (lavapipe runs a workgroup as coroutines: each barrier is a switch).
// On lavapipe every storage load in a loop, uniform or not, becomes 8 masked per-lane loads, and
// each load or store site adds LLVM compile time, so the tile trades FMAs per load (speed) against
// load + store sites (the kernel's first-dispatch compile).
// Where the adapter has subgroups (lavapipe's are 8 wide, one AVX2 vector), U loads are shared:
// 8 lanes each load U for a different k and the k loop takes them by subgroupShuffle, so a U
// column costs a shuffle per k step instead of a load (a load costs about ten shuffles or FMAs),
// and wider tiles pay (GemmTile.shareU). Unrolling the k loop, vec4 loads and uniform-buffer
// weights measured no faster. (measurements: bench/NOTES.md)
import type { BindingSpec, KernelModule } from '../kernel.ts';
import { buildModule, loopBound, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import type { WgslWriter } from '../writer.ts';
import type { GemmTile } from './gemm-tiles.ts';

/**
 * Rows in runs: a lane's rows are consecutive and, over a group of k steps, read overlapping
 * windows of one input row, so what they read is loaded once per group. k splits into `groups`
 * groups of `steps` unrolled steps; per group a lane loads the `segment` values its run reads, and
 * row i reads value tapOf(i, s) at step s. Forward conv: rows = neighbouring output pixels, a
 * group = (input channel, kernel row), steps = kernel columns. Weight gradient: rows = a kernel
 * row's taps, a group = a run of output pixels of one row, steps = those pixels.
 * Loads, not FMAs, bound these kernels on lavapipe: LeNet's first conv (6 columns, 5 taps a row)
 * has 7 rows a lane load 11 values a kernel row instead of 35 (measurements: bench/NOTES.md).
 */
export interface RowRuns {
  readonly groups: number;
  readonly steps: number;
  /** Uniform locals from the group index `g`. */
  readonly groupSetup: string;
  readonly segment: number;
  /** Segment value t; sees row 0's setup locals and the group's. */
  readonly segmentLoad: (t: number) => string;
  readonly tapOf: (i: number, step: number) => number;
  /** U at the group, step `step` and column `col` (u32 WGSL expressions, the column in range). */
  readonly uniformLoad: (col: string, step: string) => string;
}

export interface GemmFrame extends KernelFrame {
  readonly inputs: readonly BindingSpec[];
  readonly outputs: readonly BindingSpec[];
  readonly rows: number;
  readonly cols: number;
  readonly depth: number;
  /** Independent GEMMs of the same shape: a grouped convolution's groups (WGSL `batch`). */
  readonly convGroups: number;
  readonly tile: GemmTile;
  /** Partitions of k across workgroups; above 1 the sums go through a scratch buffer and a second kernel. */
  readonly splitK: number;
  /** Module-scope constants, declared in every kernel of the plan (the reduction's store reads them too). */
  readonly consts?: string;
  /** Module-scope helper functions of the main kernel (loads, epilogue). */
  readonly decls?: string;
  /** Per-lane setup of row i from `ri` (its row, clamped in range) and `batch` (the conv group): locals suffixed i. */
  readonly rowSetup: (i: number) => string;
  /**
   * Where a whole row block shares which k steps are zero (a convolution's input gradient at one
   * pixel: only the kernel taps that land inside dy count), the k loop skips them: `setup` (after
   * the row setup) computes locals from `rb`, `cb` and `batch` (uniform, as WGSL requires of loops
   * around subgroup operations), `outer` opens a loop over ranges, and k (with runs: the group)
   * runs over [begin, end) inside it instead of [0, depth). Not with splitK > 1.
   */
  readonly kRanges?: { readonly setup: string; readonly outer: string; readonly begin: string; readonly end: string };
  /** A per-column value added to every sum, at column `col` (in range); not with splitK > 1. */
  readonly bias?: (col: string) => string;
  /** Stores `value` at (`row`, `col`), both in range, and `batch`; may only write `outputs`. */
  readonly store: (row: string, col: string, value: string) => string;
}

/** k steps that load P per row and U per column at each k. */
export interface KSteps {
  /** Uniform locals from the reduction index `k`. */
  readonly kSetup: string;
  /** P at row i (`ri`, setup locals) and k. */
  readonly laneLoad: (i: number) => string;
  /** U at k and column j (`cj`, clamped in range). */
  readonly uniformLoad: (j: number) => string;
  readonly runs?: undefined;
}

/** k steps in row runs (RowRuns): only row 0 is set up. */
export interface RunSteps {
  readonly runs: RowRuns;
  readonly kSetup?: undefined;
  readonly laneLoad?: undefined;
  readonly uniformLoad?: undefined;
}

export type GemmPlan = GemmFrame & (KSteps | RunSteps);

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The single kernel of an unsplit GEMM. */
export function gemmKernel(plan: Omit<GemmFrame, 'splitK'> & (KSteps | RunSteps)): KernelModule {
  return gemmKernels({ ...plan, splitK: 1 })[0]!;
}

/** One kernel, or with splitK > 1 the partial-sum kernel followed by the `_sum` reduction kernel. */
export function gemmKernels(plan: GemmPlan): KernelModule[] {
  const { rows, tile } = plan;
  if (plan.splitK > 1 && (plan.bias || plan.kRanges))
    throw new Error(`kernel ${plan.name}: a split-k GEMM cannot add a bias or skip k ranges`);
  return tiledGemmKernels(plan, {
    rowBlocks: ceilDiv(rows, tile.rowsPerLane * tile.lanes),
    cols: tile.cols,
    lanes: tile.lanes,
    subgroups: tile.shareU ?? false,
    decls: [],
    loop: (w) => gemmLoop(w, plan),
    storeTile: (w, store) => storeTile(w, plan, store),
  });
}

/** What a GEMM skeleton (this one, gemm-workgroup.ts's) puts in the kernels tiledGemmKernels frames. */
export interface TiledGemm {
  /** Workgroups along the rows. */
  readonly rowBlocks: number;
  /** Output columns per workgroup. */
  readonly cols: number;
  readonly lanes: number;
  /** Whether the loop uses subgroup operations. */
  readonly subgroups: boolean;
  /** Module-scope declarations after the plan's. */
  readonly decls: readonly string[];
  /** The k loop into the lane's accumulators, from `rb`, `cb`, `split` (with splitK > 1) and `batch`. */
  readonly loop: (w: WgslWriter) => void;
  /** Stores the lane's accumulators through `store`. */
  readonly storeTile: (w: WgslWriter, store: (row: string, col: string, value: string) => string) => void;
}

/**
 * A GEMM's kernels around a skeleton's k loop and store: the workgroup grid (row blocks fastest, so
 * neighbouring workgroups share their U columns in cache), and with splitK > 1 the partial sums and
 * the `_sum` reduction kernel.
 */
export function tiledGemmKernels(plan: SplitFrame, gemm: TiledGemm): KernelModule[] {
  const { convGroups, splitK } = plan;
  const rb = gemm.rowBlocks;
  const cb = ceilDiv(plan.cols, gemm.cols);
  const { partial, partialAt } = splitPartials(plan);
  const main = buildModule({
    name: plan.name,
    origin: plan.origin,
    limits: plan.limits,
    bindings: [...plan.inputs, ...(splitK > 1 ? [partial] : plan.outputs)],
    lanes: gemm.lanes,
    subgroups: gemm.subgroups,
    groups: rb * cb * splitK * convGroups,
    decls: [plan.consts ?? '', plan.decls ?? '', ...gemm.decls].filter((d) => d).join('\n'),
    main: (w) => {
      w.line(`let rb = ${digit('group', 1, rb)};`);
      w.line(`let cb = ${digit('group', rb, cb)};`);
      if (splitK > 1) w.line(`let split = ${digit('group', rb * cb, splitK)};`);
      w.line(`let batch = ${digit('group', rb * cb * splitK, convGroups, true)};`);
      gemm.loop(w);
      gemm.storeTile(w, splitK > 1 ? (r, c, v) => `${partialAt('split', r, c)} = ${v};` : plan.store);
    },
  });
  return splitK === 1 ? [main] : [main, splitSumKernel(plan)];
}

/** What a split-k GEMM's kernels share besides the plan: the scratch partial sums, one set per split. */
type SplitFrame = Omit<GemmFrame, 'tile' | 'rowSetup'>;

/** The partial-sum scratch binding of a split-k GEMM, and the WGSL of its element (split, row, col) in group `batch`. */
function splitPartials(plan: SplitFrame): {
  partial: BindingSpec;
  partialAt: (split: string, row: string, col: string) => string;
} {
  const { rows, cols, convGroups, splitK } = plan;
  const partial = writeBinding(`${plan.name}_partial`, convGroups * splitK * rows * cols);
  const partialAt = (split: string, row: string, col: string) =>
    `${partial.name}[((batch * ${splitK}u + ${split}) * ${rows}u + ${row}) * ${cols}u + ${col}]`;
  return { partial, partialAt };
}

/** The `_sum` kernel of a split-k GEMM: adds the splits' partial sums and stores them through the plan. */
function splitSumKernel(plan: SplitFrame): KernelModule {
  const { rows, cols, convGroups, splitK } = plan;
  const { partial, partialAt } = splitPartials(plan);
  const total = convGroups * rows * cols;
  return buildModule({
    name: `${plan.name}_sum`,
    origin: plan.origin,
    limits: plan.limits,
    bindings: [readBinding(partial.name, partial.elements), ...plan.outputs],
    lanes: 64,
    groups: ceilDiv(total, 64),
    ...(plan.consts ? { decls: plan.consts } : {}),
    main: (w) => {
      w.line('let i = group * 64u + lid.x;');
      w.line(`if (i >= ${total}u) { return; }`);
      w.line(`let col = ${digit('i', 1, cols)};`);
      w.line(`let row = ${digit('i', cols, rows)};`);
      w.line(`let batch = ${digit('i', rows * cols, convGroups, true)};`);
      w.line('var sum = 0.0;');
      w.line(`for (var s = 0u; s < ${loopBound(plan, `${splitK}u`)}; s++) { sum += ${partialAt('s', 'row', 'col')}; }`);
      w.line(plan.store('row', 'col', 'sum'));
    },
  });
}

function gemmLoop(w: WgslWriter, plan: GemmPlan): void {
  const { rows, cols, depth, splitK, tile } = plan;
  const tm = range(tile.rowsPerLane);
  const tn = range(tile.cols);
  // Rows and columns past the edge load from the last valid one and are never stored, so the
  // loop needs no bounds checks.
  for (const i of plan.runs ? [0] : tm) {
    w.line(`let r${i} = min(${rowOf(plan, i)}, ${rows - 1}u);`);
    chunkIf(w, plan.rowSetup(i));
  }
  // Shared run loads address their columns per lane instead (sharedRunLoads).
  if (!(plan.runs && tile.shareU))
    for (const j of tn) w.line(`let c${j} = min(cb * ${tile.cols}u + ${j}u, ${cols - 1}u);`);
  for (const i of tm) w.line(tn.map((j) => `var acc${i}_${j} = 0.0;`).join(' '));
  // With splitK > 1, workgroup `split` takes one chunk of k (of the run groups, with runs).
  const span = plan.runs ? plan.runs.groups : depth;
  const chunk = ceilDiv(span, splitK);
  const [k0, k1] =
    splitK > 1 ? [`split * ${chunk}u`, `min(split * ${chunk}u + ${chunk}u, ${span}u)`] : ['0u', `${span}u`];
  const loop = (from: string, to: string): void =>
    plan.runs ? runLoop(w, plan.runs, plan, from, to) : kLoop(w, plan, from, to);
  if (plan.kRanges) {
    const { setup, outer, begin, end } = plan.kRanges;
    w.chunk(setup);
    w.block(outer, () => loop(begin, end));
  } else {
    loop(k0, k1);
  }
}

/** The k loop over [k0, k1) with its FMAs into the accumulators. */
function kLoop(w: WgslWriter, plan: GemmFrame & KSteps, k0: string, k1: string): void {
  const { tile } = plan;
  const tm = range(tile.rowsPerLane);
  const tn = range(tile.cols);
  // One k step: the lane loads, then `us` (the U values as u0, u1, ...), then the FMAs.
  const step = (us: () => void): void => {
    chunkIf(w, plan.kSetup);
    for (const i of tm) w.line(`let p${i} = ${plan.laneLoad(i)};`);
    us();
    for (const i of tm) w.line(tn.map((j) => `acc${i}_${j} += p${i} * u${j};`).join(' '));
  };
  if (!tile.shareU) {
    w.block(`for (var k = ${k0}; k < ${loopBound(plan, k1)}; k++)`, () =>
      step(() => {
        for (const j of tn) w.line(`let u${j} = ${plan.uniformLoad(j)};`);
      }),
    );
    return;
  }
  w.line(`let kEnd = ${loopBound(plan, k1)};`);
  w.block(`for (var kb = ${k0}; kb < kEnd; kb += 8u)`, () => {
    // Lane sid % 8 loads U at k = kb + its lane (clamped: lanes past the end are never read);
    // the inner loop's k shadows this one.
    w.line('let k = min(kb + sid % 8u, kEnd - 1u);');
    chunkIf(w, plan.kSetup);
    for (const j of tn) w.line(`let shared${j} = ${plan.uniformLoad(j)};`);
    w.block('for (var kk = 0u; kk < min(8u, kEnd - kb); kk++)', () => {
      w.line('let k = kb + kk;');
      step(() => {
        for (const j of tn) w.line(`let u${j} = subgroupShuffle(shared${j}, kk);`);
      });
    });
  });
}

/** Row i of a lane (i a number or a WGSL u32): strided by the lanes, or consecutive in runs. */
function rowOf(plan: GemmPlan, i: number | string): string {
  const { rowsPerLane, lanes } = plan.tile;
  const first = `rb * ${rowsPerLane * lanes}u`;
  if (plan.runs)
    return `${first} + lid.x * ${rowsPerLane}u${i === 0 ? '' : ` + ${typeof i === 'number' ? `${i}u` : i}`}`;
  return `${first} + ${i === 0 ? '' : typeof i === 'number' ? `${i * lanes}u + ` : `${i} * ${lanes}u + `}lid.x`;
}

/** The k loop of row runs over groups [g0, g1): per group, the segment's loads, then its steps unrolled. */
function runLoop(w: WgslWriter, runs: RowRuns, plan: GemmFrame, g0: string, g1: string): void {
  const { tile } = plan;
  const tm = range(tile.rowsPerLane);
  const tn = range(tile.cols);
  const u = tile.shareU
    ? sharedRunLoads(w, runs, plan)
    : (step: number, j: number) => runs.uniformLoad(`c${j}`, `${step}u`);
  w.block(`for (var g = ${g0}; g < ${loopBound(plan, g1)}; g++)`, () => {
    w.chunk(runs.groupSetup);
    if (tile.shareU)
      for (const m of range(ceilDiv(tile.cols * runs.steps, 8)))
        w.line(`let shared${m} = ${runs.uniformLoad(`sc${m}`, `ss${m}`)};`);
    for (const t of range(runs.segment)) w.line(`let s${t} = ${runs.segmentLoad(t)};`);
    for (const step of range(runs.steps)) for (const j of tn) w.line(`let u${step}_${j} = ${u(step, j)};`);
    // Accumulator by accumulator, each taking all the group's steps: wide tiles keep their
    // accumulators on the stack, and this order loads and stores each once a group, not once a
    // step (the operands, read-only, spill more cheaply); faster than step by step on LeNet's and
    // ResNet-18's convs (measurements: bench/NOTES.md).
    for (const i of tm)
      for (const j of tn)
        w.line(
          range(runs.steps)
            .map((step) => `acc${i}_${j} += s${runs.tapOf(i, step)} * u${step}_${j};`)
            .join(' '),
        );
  });
}

/**
 * Shared U loads of a run group, packed: the group needs U at cols x steps (column, step) pairs,
 * pair f = j * steps + step; lane sid % 8 of load m holds pair 8m + lane (its column sc_m and step
 * ss_m are set up here, before the loop). A load per column, as before, left the lanes past the
 * last step idle: 16 loads a group where 10 serve LeNet's 5 steps and 6 ResNet's 3 (measurements:
 * bench/NOTES.md). Returns the shuffle that takes U at (step, column j).
 */
function sharedRunLoads(w: WgslWriter, runs: RowRuns, plan: GemmFrame): (step: number, j: number) => string {
  const { tile, cols } = plan;
  const pairs = tile.cols * runs.steps;
  for (const m of range(ceilDiv(pairs, 8))) {
    w.line(`let f${m} = min(${8 * m}u + sid % 8u, ${pairs - 1}u);`);
    w.line(
      `let sc${m} = min(cb * ${tile.cols}u + f${m} / ${runs.steps}u, ${cols - 1}u); let ss${m} = f${m} % ${runs.steps}u;`,
    );
  }
  return (step, j) => {
    const f = j * runs.steps + step;
    return `subgroupShuffle(shared${Math.floor(f / 8)}, ${f % 8}u)`;
  };
}

function storeTile(w: WgslWriter, plan: GemmPlan, store: (row: string, col: string, value: string) => string): void {
  const { rows, cols, tile, bias } = plan;
  const accs = range(tile.rowsPerLane).flatMap((i) => range(tile.cols).map((j) => `acc${i}_${j}`));
  // One store site in a loop rather than one per accumulator: on lavapipe LLVM's compile time
  // grows with store sites (measurements: bench/NOTES.md), while the loop costs little next to the
  // k loop; it stays one site there only with its bounds hidden (loopBound), or lavapipe unrolls
  // it. Rows grow with i and columns with j, so the first one past the edge ends its loop.
  w.line(`var tile = array<f32, ${accs.length}>(${accs.join(', ')});`);
  w.block(`for (var i = 0u; i < ${loopBound(plan, `${tile.rowsPerLane}u`)}; i++)`, () => {
    w.line(`let row = ${rowOf(plan, 'i')};`);
    w.line(`if (row >= ${rows}u) { break; }`);
    w.block(`for (var j = 0u; j < ${loopBound(plan, `${tile.cols}u`)}; j++)`, () => {
      w.line(`let col = cb * ${tile.cols}u + j;`);
      if (cols % tile.cols !== 0) w.line(`if (col >= ${cols}u) { break; }`);
      const value = `tile[i * ${tile.cols}u + j]`;
      w.line(store('row', 'col', bias ? `${value} + ${bias('col')}` : value));
    });
  });
}

/** Digit `index / stride % count` of a mixed-radix index, simplified for the common 1s. */
export function digit(index: string, stride: number, count: number, last = false): string {
  if (count === 1) return '0u';
  const q = stride === 1 ? index : `${index} / ${stride}u`;
  return last ? q : `${q} % ${count}u`;
}

function chunkIf(w: WgslWriter, text: string): void {
  if (text) w.chunk(text);
}
