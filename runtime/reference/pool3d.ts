// Max and average 3-D pooling over [N, C, D, H, W] (PyTorch MaxPool3d with dilation, AvgPool3d
// with count_include_pad = true; ceil_mode = false) and their gradients.
import type { OpAttrs } from '../../compiler/ir/ops.ts';
import { type Tensor, assertRank, at, dim, numel, sameShape, tensor } from './tensor.ts';
import { firstMaxTap } from './pool.ts';
import { type Window3d, forEachTap3d, outVolume } from './window3d.ts';

type Pool3dAttrs = OpAttrs['maxpool3d'] | OpAttrs['avgpool3d'];

interface Geometry {
  readonly window: Window3d;
  readonly planes: number;
  /** Elements of one input and one output volume. */
  readonly inVolume: number;
  readonly outVolume: number;
  readonly yShape: readonly number[];
}

function geometry(x: Tensor, a: Pool3dAttrs, what: string): Geometry {
  assertRank(x, [5], what);
  const window: Window3d = { dilation: [1, 1, 1], ...a };
  // PyTorch rejects padding above half the kernel, which guarantees every window reads the input.
  if (window.padding.some((p, i) => p > window.kernel[i]! / 2)) {
    throw new Error(`${what}: padding ${window.padding.join('x')} exceeds half of kernel ${window.kernel.join('x')}`);
  }
  const volume = x.shape.slice(2);
  const out = outVolume(volume, window);
  return {
    window,
    planes: dim(x.shape, 0) * dim(x.shape, 1),
    inVolume: numel(volume),
    outVolume: numel(out),
    yShape: [...x.shape.slice(0, 2), ...out],
  };
}

/** Calls visit(yi, taps) per output with the flat input indices of its window, in scan order. */
function forEachWindow3d(x: Tensor, g: Geometry, visit: (yi: number, taps: readonly number[]) => void): void {
  const taps: number[][] = Array.from({ length: g.outVolume }, () => []);
  forEachTap3d(x.shape.slice(2), g.window, (o, v) => taps[o]!.push(v));
  for (let plane = 0; plane < g.planes; plane++) {
    taps.forEach((list, o) =>
      visit(
        plane * g.outVolume + o,
        list.map((v) => plane * g.inVolume + v),
      ),
    );
  }
}

function checkDy(dy: Tensor, g: Geometry, what: string): void {
  if (!sameShape(dy.shape, g.yShape))
    throw new Error(`${what}: dy shape [${dy.shape.join(', ')}] is not [${g.yShape.join(', ')}]`);
}

/**
 * The input index each output takes (d, h, w scan order), or -1 for a window whose dilated taps
 * all land in the padding: PyTorch's output there is -inf, and it takes no gradient.
 */
function forEachArgmax(x: Tensor, g: Geometry, visit: (yi: number, xi: number) => void): void {
  forEachWindow3d(x, g, (yi, taps) => visit(yi, taps.length === 0 ? -1 : firstMaxTap(x.data, taps)));
}

export function maxpool3d(x: Tensor, a: OpAttrs['maxpool3d']): Tensor {
  const g = geometry(x, a, 'maxpool3d');
  const y = tensor(g.yShape);
  forEachArgmax(x, g, (yi, xi) => {
    y.data[yi] = xi < 0 ? -Infinity : at(x.data, xi);
  });
  return y;
}

export function maxpool3dBackward(x: Tensor, dy: Tensor, a: OpAttrs['maxpool3d']): Tensor {
  const g = geometry(x, a, 'maxpool3dBackward');
  checkDy(dy, g, 'maxpool3dBackward');
  const dx = tensor(x.shape);
  forEachArgmax(x, g, (yi, xi) => {
    if (xi >= 0) dx.data[xi] = at(dx.data, xi) + at(dy.data, yi);
  });
  return dx;
}

/**
 * Padded zeros count in the divisor (count_include_pad = true). Without ceil_mode no window
 * reaches past the padding, so the divisor is the whole kernel volume.
 */
const divisor = (g: Geometry): number => numel(g.window.kernel);

export function avgpool3d(x: Tensor, a: OpAttrs['avgpool3d']): Tensor {
  const g = geometry(x, a, 'avgpool3d');
  const y = tensor(g.yShape);
  forEachWindow3d(x, g, (yi, taps) => {
    y.data[yi] = taps.reduce((s, t) => s + at(x.data, t), 0) / divisor(g);
  });
  return y;
}

export function avgpool3dBackward(x: Tensor, dy: Tensor, a: OpAttrs['avgpool3d']): Tensor {
  const g = geometry(x, a, 'avgpool3dBackward');
  checkDy(dy, g, 'avgpool3dBackward');
  const dx = tensor(x.shape);
  forEachWindow3d(x, g, (yi, taps) => {
    for (const t of taps) dx.data[t] = at(dx.data, t) + at(dy.data, yi) / divisor(g);
  });
  return dx;
}
