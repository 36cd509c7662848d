// The worked numbers of d2l.ai chapter 7 (convolutions and pooling), reproduced exactly by the reference.
import { describe, expect, it } from 'vitest';
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';
import * as ref from '../../runtime/reference/ops.ts';
import type { Tensor } from '../../runtime/reference/ops.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { avgAttrs, maxAttrs } from '../helpers/pool.ts';
import { createRng, randn } from '../helpers/random.ts';

const X = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const K = [0, 1, 2, 3];
const plus = (a: readonly number[], k: number): number[] => a.map((v) => v + k);

/** d2l's corr2d / conv without padding, stride or bias. */
function corr(x: Tensor, w: Tensor): Tensor {
  const a: OpAttrs['conv2d'] = {
    outChannels: w.shape[0] as number,
    kernel: [w.shape[2] as number, w.shape[3] as number],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    groups: 1,
    bias: false,
  };
  return ref.conv2d(x, w, null, a);
}

const maxpool = (x: Tensor, kernel: Pair, stride: Pair, padding: Pair = [0, 0]): number[] =>
  Array.from(ref.maxpool2d(x, maxAttrs(kernel, stride, padding)).data);

describe('d2l 7.2-7.4 convolutions', () => {
  it('corr2d(X, K) = [[19,25],[37,43]]', () => {
    const y = corr(ref.tensor([1, 1, 3, 3], X), ref.tensor([1, 1, 2, 2], K));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data)).toEqual([19, 25, 37, 43]);
  });

  it('two input channels (X, X+1) with (K, K+1) = [[56,72],[104,120]]', () => {
    const y = corr(ref.tensor([1, 2, 3, 3], [...X, ...plus(X, 1)]), ref.tensor([1, 2, 2, 2], [...K, ...plus(K, 1)]));
    expect(Array.from(y.data)).toEqual([56, 72, 104, 120]);
  });

  it('stacked kernels K, K+1, K+2 give three output channels', () => {
    const w = [0, 1, 2].flatMap((k) => [...plus(K, k), ...plus(K, k + 1)]);
    const y = corr(ref.tensor([1, 2, 3, 3], [...X, ...plus(X, 1)]), ref.tensor([3, 2, 2, 2], w));
    expect(y.shape).toEqual([1, 3, 2, 2]);
    expect(Array.from(y.data)).toEqual([56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224]);
  });

  it('a 1x1 convolution equals the matmul of the reshaped tensors (rtol 1e-12, atol 1e-12)', () => {
    const rng = createRng(7);
    const x = randn(rng, [1, 3, 3, 3]);
    const w = randn(rng, [2, 3, 1, 1]);
    // Y[o, p] = sum_c K[o, c] * X[c, p] over the 9 pixel positions p.
    const expected = Array.from({ length: 18 }, (_, i) => {
      const [o, p] = [Math.floor(i / 9), i % 9];
      return [0, 1, 2].reduce((s, c) => s + (w.data[o * 3 + c] as number) * (x.data[c * 9 + p] as number), 0);
    });
    expectAllclose(corr(x, w).data, expected, { rtol: 1e-12, atol: 1e-12 }, '1x1 conv');
  });
});

describe('d2l 7.5 pooling', () => {
  const x3 = ref.tensor([1, 1, 3, 3], X);

  it('2x2 max pool (stride 1) of 0..8 = [[4,5],[7,8]]', () => {
    expect(maxpool(x3, [2, 2], [1, 1])).toEqual([4, 5, 7, 8]);
  });

  it('2x2 average pool (stride 1) of 0..8 = [[2,3],[5,6]]', () => {
    expect(Array.from(ref.avgpool2d(x3, avgAttrs([2, 2], [1, 1])).data)).toEqual([2, 3, 5, 6]);
  });

  const x4 = ref.tensor(
    [1, 1, 4, 4],
    Array.from({ length: 16 }, (_, i) => i),
  );

  it('MaxPool2d(3) on arange(16) (stride defaults to the kernel) = [[10]]', () => {
    expect(maxpool(x4, [3, 3], [3, 3])).toEqual([10]);
  });

  it('MaxPool2d(3, padding=1, stride=2) = [[5,7],[13,15]]', () => {
    expect(maxpool(x4, [3, 3], [2, 2], [1, 1])).toEqual([5, 7, 13, 15]);
  });

  it('MaxPool2d((2,3), stride=(2,3), padding=(0,1)) = [[5,7],[13,15]]', () => {
    expect(maxpool(x4, [2, 3], [2, 3], [0, 1])).toEqual([5, 7, 13, 15]);
  });

  it('two channels (X, X+1) pool independently: the second gives [[6,8],[14,16]]', () => {
    const x = ref.tensor([1, 2, 4, 4], [...x4.data, ...plus(Array.from(x4.data), 1)]);
    expect(maxpool(x, [3, 3], [2, 2], [1, 1])).toEqual([5, 7, 13, 15, 6, 8, 14, 16]);
  });
});
