// The workgroup-memory tiled GEMM skeleton, shaped for GPUs (matmul-core.ts is shaped for
// lavapipe): the same sum out[g][r, c] = sum over k of P(g, r, k) * U(g, k, c) and the same plans
// (bindings, index mappings, bias, store and epilogue), so a family switches skeleton without
// touching its lowering. A workgroup owns a `rows` x `cols` output tile; its 64-256 lanes stage
// K blocks of `kBlock` steps of P and U in `var<workgroup>` memory (one cooperative, coalesced
// load per element, between barriers), then each lane sums its rowsPerLane x colsPerLane
// accumulators from there. On a GPU the staging makes one global load serve a whole tile row or
// column, and 64-256 lanes with small register tiles keep the SMs occupied; on lavapipe a barrier
// is a coroutine switch and it runs slower (measurements: bench/NOTES.md).
// Only the plan's KSteps form is used: each family's P and U maps become WGSL functions loadP and
// loadU, called once per staged element. Plans that skip k ranges (kRanges) are not supported.
import type { DeviceLimits } from '../limits.ts';
import type { KernelModule } from '../kernel.ts';
import { limitsOf } from '../module.ts';
import type { WgslWriter } from '../writer.ts';
import { type GemmFrame, type KSteps, tiledGemmKernels } from './matmul-core.ts';

export interface WorkgroupTile {
  /** Output rows per workgroup. */
  readonly rows: number;
  /** Output columns per workgroup. */
  readonly cols: number;
  /** Accumulator rows per lane; divides `rows`. */
  readonly rowsPerLane: number;
  /** Accumulator columns per lane; divides `cols`. */
  readonly colsPerLane: number;
  /** k steps staged in workgroup memory between barriers. */
  readonly kBlock: number;
  /**
   * A lane's rows and columns are consecutive and read from workgroup memory as vec4s (rowsPerLane
   * and colsPerLane multiples of 4); otherwise they are strided by the lanes, each read a scalar.
   */
  readonly vec4?: boolean;
}

/**
 * A GEMM plan in KSteps form with a workgroup tile; kRanges are not supported. `kContiguous` says
 * which operands lie contiguous along k in memory (a row-major A, a conv weight's taps): those are
 * staged k fastest, the others row (column) fastest, so that neighbouring lanes load neighbouring
 * words (coalesced on a GPU).
 */
export type WorkgroupPlan = Omit<GemmFrame, 'tile' | 'kRanges'> &
  KSteps & {
    readonly tile: WorkgroupTile;
    readonly kContiguous?: { readonly p?: boolean; readonly u?: boolean };
  };

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** A WGSL u32: a number as a literal, a name as is. */
const u32 = (v: number | string): string => (typeof v === 'number' ? `${v}u` : v);

/** Invocations per workgroup of a tile. */
export const tileLanes = (t: WorkgroupTile): number => (t.rows / t.rowsPerLane) * (t.cols / t.colsPerLane);

/** Bytes of workgroup memory a tile stages: a K block of P rows and of U columns. */
export const tileStorage = (t: WorkgroupTile): number => 4 * t.kBlock * (t.rows + t.cols);

/** Why a tile cannot run on a device with `limits`, or undefined where it can. */
export function tileProblem(t: WorkgroupTile, limits: DeviceLimits): string | undefined {
  const lanes = tileLanes(t);
  if (!Number.isInteger(lanes) || lanes < 1) return `${t.rowsPerLane}x${t.colsPerLane} lanes do not divide the tile`;
  if (t.vec4 && (t.rowsPerLane % 4 !== 0 || t.colsPerLane % 4 !== 0))
    return 'vec4 reads need rows and columns per lane that are multiples of 4';
  if (lanes > limits.maxComputeInvocationsPerWorkgroup || lanes > limits.maxComputeWorkgroupSizeX)
    return `${lanes} lanes exceed the device's workgroup size`;
  if (tileStorage(t) > limits.maxComputeWorkgroupStorageSize)
    return `${tileStorage(t)} bytes of workgroup memory exceed the device's ${limits.maxComputeWorkgroupStorageSize}`;
  return undefined;
}

