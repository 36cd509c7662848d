// Per-channel iteration over [N, C, ...rest] tensors (channel = dim 1), for 4-D and 2-D alike:
// the loops behind bias add and batch-norm statistics.
import { type Tensor, at, dim, numel, tensor } from './tensor.ts';

/** Calls visit(i, c) for every flat index i with c its channel. */
export function forEachChannelIndex(shape: readonly number[], visit: (i: number, c: number) => void): void {
  const channels = dim(shape, 1);
  const inner = numel(shape.slice(2));
  const n = numel(shape);
  for (let i = 0; i < n; i++) visit(i, Math.floor(i / inner) % channels);
}

/** A tensor of `shape` whose element i (in channel c) is f(i, c). */
export function mapChannels(shape: readonly number[], f: (i: number, c: number) => number): Tensor {
  const t = tensor(shape);
  forEachChannelIndex(shape, (i, c) => {
    t.data[i] = f(i, c);
  });
  return t;
}

/** Per-channel sums over every other dim of f(i, c), a [C] tensor. */
export function channelSums(shape: readonly number[], f: (i: number, c: number) => number): Tensor {
  const sums = tensor([dim(shape, 1)]);
  forEachChannelIndex(shape, (i, c) => {
    sums.data[c] = at(sums.data, c) + f(i, c);
  });
  return sums;
}
