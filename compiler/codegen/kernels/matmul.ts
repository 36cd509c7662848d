// Matmul C[M, N] = op(A)[M, K] * op(B)[K, N] on row-major buffers, and the three linear kernels
// built from it (PyTorch Linear, weight [out, in]): y = x W^T + b, dx = dy W, dW = dy^T x with
// db = column sums of dy.
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import type { KernelModule } from '../kernel.ts';
import { type GemmTile, chooseTile } from './gemm-tiles.ts';
import { type WorkgroupTile, workgroupGemmKernel } from './gemm-workgroup.ts';
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
  /**
   * Elements between A's stored rows (default: its row length) and C's (default n): a block of
   * columns of a wider matrix, as a linear layer split by output rows reads dy and writes y
   * (`lower/dense.ts`).
   */
  readonly lda?: number;
  readonly ldc?: number;
  /** C (and rowSums) += the product, before the epilogue: sums split over several dispatches. */
  readonly accumulate?: boolean;
  readonly tile?: GemmTile;
  /** Use the workgroup-memory skeleton (gemm-workgroup.ts) with this tile instead; same bindings. */
  readonly workgroup?: WorkgroupTile;
  /** The device has subgroups of 8 or more: the default tile shares its B loads (GemmTile.shareU). */
  readonly subgroups?: boolean;
}

/**
 * Multiply-adds up to which a GEMM takes a narrower tile (at least 16 workgroups, so fewer rows per
 * lane): the driver compiles a wide tile's unrolled accumulators for seconds at the first dispatch
 * (lavapipe), and a GEMM this small runs in the same time either way (LeNet's linear kernels:
 * first dispatches 2.3 s shorter, steps unchanged; bench/NOTES.md).
 */
const SMALL_GEMM = 2 ** 21;

export function matmulKernel(s: MatmulSpec): KernelModule {
  // The row sums are one more column of B, all ones: computed by the same loop, one more FMA per A load.
  const cols = s.n + (s.rowSums ? 1 : 0);
  const bAt = (col: string): string => (s.transB ? `${s.b}[${col} * ${s.k}u + k]` : `${s.b}[k * ${s.n}u + ${col}]`);
  if (s.bias && s.rowSums) throw new Error(`kernel ${s.name}: a matmul with row sums takes no bias`);
  const lda = s.lda ?? (s.transA ? s.m : s.k);
  const ldc = s.ldc ?? s.n;
  const plus = (at: string, v: string): string => (s.accumulate ? `${at} + ${v}` : v);
  const store = (row: string, col: string, v: string): string => {
    const at = `${row} * ${ldc}u + ${col}`;
    const y = epilogueStore(s.c, at, plus(`${s.c}[${at}]`, v), s.epilogue, col);
    const sums = `${s.rowSums}[${row}]`;
    return s.rowSums ? `if (${col} == ${s.n}u) { ${sums} = ${plus(sums, v)}; } else { ${y} }` : y;
  };
  // Stored extents: the last row starts (rows - 1) strides in.
  const cElements = (s.m - 1) * ldc + s.n;
  const plan = {
    name: s.name,
    origin: s.origin,
    limits: s.limits,
    inputs: [
      readBinding(s.a, (s.transA ? s.k - 1 : s.m - 1) * lda + (s.transA ? s.m : s.k)),
      readBinding(s.b, s.k * s.n),
      ...(s.bias ? [readBinding(s.bias, s.n)] : []),
    ],
    outputs: [
      writeBinding(s.c, cElements),
      ...(s.rowSums ? [writeBinding(s.rowSums, s.m)] : []),
      ...epilogueBindings(s.epilogue, cElements, s.n),
    ],
    rows: s.m,
    cols,
    depth: s.k,
    convGroups: 1,
    decls: epilogueDecls(s.epilogue),
    rowSetup: () => '',
    kSetup: '',
    laneLoad: (i: number) => (s.transA ? `${s.a}[k * ${lda}u + r${i}]` : `${s.a}[r${i} * ${lda}u + k]`),
    uniformLoad: (j: number) =>
      s.rowSums ? `select(${bAt(`min(c${j}, ${s.n - 1}u)`)}, 1.0, c${j} == ${s.n}u)` : bAt(`c${j}`),
    ...(s.bias ? { bias: (col: string) => `${s.bias}[${col}]` } : {}),
    store,
  };
  if (s.workgroup)
    return workgroupGemmKernel({ ...plan, tile: s.workgroup, kContiguous: { p: !s.transA, u: s.transB } });
  const tile =
    s.tile ??
    chooseTile(s.m, cols, 1, {
      shareU: s.subgroups ?? false,
      ...(s.m * cols * s.k <= SMALL_GEMM ? { minGroups: 16 } : {}),
    });
  return gemmKernel({ ...plan, tile });
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
  /** Use the workgroup-memory skeleton (gemm-workgroup.ts) with this tile instead; same bindings. */
  readonly workgroup?: WorkgroupTile;
  readonly subgroups?: boolean;
  /**
   * The layer's whole output width where this kernel computes a block of `outFeatures` of its
   * outputs (a weight too big for one binding, split by rows): the row stride of y and dy.
   */
  readonly outStride?: number;
  /** dx and dW (with db) add to what is stored: sums over several dispatches. */
  readonly accumulate?: boolean;
}

const named = (s: LinearSpec, role: keyof NonNullable<LinearSpec['names']>): string => s.names?.[role] ?? role;
const common = (s: LinearSpec) => ({
  name: s.name,
  origin: s.origin,
  limits: s.limits,
  ...(s.tile ? { tile: s.tile } : {}),
  ...(s.workgroup ? { workgroup: s.workgroup } : {}),
  subgroups: s.subgroups ?? false,
  ...(s.accumulate ? { accumulate: true } : {}),
});
const stride = (s: LinearSpec): number => s.outStride ?? s.outFeatures;

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
    ldc: stride(s),
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
    lda: stride(s),
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
    lda: stride(s),
    b: named(s, 'x'),
    c: named(s, 'dw'),
    ...(s.bias ? { rowSums: named(s, 'db') } : {}),
  });
}