/** One kernel, or with splitK > 1 the partial-sum kernel followed by matmul-core's `_sum` reduction kernel. */
export function workgroupGemmKernels(plan: WorkgroupPlan): KernelModule[] {
  const { rows, splitK, tile } = plan;
  if (splitK > 1 && plan.bias) throw new Error(`kernel ${plan.name}: a split-k GEMM cannot add a bias`);
  const problem = tileProblem(tile, limitsOf(plan));
  if (problem) throw new Error(`kernel ${plan.name}: workgroup tile ${tileName(tile)}: ${problem}`);
  return tiledGemmKernels(plan, {
    rowBlocks: ceilDiv(rows, tile.rows),
    cols: tile.cols,
    lanes: tileLanes(tile),
    subgroups: false,
    decls: [operandFns(plan), stagingDecls(tile)],
    loop: (w) => blockLoop(w, plan),
    storeTile: (w, store) => storeTile(w, plan, store),
  });
}

/** The single kernel of an unsplit GEMM. */
export function workgroupGemmKernel(plan: Omit<WorkgroupPlan, 'splitK'>): KernelModule {
  return workgroupGemmKernels({ ...plan, splitK: 1 })[0]!;
}

/**
 * Candidate tiles for a rows x cols GEMM of `depth` k steps, for the tuner: 64x64 and 128x64 tiles
 * of 4x4 to 8x8 accumulators (64-256 lanes), and smaller ones where the GEMM is small, K blocks of
 * 8-16 steps (fewer where depth is shorter), vec4 reads beside scalar ones where a lane's block
 * allows them; only those the device's workgroup size and memory limits admit. Tiles far larger
 * than the output (more than twice its rows or columns, rounded up to the smallest tile) are
 * dropped, as they would only compute padding.
 */
export function workgroupTiles(rows: number, cols: number, depth: number, limits: DeviceLimits): WorkgroupTile[] {
  const shapes: readonly (readonly [number, number, number, number])[] = [
    [128, 128, 8, 8],
    [128, 64, 8, 4],
    [64, 64, 4, 4],
    [64, 64, 8, 8],
    [64, 32, 4, 4],
    [32, 64, 4, 4],
    [32, 32, 4, 4],
  ];
  const fits = (tileSize: number, size: number) => tileSize <= Math.max(32, 2 * size);
  const kBlock = (lanes: number): number =>
    Math.min(lanes >= 256 ? 8 : 16, 2 ** Math.ceil(Math.log2(Math.max(1, depth))));
  const tiles = shapes
    .filter(([r, c]) => fits(r, rows) && fits(c, cols))
    .flatMap(([r, c, rowsPerLane, colsPerLane]) => {
      const base = { rows: r, cols: c, rowsPerLane, colsPerLane, kBlock: 0 };
      const tile = { ...base, kBlock: kBlock(tileLanes(base)) };
      return rowsPerLane >= 8 && colsPerLane >= 4 ? [tile, { ...tile, vec4: true }] : [tile];
    });
  return tiles.filter((t) => tileProblem(t, limits) === undefined);
}

/**
 * k partitions for a reduction-heavy GEMM on workgroup tiles (a weight gradient: few rows and
 * columns, k over the whole batch): enough workgroups for `minGroups` (a GPU's SMs, a few each),
 * each split at least 256 k steps deep.
 */
export function workgroupSplitK(
  rows: number,
  cols: number,
  depth: number,
  convGroups: number,
  tile: WorkgroupTile,
  minGroups = 256,
): number {
  const groups = ceilDiv(rows, tile.rows) * ceilDiv(cols, tile.cols) * convGroups;
  return Math.max(1, Math.min(ceilDiv(minGroups, groups), Math.floor(depth / 256)));
}

/** e.g. `64x64/4x4/k16`, `+v4` with vec4 reads: how tests and the tuner name a tile. */
export function tileName(t: WorkgroupTile): string {
  return `${t.rows}x${t.cols}/${t.rowsPerLane}x${t.colsPerLane}/k${t.kBlock}${t.vec4 ? '+v4' : ''}`;
}

/**
 * loadP(row, k, batch) and loadU(k, col, batch): the plan's row setup, k setup and loads for row
 * and column 0, wrapped as functions so that every staged element reuses the family's mapping.
 */
