// Ops that only move data: channel concatenation and flatten.
import { type Tensor, dim, numel, sameShape, tensor } from './tensor.ts';

/**
 * Calls visit(piece, pieceStart, wholeStart, length) for every contiguous run of the dim-1
 * concatenation of pieces with the given channel counts, over [N, C, ...rest] tensors with `inner`
 * trailing values per channel: batch b's channels of piece p sit at pieceStart in that piece and
 * at wholeStart in the concatenation.
 */
function forEachChannelBlock(
  n: number,
  channels: readonly number[],
  inner: number,
  visit: (piece: number, pieceStart: number, wholeStart: number, length: number) => void,
): void {
  const total = channels.reduce((s, c) => s + c, 0);
  for (let b = 0; b < n; b++) {
    let offset = 0;
    channels.forEach((c, piece) => {
      visit(piece, b * c * inner, (b * total + offset) * inner, c * inner);
      offset += c;
    });
  }
}

/** torch.cat(xs, dim=1): every input shares N and the trailing dims. */
export function concat(xs: readonly Tensor[]): Tensor {
  const first = xs[0];
  if (first === undefined) throw new Error('concat: no inputs');
  const [n, rest] = [dim(first.shape, 0), first.shape.slice(2)];
  for (const x of xs) {
    if (dim(x.shape, 0) !== n || !sameShape(x.shape.slice(2), rest)) {
      throw new Error(`concat: shape [${x.shape.join(', ')}] does not match [${first.shape.join(', ')}] outside dim 1`);
    }
  }
  const channels = xs.map((x) => dim(x.shape, 1));
  const y = tensor([n, channels.reduce((s, c) => s + c, 0), ...rest]);
  forEachChannelBlock(n, channels, numel(rest), (piece, pieceStart, wholeStart, length) => {
    y.data.set((xs[piece] as Tensor).data.subarray(pieceStart, pieceStart + length), wholeStart);
  });
  return y;
}

/** Splits dy along dim 1 into pieces of the given channel counts: the inputs' gradients. */
export function concatBackward(dy: Tensor, channels: readonly number[]): Tensor[] {
  if (channels.reduce((s, c) => s + c, 0) !== dim(dy.shape, 1)) {
    throw new Error(`concatBackward: channels ${channels.join('+')} do not sum to ${dim(dy.shape, 1)}`);
  }
  const [n, rest] = [dim(dy.shape, 0), dy.shape.slice(2)];
  const dxs = channels.map((c) => tensor([n, c, ...rest]));
  forEachChannelBlock(n, channels, numel(rest), (piece, pieceStart, wholeStart, length) => {
    (dxs[piece] as Tensor).data.set(dy.data.subarray(wholeStart, wholeStart + length), pieceStart);
  });
  return dxs;
}

/** nn.Flatten: [N, ...rest] -> [N, prod(rest)]; row-major data is unchanged. */
export function flatten(x: Tensor): Tensor {
  return tensor([dim(x.shape, 0), numel(x.shape.slice(1))], x.data);
}

/** The gradient of flatten: dy reshaped back to the input's shape. */
export function flattenBackward(dy: Tensor, xShape: readonly number[]): Tensor {
  if (numel(xShape) !== numel(dy.shape))
    throw new Error(`flattenBackward: [${dy.shape.join(', ')}] cannot take shape [${xShape.join(', ')}]`);
  return tensor(xShape, dy.data);
}
