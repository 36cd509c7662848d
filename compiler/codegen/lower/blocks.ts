// Even blocks of a dimension that is too big for one storage binding (a linear layer's output
// rows, a batch's samples): as few as fit, their starts on a grid that keeps each block's
// binding windows 256-byte aligned, as WebGPU requires of binding offsets.

export interface Block {
  readonly start: number;
  readonly size: number;
}

/**
 * `total` items in blocks of at most `most`, each starting at a multiple of `step`, as even as
 * that grid allows (the last may be shorter); null where not even `step` items fit.
 */
export function evenBlocks(total: number, most: number, step: number): Block[] | null {
  const largest = Math.floor(most / step) * step;
  if (total <= most) return [{ start: 0, size: total }];
  if (largest === 0) return null;
  const count = Math.ceil(total / largest);
  // At most `largest`, and (count - 1) blocks of it stay short of `total`: none is empty.
  const size = Math.ceil(total / count / step) * step;
  return Array.from({ length: count }, (_, i) => ({ start: i * size, size: Math.min(size, total - i * size) }));
}
