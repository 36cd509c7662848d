// The sliding-window geometry of the 3-D ops (conv3d, maxpool3d, avgpool3d) over [D, H, W] volumes.
import type { Triple } from '../../compiler/ir/ops.ts';
import { outSize } from './window.ts';

export interface Window3d {
  readonly kernel: Triple;
  readonly stride: Triple;
  readonly padding: Triple;
  readonly dilation: Triple;
}

/** PyTorch's output volume [OD, OH, OW] of a window over [D, H, W] (ceil_mode off). */
export function outVolume(volume: readonly number[], w: Window3d): Triple {
  const o = [0, 1, 2].map((i) => outSize(volume[i]!, w.kernel[i]!, w.stride[i]!, w.padding[i]!, w.dilation[i]!));
  return [o[0]!, o[1]!, o[2]!];
}

/**
 * Calls visit(o, v, k) for every output position o of the volume (flat in [OD, OH, OW]) and
 * every kernel tap k (flat in [kd, kh, kw]) that lands inside the input, at input position v
 * (flat in [D, H, W]); taps in the zero padding are skipped. Taps come in d, h, w scan order,
 * the order PyTorch's max pooling scans, which decides ties.
 */
export function forEachTap3d(
  volume: readonly number[],
  w: Window3d,
  visit: (o: number, v: number, k: number) => void,
): void {
  const [d, h, wd] = [volume[0]!, volume[1]!, volume[2]!];
  const [od, oh, ow] = outVolume(volume, w);
  const [kd, kh, kw] = w.kernel;
  const pos = (axis: number, o: number, k: number): number =>
    o * w.stride[axis]! - w.padding[axis]! + k * w.dilation[axis]!;
  for (let a = 0; a < od; a++) {
    for (let b = 0; b < oh; b++) {
      for (let c = 0; c < ow; c++) {
        const o = (a * oh + b) * ow + c;
        for (let i = 0; i < kd; i++) {
          const z = pos(0, a, i);
          if (z < 0 || z >= d) continue;
          for (let j = 0; j < kh; j++) {
            const y = pos(1, b, j);
            if (y < 0 || y >= h) continue;
            for (let l = 0; l < kw; l++) {
              const x = pos(2, c, l);
              if (x < 0 || x >= wd) continue;
              visit(o, (z * h + y) * wd + x, (i * kh + j) * kw + l);
            }
          }
        }
      }
    }
  }
}
