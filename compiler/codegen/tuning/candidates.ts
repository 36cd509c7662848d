// The space of variants the tuner times for a GEMM site: register tiles (lanes, rows per lane,
// columns, shared U loads) crossed with each family's own knobs (row runs and their length, the
// input gradient's row order, the weight gradient's split-K), as GemmChoice overrides. Every
// candidate builds for the device's limits; the rules' choice comes first, then the others by how
// many knobs they change from it, so that a tuner timing a prefix tries the rules' neighbours first.
// The workgroup-memory family (gemm-workgroup.ts: GPUs' tiles, 64-256 lanes) counts as three knobs
// away, after the register tiles' near neighbours: on lavapipe it compiles slowly and mostly loses
// (bench/NOTES.md), on a GPU it is the family expected to win.
import { runLength } from '../kernels/conv2d.ts';
import type { GemmTile } from '../kernels/gemm-tiles.ts';
import { tileName, workgroupTiles } from '../kernels/gemm-workgroup.ts';
import type { DeviceLimits } from '../limits.ts';
import type { KernelFrame } from '../module.ts';
import type { GemmChoice } from './choice.ts';
import { type GemmSite, gemmDims, rulesChoice, siteGeometry, siteKernels } from './site.ts';

const LANES = [8, 16, 32, 64, 128];
const ROWS_PER_LANE = [1, 2, 4, 8];
/** Column blocks aimed at (balanced over the columns, as tileColumns does). */
const COLUMN_TARGETS = [4, 8, 16];
const SPLITS = [1, 2, 4, 8, 16];
/** Accumulators a lane may hold: the rules' own ceilings (gemm-tiles.ts, rowRun). */
const MAX_ACCUMULATORS = 64;
const MAX_RUN_ACCUMULATORS = 96;
/** A weight-gradient split keeps at least this many k steps. */
const MIN_SPLIT_DEPTH = 64;
/** The workgroup-memory family's distance from any register choice (a family, not a knob, apart). */
const WORKGROUP_DISTANCE = 3;

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
const unique = (xs: readonly number[]): number[] => [...new Set(xs)];

/** Tiles for `cols` columns with rows per lane from `rowsPerLane`; row blocks at most twice the rows (8 lanes always). */
function tiles(
  rows: number,
  cols: number,
  rowsPerLane: readonly number[],
  shared: boolean,
  maxAcc: number,
): GemmTile[] {
  const out: GemmTile[] = [];
  for (const lanes of LANES)
    for (const r of rowsPerLane)
      for (const c of unique(COLUMN_TARGETS.map((t) => ceilDiv(cols, ceilDiv(cols, t)))))
        for (const shareU of shared ? [false, true] : [false])
          if (r * c <= maxAcc && (lanes === 8 || r * lanes <= 2 * rows))
            out.push({ rowsPerLane: r, cols: c, lanes, ...(shareU ? { shareU } : {}) });
  return out;
}

/** Divisors of `width` from 2 to 8: run lengths that never leave a row. */
const runLengths = (width: number): number[] => [2, 3, 4, 5, 6, 7, 8].filter((r) => width % r === 0);

/** Every variant of the site's family before the build check (some do not build: a pixel block must divide N). */
function familyChoices(site: GemmSite): GemmChoice[] {
  const { rows, cols, depth } = gemmDims(site);
  const sg = site.subgroups;
  const plain = tiles(rows, cols, ROWS_PER_LANE, sg, MAX_ACCUMULATORS);
  if (!('input' in site)) return plain.map((tile) => ({ tile }));
  const { w, ow, kw } = siteGeometry(site);
  switch (site.family) {
    case 'conv2d': {
      const runs = kw < 2 ? [] : tiles(rows, cols, runLengths(ow), sg, MAX_RUN_ACCUMULATORS);
      return [...plain.map((tile) => ({ tile, runs: false })), ...runs.map((tile) => ({ tile, runs: true }))];
    }
    case 'conv2d_dx': {
      const unit = site.attrs.stride.every((s) => s === 1);
      const runs = unit && kw >= 2 ? tiles(rows, cols, runLengths(w), sg, MAX_RUN_ACCUMULATORS) : [];
      return [
        ...plain.map((tile) => ({ tile, order: 'image' as const })),
        ...plain.map((tile) => ({ tile, order: 'pixel' as const })),
        ...runs.map((tile) => ({ tile, order: 'runs' as const })),
      ];
    }
    case 'conv2d_dw': {
      const steps = runLength(ow);
      const runs = kw >= 2 && kw <= 8 && steps !== undefined ? tiles(rows, cols, [kw], sg, MAX_RUN_ACCUMULATORS) : [];
      const splits = SPLITS.filter((s) => s === 1 || depth / s >= MIN_SPLIT_DEPTH);
      return splits.flatMap((splitK) => [
        ...plain.map((tile) => ({ tile, runs: false, splitK })),
        ...runs.map((tile) => ({ tile, runs: true, splitK })),
      ]);
    }
  }
}

/** How many knobs `c` turns away from `rules`. */
function distance(rules: GemmChoice, c: GemmChoice): number {
  if (c.workgroup) return WORKGROUP_DISTANCE;
  const a = rules.tile;
  const b = c.tile;
  return [
    a?.lanes !== b?.lanes,
    a?.rowsPerLane !== b?.rowsPerLane,
    a?.cols !== b?.cols,
    (a?.shareU ?? false) !== (b?.shareU ?? false),
    (rules.runs ?? false) !== (c.runs ?? false),
    rules.order !== c.order,
    (rules.splitK ?? 1) !== (c.splitK ?? 1),
  ].filter((d) => d).length;
}

/** A canonical text of a choice, to drop duplicates. */
function canonical(c: GemmChoice): string {
  const t = c.tile;
  return JSON.stringify([
    c.workgroup ? tileName(c.workgroup) : null,
    t?.lanes,
    t?.rowsPerLane,
    t?.cols,
    t?.shareU ?? false,
    c.runs ?? false,
    c.order,
    c.splitK ?? 1,
  ]);
}

function builds(site: GemmSite, frame: KernelFrame, c: GemmChoice): boolean {
  try {
    siteKernels(site, frame, c);
    return true;
  } catch {
    return false;
  }
}

/**
 * The site's candidates for a device with `limits`: the rules' choice first, then the others by
 * distance from it; at most `max` (each candidate is built to check it, so a prefix is cheaper).
 */
export function candidates(site: GemmSite, limits: DeviceLimits, max = Infinity): GemmChoice[] {
  const frame: KernelFrame = { name: 'candidate', origin: { phase: 'forward', sources: [], ops: [] }, limits };
  const rules = rulesChoice(site, frame);
  const seen = new Set([canonical(rules)]);
  const out = [rules];
  const { rows, cols, depth } = gemmDims(site);
  const workgroup = workgroupTiles(rows, cols, depth, limits).map((tile): GemmChoice => ({ workgroup: tile }));
  const ordered = [...familyChoices(site), ...workgroup]
    .map((c, i) => ({ c, i, d: distance(rules, c) }))
    .sort((a, b) => a.d - b.d || a.i - b.i);
  for (const { c } of ordered) {
    if (out.length >= max) break;
    const key = canonical(c);
    if (seen.has(key)) continue;
    seen.add(key);
    if (builds(site, frame, c)) out.push(c);
  }
  return out;
}
