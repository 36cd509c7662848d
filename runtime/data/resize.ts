// u8 images to float32 in [0, 1], optionally resized bilinearly: d2l's
// `transforms.Compose([Resize(size), ToTensor()])` for Fashion-MNIST.
//
// ToTensor divides by 255. The resize is PyTorch's antialiased bilinear filter,
// `F.interpolate(x, size, mode='bilinear', align_corners=False, antialias=True)` (what
// torchvision >= 0.17 Resize runs on tensors): a triangle filter at half-pixel centres, widened by
// the scale factor when shrinking, taps outside the image dropped and the rest renormalised. When
// enlarging (28 -> 96 or 224, all d2l does) that is exactly plain bilinear interpolation with edge
// clamping, i.e. `antialias=False` gives the same; when shrinking it averages every covered pixel
// instead of sampling two. d2l resizes the PIL image before ToTensor, so PIL's bilinear filter runs
// there: the same triangle filter, but its result is rounded to u8 (we keep the float, a difference
// below 0.5/255). PyTorch computes in float32; we use float64 and round once at the end.

/** For one axis: output i reads input start[i] .. start[i] + size[i] - 1 with weights[i * taps + k]. */
interface AxisTable {
  readonly start: Int32Array;
  readonly size: Int32Array;
  readonly taps: number;
  readonly weights: Float64Array;
}

export interface ResizePlan {
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly rows: AxisTable;
  readonly cols: AxisTable;
  /** [inH, outW] after the horizontal pass; shared, so a plan serves one resize at a time. */
  readonly scratch: Float64Array;
}

/** Pixel value v -> v / 255 as ToTensor computes it in float32 (correctly rounded division). */
const UNIT = Float64Array.from({ length: 256 }, (_, v) => Math.fround(v / 255));

/** ATen's _compute_indices_min_size_weights_aa (UpSampleKernel.cpp) for a bilinear filter. */
function axisTable(inSize: number, outSize: number): AxisTable {
  const scale = inSize / outSize;
  // The triangle has support 1 input pixel; shrinking stretches it to `scale` pixels.
  const support = scale >= 1 ? scale : 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const w = Math.max(0, 1 - Math.abs((k + lo - center + 0.5) * invScale));
      weights[i * taps + k] = w;
      total += w;
    }
    for (let k = 0; k < n; k++) weights[i * taps + k]! /= total;
    start[i] = lo;
    size[i] = n;
  }
  return { start, size, taps, weights };
}

/** The index and weight tables for resizing inH x inW images to outH x outW; build once, reuse. */
export function planResize(inH: number, inW: number, outH: number, outW: number): ResizePlan {
  return {
    inH,
    inW,
    outH,
    outW,
    rows: axisTable(inH, outH),
    cols: axisTable(inW, outW),
    scratch: new Float64Array(inH * outW),
  };
}

/** dst[dstOffset + i] = src[srcOffset + i] / 255 for n pixels (ToTensor without resizing). */
export function toUnitInto(src: Uint8Array, srcOffset: number, n: number, dst: Float32Array, dstOffset: number): void {
  for (let i = 0; i < n; i++) dst[dstOffset + i] = UNIT[src[srcOffset + i]!]!;
}

/**
 * Resizes the inH x inW u8 image at src[srcOffset..] into the outH x outW float image at
 * dst[dstOffset..], scaled to [0, 1]. Separable: rows first into plan.scratch, then columns.
 * The hot loops read only local typed arrays.
 */
export function resizeInto(
  plan: ResizePlan,
  src: Uint8Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
): void {
  const { inH, inW, outH, outW, scratch } = plan;
  const { start: colStart, size: colSize, taps: colTaps, weights: colWeights } = plan.cols;
  const { start: rowStart, size: rowSize, taps: rowTaps, weights: rowWeights } = plan.rows;
  for (let y = 0; y < inH; y++) {
    const srcRow = srcOffset + y * inW;
    for (let x = 0; x < outW; x++) {
      const lo = srcRow + colStart[x]!;
      const n = colSize[x]!;
      const w = x * colTaps;
      let acc = 0;
      for (let k = 0; k < n; k++) acc += colWeights[w + k]! * UNIT[src[lo + k]!]!;
      scratch[y * outW + x] = acc;
    }
  }
  for (let y = 0; y < outH; y++) {
    const lo = rowStart[y]! * outW;
    const n = rowSize[y]!;
    const w = y * rowTaps;
    const dstRow = dstOffset + y * outW;
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += rowWeights[w + k]! * scratch[lo + k * outW + x]!;
      dst[dstRow + x] = acc;
    }
  }
}
