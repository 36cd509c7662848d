// The geometry of PyTorch's 2-D pooling windows along one axis, shared by the shape rules and the
// kernels (the float64 reference keeps its own, checked against PyTorch's fixtures).
import type { OpAttrs, Pair } from './ops.ts';

export type Pool2dAttrs = OpAttrs['maxpool2d'] | OpAttrs['avgpool2d'];

/** Every option of a pooling op; average pooling has no dilation, max pooling no divisor. */
export interface PoolOptions {
  readonly dilation: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
}

export function poolOptions(a: Pool2dAttrs): PoolOptions {
  return {
    dilation: 'dilation' in a ? a.dilation : [1, 1],
    ceilMode: a.ceilMode,
    countIncludePad: 'countIncludePad' in a ? a.countIncludePad : true,
  };
}

/**
 * PyTorch's output size of a window op along one axis (pooling_output_shape):
 * floor((size + 2p - d(k - 1) - 1 [+ s - 1 with ceil_mode]) / s) + 1, less one where ceil_mode
 * would start the last window past the input and its left padding. Below 1 when the window does
 * not fit; the caller reports that.
 */
export function windowOutSize(size: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const out = Math.floor((size + 2 * p - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0)) / s) + 1;
  return ceilMode && (out - 1) * s >= size + p ? out - 1 : out;
}

/**
 * The first of `out` outputs whose dilated window has no tap inside the input, or -1. Only windows that start
 * in the left padding can miss it (their first tap past the padding is start mod d, which may lie
 * beyond a short input); PyTorch returns -inf there and points its argmax outside the input.
 */
export function windowMissingInput(size: number, out: number, k: number, s: number, p: number, d: number): number {
  for (let o = 0; o < out && o * s < p; o++) {
    const start = o * s - p;
    const first = start + Math.ceil(-start / d) * d;
    if (first >= size || first > start + d * (k - 1)) return o;
  }
  return -1;
}
