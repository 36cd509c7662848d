// The float64 tensor of the CPU reference: a shape and a dense row-major (C-order) buffer, as a
// contiguous PyTorch tensor. Reference ops never mutate their inputs; they return fresh tensors.

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** A tensor of `shape` holding a copy of `data`, or zeros when `data` is omitted. */
export function tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad dimension ${d} in shape [${shape.join(', ')}]`);
  }
  const n = numel(shape);
  if (data !== undefined && data.length !== n) {
    throw new Error(`shape [${shape.join(', ')}] needs ${n} values, got ${data.length}`);
  }
  return { shape: [...shape], data: data === undefined ? new Float64Array(n) : Float64Array.from(data) };
}

/** Element `i` of a buffer; noUncheckedIndexedAccess types indexing as possibly undefined. */
export function at(a: ArrayLike<number>, i: number): number {
  return a[i] as number;
}

/** Dimension `i` of a shape, which must exist. */
export function dim(shape: readonly number[], i: number): number {
  const d = shape[i];
  if (d === undefined) throw new Error(`shape [${shape.join(', ')}] has no dimension ${i}`);
  return d;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertSameShape(a: Tensor, b: Tensor, what: string): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new Error(`${what}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}

export function assertRank(t: Tensor, ranks: readonly number[], what: string): void {
  if (!ranks.includes(t.shape.length)) {
    throw new Error(`${what}: expected rank ${ranks.join(' or ')}, got shape [${t.shape.join(', ')}]`);
  }
}

/** A tensor of `shape` whose element i is f(i). */
export function generate(shape: readonly number[], f: (i: number) => number): Tensor {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = f(i);
  return t;
}

/** Elementwise f(a[i]). */
export function map(a: Tensor, f: (v: number) => number): Tensor {
  return generate(a.shape, (i) => f(at(a.data, i)));
}

/** Elementwise f(a[i], b[i]) of two tensors of the same shape. */
export function zip(a: Tensor, b: Tensor, f: (u: number, v: number) => number, what: string): Tensor {
  assertSameShape(a, b, what);
  return generate(a.shape, (i) => f(at(a.data, i), at(b.data, i)));
}
