// A tuned choice for a GEMM-family kernel: overrides of the fields its spec would otherwise get
// from the rules (gemm-tiles.ts, rowRun, wgradRun, dgradOrder, chooseSplitK), as plain JSON, so
// that the tuner's cache can hold it. Lowering looks choices up by kernel key (site.ts).
import type { DgradOrder } from '../kernels/conv2d-grad-input.ts';
import type { GemmTile } from '../kernels/gemm-tiles.ts';
import { tileName, type WorkgroupTile } from '../kernels/gemm-workgroup.ts';

/**
 * Bump whenever a GEMM kernel template changes what a choice means or how fast it runs: cached
 * tunings of another version are ignored (runtime/tune/cache.ts).
 */
export const KERNEL_VERSION = 3;

export interface GemmChoice {
  /** Register tile: lanes, rows per lane, columns, shared U loads. */
  readonly tile?: GemmTile;
  /** Row runs (conv forward, weight gradient; with `tile`, runs of its rows). */
  readonly runs?: boolean;
  /** Input-gradient row order. */
  readonly order?: DgradOrder;
  /** k partitions of the weight gradient. */
  readonly splitK?: number;
  /** The workgroup-memory skeleton (gemm-workgroup.ts) with this tile, in place of a register tile. */
  readonly workgroup?: WorkgroupTile;
}

/** Tuned choices by kernel key; a kernel without one gets the rules' choice. */
export type KernelChoices = ReadonlyMap<string, GemmChoice>;

/** `32 lanes x 4 rows, 8 cols, shared, runs, split 4, pixel rows`: a choice for people. */
export function describeChoice(c: GemmChoice): string {
  const t = c.tile;
  return [
    c.workgroup
      ? `workgroup ${tileName(c.workgroup)}`
      : t
        ? `${t.lanes} lanes x ${t.rowsPerLane} rows, ${t.cols} cols${t.shareU ? ', shared' : ''}`
        : 'rules',
    ...(c.runs ? ['runs'] : []),
    ...(c.splitK !== undefined && c.splitK > 1 ? [`split ${c.splitK}`] : []),
    ...(c.order ? [`${c.order} rows`] : []),
  ].join(', ');
}
