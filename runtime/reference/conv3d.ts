// 3-D convolution (PyTorch Conv3d: cross-correlation, [N, C, D, H, W] input, [O, C/groups, kd,
// kh, kw] weight, zero padding, stride, dilation, groups) and its gradients.
import type { OpAttrs } from '../../compiler/ir/ops.ts';
import { type Tensor, assertRank, dim, numel, sameShape } from './tensor.ts';
import { convolve, convolveBackward } from './conv.ts';
import { forEachTap3d, outVolume } from './window3d.ts';

type Conv3dAttrs = OpAttrs['conv3d'];

/** Output shape [N, O, OD, OH, OW], after checking x and w against the attrs. */
function convOutShape(x: Tensor, w: Tensor, a: Conv3dAttrs): number[] {
  assertRank(x, [5], 'conv3d input');
  const c = dim(x.shape, 1);
  const expected = [a.outChannels, c / a.groups, ...a.kernel];
  if (c % a.groups !== 0 || a.outChannels % a.groups !== 0 || !sameShape(w.shape, expected)) {
    throw new Error(
      `conv3d: weight [${w.shape.join(', ')}] does not match ${c} input channels and attrs ${JSON.stringify(a)}`,
    );
  }
  return [dim(x.shape, 0), a.outChannels, ...outVolume(x.shape.slice(2), a)];
}

/**
 * Calls visit(xi, wi, yi) for every product x[xi] * w[wi] that conv3d sums into y[yi]. Output
 * channel oc of group g reads input channels g*C/groups .. (g+1)*C/groups - 1.
 */
function forEachConvTap(
  x: Tensor,
  a: Conv3dAttrs,
  yShape: readonly number[],
  visit: (xi: number, wi: number, yi: number) => void,
): void {
  const [n, c] = [dim(x.shape, 0), dim(x.shape, 1)];
  const o = a.outChannels;
  const cg = c / a.groups;
  const og = o / a.groups;
  const [inVol, outVol, kVol] = [numel(x.shape.slice(2)), numel(yShape.slice(2)), numel(a.kernel)];
  // The (output, input, tap) triples of one volume, shared by every (sample, channel) pair.
  const taps: [number, number, number][] = [];
  forEachTap3d(x.shape.slice(2), a, (ov, iv, k) => taps.push([ov, iv, k]));
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / og);
      for (let ci = 0; ci < cg; ci++) {
        const xBase = (b * c + g * cg + ci) * inVol;
        const wBase = (oc * cg + ci) * kVol;
        const yBase = (b * o + oc) * outVol;
        for (const [ov, iv, k] of taps) visit(xBase + iv, wBase + k, yBase + ov);
      }
    }
  }
}

export function conv3d(x: Tensor, w: Tensor, b: Tensor | null, a: Conv3dAttrs): Tensor {
  const yShape = convOutShape(x, w, a);
  return convolve(x, w, b, yShape, a.bias, (visit) => forEachConvTap(x, a, yShape, visit), 'conv3d');
}

/** Vector-Jacobian product of conv3d for the cotangent dy; db is null when the layer has no bias. */
export function conv3dBackward(
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  a: Conv3dAttrs,
): { dx: Tensor; dw: Tensor; db: Tensor | null } {
  const yShape = convOutShape(x, w, a);
  return convolveBackward(x, w, dy, yShape, a.bias, (visit) => forEachConvTap(x, a, yShape, visit), 'conv3dBackward');
}
