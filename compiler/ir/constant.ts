// Constant tensors written in a .cnn file (`K = [[1.0, -1.0]]`, `X = ones(6, 8)`): float32 values
// in row-major order, used as a layer's fixed weight or bias, the input of `cnnc run`, or the
// samples of `data tensors(...)`.
import type { Span } from '../diagnostics/diagnostic.ts';

export interface ConstTensor {
  readonly shape: readonly number[];
  /** Row-major, numel(shape) values. */
  readonly data: Float32Array;
}

/** A layer's parameter given by a constant: frozen (never updated) unless `trainable = true`. */
export interface FixedParam {
  readonly tensor: ConstTensor;
  readonly trainable: boolean;
  /** The argument that gave it, for shape errors. */
  readonly span: Span;
}

/** The shape without its leading size-1 dimensions: `[1, 1, 6, 8]` -> `[6, 8]`. */
export function stripLeadingOnes(shape: readonly number[]): readonly number[] {
  let i = 0;
  while (i < shape.length - 1 && shape[i] === 1) i++;
  return shape.slice(i);
}

/**
 * Whether a constant of shape `given` can stand for a tensor of shape `want`: the two are equal
 * once leading size-1 dimensions are dropped from both, so the row-major values are the same
 * ([6, 8] for [1, 1, 6, 8], [1, 2] for a 1x2 conv kernel [1, 1, 1, 2]).
 */
export function fitsShape(given: readonly number[], want: readonly number[]): boolean {
  const a = stripLeadingOnes(given);
  const b = stripLeadingOnes(want);
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
