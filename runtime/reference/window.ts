// Sliding-window geometry shared by convolution and every pooling op, forward and backward.
import type { Pair } from '../../compiler/ir/ops.ts';
import { dim } from './tensor.ts';

/**
 * PyTorch's output size for a window op: floor((size + 2p - d(k-1) - 1) / s) + 1; with ceil_mode
 * (pooling) the numerator gains s - 1, and a last window that would start at or past size + p
 * (beyond the input and its left padding) is dropped.
 */
export function outSize(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation = 1,
  ceilMode = false,
): number {
  let out = Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padding) out--;
  if (out < 1) {
    throw new Error(
      `window ${kernel} (stride ${stride}, padding ${padding}, dilation ${dilation}) does not fit size ${size}`,
    );
  }
  return out;
}

/**
 * One axis of a pooling window for output position o over an input axis of length `size`:
 * the input positions it reads are start, start + step, ... below end (clipped to the input), and
 * `extent` is that axis's factor of the average-pool divisor.
 */
export interface AxisWindow {
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly extent: number;
}

export type AxisWindows = (o: number, size: number) => AxisWindow;

/**
 * A strided, padded, dilated pooling window. The divisor factor follows PyTorch's avg_pool2d: with
 * count_include_pad, end = min(start + k, size + p) is taken BEFORE clipping to the unpadded input,
 * so padded positions count but a ceil_mode window's overhang past the padding does not; without
 * it, only the input positions count. Without ceil_mode that min never bites (the last window ends
 * at or before size + p). Max pooling ignores the divisor; only it dilates (taps d apart).
 */
export function strided(
  kernel: number,
  stride: number,
  padding: number,
  dilation = 1,
  countIncludePad = true,
): AxisWindows {
  return (o, size) => {
    const start = o * stride - padding;
    const end = Math.min(start + dilation * (kernel - 1) + 1, size + padding);
    // The first tap inside the input: windows in the left padding skip whole steps.
    const first = start < 0 ? start + Math.ceil(-start / dilation) * dilation : start;
    const clipped = Math.min(end, size);
    return {
      start: first,
      end: clipped,
      step: dilation,
      extent: countIncludePad ? end - start : clipped - Math.max(start, 0),
    };
  };
}

/** PyTorch's adaptive pooling bins: [floor(o*size/out), ceil((o+1)*size/out)), divisor = bin size. */
export function adaptive(out: number): AxisWindows {
  return (o, size) => {
    const start = Math.floor((o * size) / out);
    const end = Math.ceil(((o + 1) * size) / out);
    return { start, end, step: 1, extent: end - start };
  };
}

/**
 * Visits every output element of a pooling op over an [N, C, H, W] input with an [oh, ow]
 * output grid: yi is the output's flat index, taps the flat input indices of its window in
 * row-major scan order (the order PyTorch's max pooling scans, which decides ties), divisor the
 * average-pool divisor.
 */
export function forEachWindow(
  shape: readonly number[],
  out: Pair,
  rows: AxisWindows,
  cols: AxisWindows,
  visit: (yi: number, taps: readonly number[], divisor: number) => void,
): void {
  const [n, c, h, w] = [dim(shape, 0), dim(shape, 1), dim(shape, 2), dim(shape, 3)];
  const [oh, ow] = out;
  let yi = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      const r = rows(i, h);
      for (let j = 0; j < ow; j++) {
        const q = cols(j, w);
        const taps: number[] = [];
        for (let y = r.start; y < r.end; y += r.step) {
          for (let x = q.start; x < q.end; x += q.step) taps.push((plane * h + y) * w + x);
        }
        visit(yi++, taps, r.extent * q.extent);
      }
    }
  }
}