function operandFns(plan: WorkgroupPlan): string {
  const body = (lines: readonly string[]): string =>
    lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.trim())
      .map((l) => `  ${l.trim()}`)
      .join('\n');
  return [
    'fn loadP(r0: u32, k: u32, batch: u32) -> f32 {',
    body([plan.rowSetup(0), plan.kSetup, `return ${plan.laneLoad(0)};`]),
    '}',
    'fn loadU(k: u32, c0: u32, batch: u32) -> f32 {',
    body([plan.kSetup, `return ${plan.uniformLoad(0)};`]),
    '}',
  ].join('\n');
}

/** The staged K block: P as [k][row], U as [k][col] (vec4s along rows and columns with vec4 reads). */
function stagingDecls(t: WorkgroupTile): string {
  const [type, per] = t.vec4 ? ['vec4<f32>', 4] : ['f32', 1];
  return [
    `var<workgroup> tileP: array<${type}, ${(t.kBlock * t.rows) / per}>;`,
    `var<workgroup> tileU: array<${type}, ${(t.kBlock * t.cols) / per}>;`,
  ].join('\n');
}

/**
 * Lane layout: `lanesC` lanes across the columns (fastest) times `lanesR` down the rows. Row i of
 * a lane is tr + i * lanesR (strided: neighbouring lanes read neighbouring words, no bank
 * conflicts) or, with vec4 reads, tr * rowsPerLane + i; columns likewise.
 */
function laneRow(t: WorkgroupTile, i: number | string): string {
  const lanesR = t.rows / t.rowsPerLane;
  return t.vec4 ? `tr * ${t.rowsPerLane}u + ${u32(i)}` : `tr + ${u32(i)} * ${lanesR}u`;
}
function laneCol(t: WorkgroupTile, j: number | string): string {
  const lanesC = t.cols / t.colsPerLane;
  return t.vec4 ? `tc * ${t.colsPerLane}u + ${u32(j)}` : `tc + ${u32(j)} * ${lanesC}u`;
}

/** The K block loop over the workgroup's k range: stage, barrier, accumulate, barrier. */
function blockLoop(w: WgslWriter, plan: WorkgroupPlan): void {
  const { rows, cols, depth, splitK, tile } = plan;
  const lanes = tileLanes(tile);
  const lanesC = tile.cols / tile.colsPerLane;
  w.line(`let tr = lid.x / ${lanesC}u; let tc = lid.x % ${lanesC}u;`);
  w.line(`let tileRow = rb * ${tile.rows}u; let tileCol = cb * ${tile.cols}u;`);
  const chunk = ceilDiv(depth, splitK);
  w.line(
    splitK > 1
      ? `let kBegin = split * ${chunk}u; let kEnd = min(kBegin + ${chunk}u, ${depth}u);`
      : `let kBegin = 0u; let kEnd = ${depth}u;`,
  );
  for (const i of range(tile.rowsPerLane))
    w.line(
      range(tile.colsPerLane)
        .map((j) => `var acc${i}_${j} = 0.0;`)
        .join(' '),
    );
  w.block(`for (var kb = kBegin; kb < kEnd; kb += ${tile.kBlock}u)`, () => {
    // Steps past kEnd stage P = 0 (their U is any finite value), rows and columns past the edge
    // the last valid one (never stored): the accumulation needs no bounds checks.
    const per = tile.vec4 ? 4 : 1;
    stage(w, 'tileP', { lanes, width: tile.rows / per, kBlock: tile.kBlock, kFast: plan.kContiguous?.p }, (e, kk) => {
      const loads = range(per).map((q) => {
        const row = `min(tileRow + ${per === 1 ? e : `${e} * 4u + ${q}u`}, ${rows - 1}u)`;
        return `select(0.0, loadP(${row}, min(kb + ${kk}, ${depth - 1}u), batch), kb + ${kk} < kEnd)`;
      });
      return per === 1 ? loads[0]! : `vec4<f32>(${loads.join(', ')})`;
    });
    stage(w, 'tileU', { lanes, width: tile.cols / per, kBlock: tile.kBlock, kFast: plan.kContiguous?.u }, (e, kk) => {
      const loads = range(per).map((q) => {
        const col = `min(tileCol + ${per === 1 ? e : `${e} * 4u + ${q}u`}, ${cols - 1}u)`;
        return `loadU(min(kb + ${kk}, ${depth - 1}u), ${col}, batch)`;
      });
      return per === 1 ? loads[0]! : `vec4<f32>(${loads.join(', ')})`;
    });
    w.line('workgroupBarrier();');
    w.block(`for (var kk = 0u; kk < ${tile.kBlock}u; kk++)`, () => accumulate(w, tile));
    w.line('workgroupBarrier();');
  });
}

