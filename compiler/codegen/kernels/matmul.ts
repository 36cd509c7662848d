// Matmul C[M, N] = op(A)[M, K] * op(B)[K, N] on row-major buffers, and the three linear kernels
// built from it (PyTorch Linear, weight [out, in]): y = x W^T + b, dx = dy W, dW = dy^T x with
// db = column sums of dy.
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import type { KernelModule } from '../kernel.ts';
import { type GemmTile, chooseTile } from './gemm-tiles.ts';
import { gemmKernel } from './matmul-core.ts';

export interface MatmulSpec extends KernelFrame {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored [K, M] and used transposed. */
  readonly transA: boolean;
  /** B is stored [N, K] and used transposed. */
  readonly transB: boolean;
  /** Binding names. */
  readonly a: string;
  readonly b: string;
  readonly c: string;
  /** Adds bias[n] (N elements) to every row before the epilogue. */
  readonly bias?: string;
  /** Applied to each output (after the bias): a fused activation or activation gradient. */
  readonly epilogue?: Epilogue;
  /** Also writes rowSums[m] = sum over k of op(A)[m, k]: the bias gradient when op(A) = dy^T. */
  readonly rowSums?: string;
  readonly tile?: GemmTile;
  /** The device has subgroups of 8 or more: the default tile shares its B loads (GemmTile.shareU). */
  readonly subgroups?: boolean;
}

/**
 * Multiply-adds up to which a GEMM takes SMALL_TILE: the driver compiles a wide tile's unrolled
 * accumulators and subgroup shuffles for up to seconds at the first dispatch (lavapipe), and a
 * GEMM this small runs in about the same time either way (LeNet's six small linear kernels: ~2.5x
 * less compile CPU, steps unchanged; bench/NOTES.md).
 */
const SMALL_GEMM = 2 ** 21;

/** 2 rows and 4 columns a lane, no shared loads: 8 accumulators and 6 load sites, quick to compile. */
const SMALL_TILE: GemmTile = { rowsPerLane: 2, cols: 4, lanes: 32 };

export function matmulKernel(s: MatmulSpec): KernelModule {
  // The row sums are one more column of B, all ones: computed by the same loop, one more FMA per A load.
  const cols = s.n + (s.rowSums ? 1 : 0);
  const tile =
    s.tile ??
    (s.m * cols * s.k <= SMALL_GEMM ? SMALL_TILE : chooseTile(s.m, cols, 1, { shareU: s.subgroups ?? false }));
  const bAt = (col: string): string => (s.transB ? `${s.b}[${col} * ${s.k}u + k]` : `${s.b}[k * ${s.n}u + ${col}]`);
  if (s.bias && s.rowSums) throw new Error(`kernel ${s.name}: a matmul with row sums takes no bias`);
  const store = (row: string, col: string, v: string): string => {
    const y = epilogueStore(s.c, `${row} * ${s.n}u + ${col}`, v, s.epilogue, col);
    return s.rowSums ? `if (${col} == ${s.n}u) { ${s.rowSums}[${row}] = ${v}; } else { ${y} }` : y;
  };
  return gemmKernel({
    name: s.name,
    origin: s.origin,
    limits: s.limits,
    inputs: [readBinding(s.a, s.m * s.k), readBinding(s.b, s.k * s.n), ...(s.bias ? [readBinding(s.bias, s.n)] : [])],
    outputs: [
      writeBinding(s.c, s.m * s.n),
      ...(s.rowSums ? [writeBinding(s.rowSums, s.m)] : []),
      ...epilogueBindings(s.epilogue, s.m * s.n, s.n),
    ],
    rows: s.m,
    cols,
    depth: s.k,
    convGroups: 1,
    tile,
    decls: epilogueDecls(s.epilogue),
    rowSetup: () => '',
    kSetup: '',
    laneLoad: (i) => (s.transA ? `${s.a}[k * ${s.m}u + r${i}]` : `${s.a}[r${i} * ${s.k}u + k]`),
    uniformLoad: (j) => (s.rowSums ? `select(${bAt(`min(c${j}, ${s.n - 1}u)`)}, 1.0, c${j} == ${s.n}u)` : bAt(`c${j}`)),
    ...(s.bias ? { bias: (col: string) => `${s.bias}[${col}]` } : {}),
    store,
  });
}

/** A linear layer: x [batch, in], w [out, in], b [out], y [batch, out]. */
export interface LinearSpec extends KernelFrame {
  readonly batch: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
  /** Forward: a fused activation; input gradient: a fused activation gradient. */
  readonly epilogue?: Epilogue;
  /** Binding names, defaulting to x, w, b, y, dy, dx, dw, db. */
  readonly names?: Partial<Record<'x' | 'w' | 'b' | 'y' | 'dy' | 'dx' | 'dw' | 'db', string>>;
  readonly tile?: GemmTile;
  readonly subgroups?: boolean;
}

const named = (s: LinearSpec, role: keyof NonNullable<LinearSpec['names']>): string => s.names?.[role] ?? role;
const common = (s: LinearSpec) => ({
  name: s.name,
  origin: s.origin,
  limits: s.limits,
  ...(s.tile ? { tile: s.tile } : {}),
  subgroups: s.subgroups ?? false,
});

/** y = x W^T (+ b), then the epilogue. */
export function linearForward(s: LinearSpec): KernelModule {
  return matmulKernel({
    ...common(s),
    m: s.batch,
    n: s.outFeatures,
    k: s.inFeatures,
    transA: false,
    transB: true,
    a: named(s, 'x'),
    b: named(s, 'w'),
    c: named(s, 'y'),
    ...(s.bias ? { bias: named(s, 'b') } : {}),
    ...(s.epilogue ? { epilogue: s.epilogue } : {}),
  });
}

/** dx = dy W. */
export function linearGradInput(s: LinearSpec): KernelModule {
  return matmulKernel({
    ...common(s),
    m: s.batch,
    n: s.inFeatures,
    k: s.outFeatures,
    transA: false,
    transB: false,
    a: named(s, 'dy'),
    b: named(s, 'w'),
    c: named(s, 'dx'),
    ...(s.epilogue ? { epilogue: s.epilogue } : {}),
  });
}

/** dW = dy^T x and, with a bias, db = sum over the batch of dy. */
export function linearGradWeight(s: LinearSpec): KernelModule {
  return matmulKernel({
    ...common(s),
    m: s.outFeatures,
    n: s.inFeatures,
    k: s.batch,
    transA: true,
    transB: false,
    a: named(s, 'dy'),
    b: named(s, 'x'),
    c: named(s, 'dw'),
    ...(s.bias ? { rowSums: named(s, 'db') } : {}),
  });
}
