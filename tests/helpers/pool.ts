// Pooling attributes for tests: PyTorch's default for every option not given.
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';

export function maxAttrs(
  kernel: Pair,
  stride: Pair,
  padding: Pair = [0, 0],
  o: { dilation?: Pair | undefined; ceilMode?: boolean | undefined } = {},
): OpAttrs['maxpool2d'] {
  return { kernel, stride, padding, dilation: o.dilation ?? [1, 1], ceilMode: o.ceilMode ?? false };
}

export function avgAttrs(
  kernel: Pair,
  stride: Pair,
  padding: Pair = [0, 0],
  o: { ceilMode?: boolean | undefined; countIncludePad?: boolean | undefined } = {},
): OpAttrs['avgpool2d'] {
  return { kernel, stride, padding, ceilMode: o.ceilMode ?? false, countIncludePad: o.countIncludePad ?? true };
}