/**
 * The lanes fill `array[kk * width + m]` (k step kk, row or column m) together: lane l takes the
 * elements e = l, l + lanes, ... of kBlock x width, with m fastest in e (or kk, `kFast`).
 */
function stage(
  w: WgslWriter,
  array: string,
  shape: {
    readonly lanes: number;
    readonly width: number;
    readonly kBlock: number;
    readonly kFast?: boolean | undefined;
  },
  value: (m: string, kk: string) => string,
): void {
  const { lanes, width, kBlock, kFast } = shape;
  const count = kBlock * width;
  w.block(`for (var s = 0u; s < ${ceilDiv(count, lanes)}u; s++)`, () => {
    w.line(`let e = s * ${lanes}u + lid.x;`);
    if (count % lanes !== 0) w.line(`if (e >= ${count}u) { break; }`);
    if (kFast) w.line(`let kk = e % ${kBlock}u; let m = e / ${kBlock}u;`);
    else w.line(`let m = e % ${width}u; let kk = e / ${width}u;`);
    w.line(`${array}[${kFast ? `kk * ${width}u + m` : 'e'}] = ${value('m', 'kk')};`);
  });
}

/** One staged k step: the lane's P rows and U columns from workgroup memory, then its FMAs. */
function accumulate(w: WgslWriter, tile: WorkgroupTile): void {
  const tm = range(tile.rowsPerLane);
  const tn = range(tile.colsPerLane);
  if (tile.vec4) {
    for (const v of range(tile.rowsPerLane / 4))
      w.line(`let pv${v} = tileP[(kk * ${tile.rows}u + tr * ${tile.rowsPerLane}u) / 4u + ${v}u];`);
    for (const v of range(tile.colsPerLane / 4))
      w.line(`let uv${v} = tileU[(kk * ${tile.cols}u + tc * ${tile.colsPerLane}u) / 4u + ${v}u];`);
  }
  const p = (i: number) =>
    tile.vec4 ? `pv${Math.floor(i / 4)}[${i % 4}]` : `tileP[kk * ${tile.rows}u + ${laneRow(tile, i)}]`;
  const u = (j: number) =>
    tile.vec4 ? `uv${Math.floor(j / 4)}[${j % 4}]` : `tileU[kk * ${tile.cols}u + ${laneCol(tile, j)}]`;
  for (const i of tm) w.line(`let p${i} = ${p(i)};`);
  for (const j of tn) w.line(`let u${j} = ${u(j)};`);
  for (const i of tm) w.line(tn.map((j) => `acc${i}_${j} += p${i} * u${j};`).join(' '));
}

/**
 * Stores the lane's accumulators that fall inside the output (bias added, then the plan's store),
 * from one store site in a loop, as matmul-core does: lavapipe's compile time grows with store
 * sites (bench/NOTES.md), and a GPU's compiler unrolls the constant loops back into registers.
 */
function storeTile(
  w: WgslWriter,
  plan: WorkgroupPlan,
  store: (row: string, col: string, value: string) => string,
): void {
  const { rows, cols, tile, bias } = plan;
  const accs = range(tile.rowsPerLane).flatMap((i) => range(tile.colsPerLane).map((j) => `acc${i}_${j}`));
  w.line(`var tile = array<f32, ${accs.length}>(${accs.join(', ')});`);
  w.block(`for (var i = 0u; i < ${tile.rowsPerLane}u; i++)`, () => {
    w.line(`let row = tileRow + ${laneRow(tile, 'i')};`);
    w.line(`if (row >= ${rows}u) { break; }`);
    w.block(`for (var j = 0u; j < ${tile.colsPerLane}u; j++)`, () => {
      w.line(`let col = tileCol + ${laneCol(tile, 'j')};`);
      w.line(`if (col >= ${cols}u) { break; }`);
      const value = `tile[i * ${tile.colsPerLane}u + j]`;
      w.line(store('row', 'col', bias ? `${value} + ${bias('col')}` : value));
    });
  });
}
