// Tile choice for the GEMM skeleton (matmul-core.ts): rows per lane, columns and lanes per
// workgroup, and k partitions, tuned for lavapipe (matmul-core.ts's top comment says why).

export interface GemmTile {
  /** Rows per invocation. */
  readonly rowsPerLane: number;
  /** Columns per workgroup. */
  readonly cols: number;
  /** Invocations per workgroup. */
  readonly lanes: number;
  /**
   * Share U loads through subgroups (needs the WGSL subgroups feature with subgroups of at least
   * 8): each of 8 lanes loads U for its own k, and the k loop takes the 8 values by shuffle.
   * One load site then serves 8 k steps, which makes wide tiles pay on lavapipe (measurements:
   * bench/NOTES.md).
   */
  readonly shareU?: boolean;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
/** Invocations per workgroup the tile choosers try, most first. */
const LANE_COUNTS = [32, 24, 16, 8] as const;

/**
 * Default tiling for lavapipe (matmul-core.ts's top comment): up to 8 columns per workgroup (balanced
 * over the column blocks), then rows per lane up to 12 loads per k step (4 x 8, 6 x 6, 8 x 1 for
 * depthwise) and up to 32 lanes (rowBlock). With shared U loads (shareU) columns cost a shuffle,
 * not a load: up to 16 columns and 64 accumulators (4 x 16, 8 x 8); 8 x 16 runs a little faster
 * but compiles 2-3x slower (measurements: bench/NOTES.md). Shrunk for small problems
 * until at least `minGroups` workgroups keep both cores busy. Overridable per kernel.
 */
export function chooseTile(
  rows: number,
  cols: number,
  convGroups: number,
  opts: { minGroups?: number; shareU?: boolean } = {},
): GemmTile {
  const { minGroups = 4, shareU = false } = opts;
  const { colsPerBlock, maxRows } = tileShape(rows, cols, shareU);
  let { rowsPerLane, lanes } = rowBlock(rows, maxRows);
  const groups = (): number => ceilDiv(rows, rowsPerLane * lanes) * ceilDiv(cols, colsPerBlock) * convGroups;
  while (groups() < minGroups && (rowsPerLane > 1 || lanes > 8)) {
    if (rowsPerLane > 1) rowsPerLane = Math.ceil(rowsPerLane / 2);
    else lanes -= 8;
  }
  return { rowsPerLane, cols: colsPerBlock, lanes, ...(shareU ? { shareU } : {}) };
}

/** Columns per workgroup: up to 16 with shared U loads, else 8, balanced over the column blocks. */
export function tileColumns(cols: number, shareU: boolean): number {
  return ceilDiv(cols, ceilDiv(cols, shareU ? 16 : 8));
}

/** Columns per workgroup and the most rows per lane for them (chooseTile). */
function tileShape(rows: number, cols: number, shareU: boolean): { colsPerBlock: number; maxRows: number } {
  const colsPerBlock = tileColumns(cols, shareU);
  const maxRows = Math.min(
    8,
    shareU ? Math.floor(64 / colsPerBlock) : 12 - colsPerBlock,
    Math.max(1, ceilDiv(rows, 8)),
  );
  return { colsPerBlock, maxRows };
}

/**
 * chooseTile for a GEMM whose row blocks must each lie inside one period of `period` rows (so
 * that what a block skips is uniform): the largest block of 32 or more rows (rows per lane up to
 * chooseTile's, or exactly `rowsPerLane`; 8 to 32 lanes) that divides `period`; undefined where
 * none does.
 */
export function chooseAlignedTile(
  period: number,
  cols: number,
  opts: { shareU?: boolean; rowsPerLane?: number } = {},
): GemmTile | undefined {
  const { shareU = false } = opts;
  const { colsPerBlock, maxRows } = tileShape(period, cols, shareU);
  for (let rowsPerLane = opts.rowsPerLane ?? maxRows; rowsPerLane >= (opts.rowsPerLane ?? 1); rowsPerLane--) {
    for (const lanes of LANE_COUNTS) {
      const block = rowsPerLane * lanes;
      if (block >= 32 && period % block === 0)
        return { rowsPerLane, cols: colsPerBlock, lanes, ...(shareU ? { shareU } : {}) };
    }
  }
  return undefined;
}

/**
 * The tile of a GEMM with rows in runs of `run` (RowRuns): `run` rows a lane, columns as
 * chooseTile's (callers keep run * columns within 96 accumulators), lanes as rowBlock's, fewer
 * while under `minGroups` (4) workgroups.
 */
export function chooseRowRunTile(
  rows: number,
  run: number,
  cols: number,
  convGroups: number,
  opts: { shareU?: boolean; minGroups?: number } = {},
): GemmTile {
  const { shareU = false, minGroups = 4 } = opts;
  const colsPerBlock = tileColumns(cols, shareU);
  let lanes = lanesFor(rows, run);
  while (ceilDiv(rows, run * lanes) * ceilDiv(cols, colsPerBlock) * convGroups < minGroups && lanes > 8) lanes -= 8;
  return { rowsPerLane: run, cols: colsPerBlock, lanes, ...(shareU ? { shareU } : {}) };
}

/**
 * The largest row block (rows per lane up to `maxRowsPerLane`, 8 to 32 lanes) whose padding past
 * `rows` wastes at most an eighth of the work, else the least wasteful: a weight gradient's 151
 * rows in blocks of 128 would compute 256, slower than blocks of 32 (measurements: bench/NOTES.md).
 */
function rowBlock(rows: number, maxRowsPerLane: number): { rowsPerLane: number; lanes: number } {
  let best = { rowsPerLane: maxRowsPerLane, lanes: 32, padded: Infinity };
  for (let rowsPerLane = maxRowsPerLane; rowsPerLane >= 1; rowsPerLane--) {
    const lanes = lanesFor(rows, rowsPerLane);
    const padded = ceilDiv(rows, rowsPerLane * lanes) * rowsPerLane * lanes;
    if (padded * 8 <= rows * 9) return { rowsPerLane, lanes };
    if (padded < best.padded) best = { rowsPerLane, lanes, padded };
  }
  return best;
}

/** The most lanes (32, 24, 16, 8) whose row block pads at most an eighth, else the least padding. */
function lanesFor(rows: number, rowsPerLane: number): number {
  let best = { lanes: 32, padded: Infinity };
  for (const lanes of LANE_COUNTS) {
    const padded = ceilDiv(rows, rowsPerLane * lanes) * rowsPerLane * lanes;
    if (padded * 8 <= rows * 9) return lanes;
    if (padded < best.padded) best = { lanes, padded };
  }
  return best.lanes;
}

/**
 * k partitions for a reduction-heavy GEMM: enough workgroups for `minGroups`, each split >= 256
 * k steps deep (`depth` counts k steps: with row runs, groups times steps).
 */
export function chooseSplitK(
  rows: number,
  cols: number,
  depth: number,
  convGroups: number,
  tile: GemmTile,
  minGroups = 16,
): number {
  const groups = ceilDiv(rows, tile.rowsPerLane * tile.lanes) * ceilDiv(cols, tile.cols) * convGroups;
  return Math.max(1, Math.min(ceilDiv(minGroups, groups), Math.floor(depth / 256)));
}
