// 2-D convolution (PyTorch Conv2d: cross-correlation, NCHW input, OIHW weight, zero padding,
// stride, dilation, groups) and its gradients.
import type { OpAttrs } from '../../compiler/ir/ops.ts';
import { type Tensor, assertRank, at, dim, sameShape, tensor } from './tensor.ts';
import { addChannelBias, channelBiasGrad, checkBias } from './bias.ts';
import { outSize } from './window.ts';

type ConvAttrs = OpAttrs['conv2d'];

/** Output shape [N, O, OH, OW], after checking x [N, C, H, W] and w [O, C/groups, kh, kw] against the attrs. */
function convOutShape(x: Tensor, w: Tensor, a: ConvAttrs): number[] {
  assertRank(x, [4], 'conv2d input');
  const c = dim(x.shape, 1);
  const expected = [a.outChannels, c / a.groups, a.kernel[0], a.kernel[1]];
  if (c % a.groups !== 0 || a.outChannels % a.groups !== 0 || !sameShape(w.shape, expected)) {
    throw new Error(
      `conv2d: weight [${w.shape.join(', ')}] does not match ${c} input channels and attrs ${JSON.stringify(a)}`,
    );
  }
  return [
    dim(x.shape, 0),
    a.outChannels,
    outSize(dim(x.shape, 2), a.kernel[0], a.stride[0], a.padding[0], a.dilation[0]),
    outSize(dim(x.shape, 3), a.kernel[1], a.stride[1], a.padding[1], a.dilation[1]),
  ];
}

/**
 * Calls visit(xi, wi, yi) for every product x[xi] * w[wi] that conv2d sums into y[yi]. Taps that
 * land in the zero padding contribute nothing and are skipped. Output channel o of group g reads
 * input channels g*C/groups .. (g+1)*C/groups - 1 (PyTorch's grouping).
 */
function forEachConvTap(
  x: Tensor,
  a: ConvAttrs,
  yShape: readonly number[],
  visit: (xi: number, wi: number, yi: number) => void,
): void {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [, o, oh, ow] = yShape as [number, number, number, number];
  const [kh, kw] = a.kernel;
  const cg = c / a.groups;
  const og = o / a.groups;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / og);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const yi = ((b * o + oc) * oh + i) * ow + j;
          for (let ci = 0; ci < cg; ci++) {
            for (let p = 0; p < kh; p++) {
              const y = i * a.stride[0] - a.padding[0] + p * a.dilation[0];
              if (y < 0 || y >= h) continue;
              for (let q = 0; q < kw; q++) {
                const x = j * a.stride[1] - a.padding[1] + q * a.dilation[1];
                if (x < 0 || x >= w) continue;
                visit(((b * c + g * cg + ci) * h + y) * w + x, ((oc * cg + ci) * kh + p) * kw + q, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** Calls visit(xi, wi, yi) for every product x[xi] * w[wi] a convolution sums into y[yi]. */
export type ConvTaps = (visit: (xi: number, wi: number, yi: number) => void) => void;

/** A convolution's output (shape `yShape`) from its taps, plus the per-channel bias; conv2d and conv3d. */
export function convolve(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  yShape: readonly number[],
  hasBias: boolean,
  taps: ConvTaps,
  what: string,
): Tensor {
  const y = tensor(yShape);
  checkBias(b, dim(yShape, 1), hasBias, what);
  taps((xi, wi, yi) => {
    y.data[yi] = at(y.data, yi) + at(x.data, xi) * at(w.data, wi);
  });
  return addChannelBias(y, b);
}

/** A convolution's vector-Jacobian product for the cotangent dy, from its taps; db is null without a bias. */
export function convolveBackward(
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  yShape: readonly number[],
  hasBias: boolean,
  taps: ConvTaps,
  what: string,
): { dx: Tensor; dw: Tensor; db: Tensor | null } {
  if (!sameShape(dy.shape, yShape))
    throw new Error(`${what}: dy shape [${dy.shape.join(', ')}] is not [${yShape.join(', ')}]`);
  const dx = tensor(x.shape);
  const dw = tensor(w.shape);
  taps((xi, wi, yi) => {
    dx.data[xi] = at(dx.data, xi) + at(dy.data, yi) * at(w.data, wi);
    dw.data[wi] = at(dw.data, wi) + at(dy.data, yi) * at(x.data, xi);
  });
  return { dx, dw, db: hasBias ? channelBiasGrad(dy) : null };
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, a: ConvAttrs): Tensor {
  const yShape = convOutShape(x, w, a);
  return convolve(x, w, b, yShape, a.bias, (visit) => forEachConvTap(x, a, yShape, visit), 'conv2d');
}

/** Vector-Jacobian product of conv2d for the cotangent dy; db is null when the layer has no bias. */
export function conv2dBackward(
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  a: ConvAttrs,
): { dx: Tensor; dw: Tensor; db: Tensor | null } {
  const yShape = convOutShape(x, w, a);
  return convolveBackward(x, w, dy, yShape, a.bias, (visit) => forEachConvTap(x, a, yShape, visit), 'conv2dBackward');
}
