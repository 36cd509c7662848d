// Max, average and adaptive-average pooling over NCHW (PyTorch MaxPool2d, AvgPool2d,
// AdaptiveAvgPool2d; every option but return_indices and divisor_override) and their gradients.
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';
import { type Pool2dAttrs, poolOptions } from '../../compiler/ir/pool-window.ts';
import { type Tensor, assertRank, at, dim, sameShape, tensor } from './tensor.ts';
import { type AxisWindows, adaptive, forEachWindow, outSize, strided } from './window.ts';

interface Grid {
  readonly out: Pair;
  readonly rows: AxisWindows;
  readonly cols: AxisWindows;
}

function stridedGrid(x: Tensor, a: Pool2dAttrs, what: string): Grid {
  assertRank(x, [4], what);
  // PyTorch rejects padding above half the kernel, which guarantees every undilated window reads the input.
  if (a.padding[0] > a.kernel[0] / 2 || a.padding[1] > a.kernel[1] / 2) {
    throw new Error(`${what}: padding ${a.padding.join('x')} exceeds half of kernel ${a.kernel.join('x')}`);
  }
  const { dilation: d, ceilMode, countIncludePad } = poolOptions(a);
  const axis = (i: 0 | 1) => outSize(dim(x.shape, 2 + i), a.kernel[i], a.stride[i], a.padding[i], d[i], ceilMode);
  return {
    out: [axis(0), axis(1)],
    rows: strided(a.kernel[0], a.stride[0], a.padding[0], d[0], countIncludePad),
    cols: strided(a.kernel[1], a.stride[1], a.padding[1], d[1], countIncludePad),
  };
}

function adaptiveGrid(x: Tensor, out: Pair): Grid {
  assertRank(x, [4], 'adaptive_avgpool2d');
  return { out, rows: adaptive(out[0]), cols: adaptive(out[1]) };
}

function outShape(x: Tensor, g: Grid): number[] {
  return [dim(x.shape, 0), dim(x.shape, 1), g.out[0], g.out[1]];
}

function checkDy(x: Tensor, dy: Tensor, g: Grid, what: string): void {
  const expected = outShape(x, g);
  if (!sameShape(dy.shape, expected))
    throw new Error(`${what}: dy shape [${dy.shape.join(', ')}] is not [${expected.join(', ')}]`);
}

/**
 * The tap a max-pool window takes. Padding acts as -inf, so only real taps compete. Ties go to the
 * FIRST maximum in scan order, and a NaN wins: PyTorch's CPU kernel starts at -inf and replaces
 * on `val > maxval || isnan(val)`.
 */
export function firstMaxTap(data: Float64Array, taps: readonly number[]): number {
  let best = at(taps, 0);
  let bestVal = -Infinity;
  for (const t of taps) {
    const v = at(data, t);
    if (v > bestVal || Number.isNaN(v)) {
      best = t;
      bestVal = v;
    }
  }
  return best;
}

/** Calls visit(yi, xi) with the input index each max-pool output takes (row-major scan order). */
function forEachArgmax(x: Tensor, g: Grid, visit: (yi: number, xi: number) => void): void {
  forEachWindow(x.shape, g.out, g.rows, g.cols, (yi, taps) => {
    // A dilated window can step over a short input from its left padding: PyTorch then gives -inf
    // and an argmax outside the input, which the shape rules refuse (E0302).
    if (taps.length === 0) throw new Error(`maxpool2d: window ${yi} reads only padding`);
    visit(yi, firstMaxTap(x.data, taps));
  });
}

export function maxpool2d(x: Tensor, a: OpAttrs['maxpool2d']): Tensor {
  const g = stridedGrid(x, a, 'maxpool2d');
  const y = tensor(outShape(x, g));
  forEachArgmax(x, g, (yi, xi) => {
    y.data[yi] = at(x.data, xi);
  });
  return y;
}

/** The whole gradient of each output goes to its argmax; overlapping windows accumulate. */
export function maxpool2dBackward(x: Tensor, dy: Tensor, a: OpAttrs['maxpool2d']): Tensor {
  const g = stridedGrid(x, a, 'maxpool2dBackward');
  checkDy(x, dy, g, 'maxpool2dBackward');
  const dx = tensor(x.shape);
  forEachArgmax(x, g, (yi, xi) => {
    dx.data[xi] = at(dx.data, xi) + at(dy.data, yi);
  });
  return dx;
}

/** Sum of the real taps over the window's divisor (padded zeros add nothing but count in the divisor). */
function averagePool(x: Tensor, g: Grid): Tensor {
  const y = tensor(outShape(x, g));
  forEachWindow(x.shape, g.out, g.rows, g.cols, (yi, taps, divisor) => {
    y.data[yi] = taps.reduce((s, t) => s + at(x.data, t), 0) / divisor;
  });
  return y;
}

function averagePoolBackward(x: Tensor, dy: Tensor, g: Grid, what: string): Tensor {
  checkDy(x, dy, g, what);
  const dx = tensor(x.shape);
  forEachWindow(x.shape, g.out, g.rows, g.cols, (yi, taps, divisor) => {
    for (const t of taps) dx.data[t] = at(dx.data, t) + at(dy.data, yi) / divisor;
  });
  return dx;
}

export function avgpool2d(x: Tensor, a: OpAttrs['avgpool2d']): Tensor {
  return averagePool(x, stridedGrid(x, a, 'avgpool2d'));
}

export function avgpool2dBackward(x: Tensor, dy: Tensor, a: OpAttrs['avgpool2d']): Tensor {
  return averagePoolBackward(x, dy, stridedGrid(x, a, 'avgpool2dBackward'), 'avgpool2dBackward');
}

export function adaptiveAvgpool2d(x: Tensor, out: Pair): Tensor {
  return averagePool(x, adaptiveGrid(x, out));
}

export function adaptiveAvgpool2dBackward(x: Tensor, dy: Tensor, out: Pair): Tensor {
  return averagePoolBackward(x, dy, adaptiveGrid(x, out), 'adaptiveAvgpool2dBackward');
}
