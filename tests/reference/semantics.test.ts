// PyTorch conventions the reference must follow that a gradient check cannot see: tie-breaking,
// gradients at kinks, the pooling divisor, numerical stability, input validation.
import { describe, expect, it } from 'vitest';
import * as ref from '../../runtime/reference/ops.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { avgAttrs, maxAttrs } from '../helpers/pool.ts';
import { createRng, randint, randn } from '../helpers/random.ts';

const EXACT = { rtol: 0, atol: 0 };

describe('PyTorch conventions', () => {
  it('max pool ties send the gradient to the FIRST maximum in row-major scan order', () => {
    const x = ref.tensor([1, 1, 2, 3], [1, 3, 3, 3, 0, 3]);
    const a = maxAttrs([2, 3], [1, 1]);
    expect(Array.from(ref.maxpool2d(x, a).data)).toEqual([3]);
    expect(Array.from(ref.maxpool2dBackward(x, ref.tensor([1, 1, 1, 1], [5]), a).data)).toEqual([0, 5, 0, 0, 0, 0]);
  });

  it('max pool padding is -inf: an all-negative border window still picks a real element', () => {
    const x = ref.tensor([1, 1, 2, 2], [-4, -3, -2, -1]);
    const y = ref.maxpool2d(x, maxAttrs([2, 2], [2, 2], [1, 1]));
    expect(Array.from(y.data)).toEqual([-4, -3, -2, -1]);
  });

  it('avg pool counts padded zeros in the divisor (count_include_pad): corner of ones is 4/9', () => {
    const y = ref.avgpool2d(ref.tensor([1, 1, 3, 3], new Array(9).fill(1)), avgAttrs([3, 3], [2, 2], [1, 1]));
    expectAllclose(y.data, [4 / 9, 4 / 9, 4 / 9, 4 / 9], { rtol: 1e-15, atol: 0 }, 'avg pool');
  });

  it('relu gradient at exactly 0 is 0; leaky_relu gradient at 0 is the slope', () => {
    const x = ref.tensor([3], [-1, 0, 2]);
    const dy = ref.tensor([3], [1, 1, 1]);
    expect(Array.from(ref.reluBackward(x, dy).data)).toEqual([0, 0, 1]);
    expect(Array.from(ref.leakyReluBackward(x, dy, 0.25).data)).toEqual([0.25, 0.25, 1]);
  });

  it('sigmoid stays finite and exact in the tails (x = +-1000)', () => {
    expect(Array.from(ref.sigmoid(ref.tensor([2], [-1000, 1000])).data)).toEqual([0, 1]);
  });

  it('cross-entropy is shift-invariant and finite at logits ~1000 (rtol 1e-12 on the loss, atol 1e-12 on the gradient; adding 1000 itself rounds by ~1e-13)', () => {
    const rng = createRng(3);
    const logits = randn(rng, [4, 6]);
    const labels = randint(rng, 4, 6);
    const shifted = ref.tensor(
      logits.shape,
      logits.data.map((v) => v + 1000),
    );
    expectAllclose(
      [ref.softmaxCrossEntropy(shifted, labels)],
      [ref.softmaxCrossEntropy(logits, labels)],
      { rtol: 1e-12, atol: 0 },
      'loss',
    );
    expectAllclose(
      ref.softmaxCrossEntropyBackward(shifted, labels).data,
      ref.softmaxCrossEntropyBackward(logits, labels).data,
      { rtol: 0, atol: 1e-12 },
      'grad',
    );
  });

  it('updateRunningStats blends the UNBIASED batch variance with momentum', () => {
    const { runMean, runVar } = ref.updateRunningStats(
      ref.tensor([1], [0]),
      ref.tensor([1], [1]),
      ref.tensor([1], [2]),
      ref.tensor([1], [3]),
      4,
      0.1,
    );
    expectAllclose(runMean.data, [0.2], { rtol: 1e-15, atol: 0 }, 'running mean');
    expectAllclose(runVar.data, [0.9 + 0.1 * 4], { rtol: 1e-15, atol: 0 }, 'running var');
  });

  it('SGD: the first momentum step uses the gradient itself (no dampening), later steps dampen', () => {
    const h = { lr: 1, momentum: 0.5, dampening: 0.5, weightDecay: 0, nesterov: false };
    const first = ref.sgdStep(ref.tensor([1], [0]), ref.tensor([1], [2]), { momentumBuf: null }, h);
    expectAllclose(first.p.data, [-2], EXACT, 'step 1');
    const second = ref.sgdStep(first.p, ref.tensor([1], [2]), first.state, h);
    expectAllclose(second.state.momentumBuf?.data ?? [], [0.5 * 2 + 0.5 * 2], EXACT, 'buffer after step 2');
  });

  it('dropout scales kept values by 1/(1-p)', () => {
    const y = ref.dropout(ref.tensor([4], [1, 2, 3, 4]), ref.tensor([4], [1, 0, 1, 0]), 0.5);
    expect(Array.from(y.data)).toEqual([2, 0, 6, 0]);
  });

  it('rejects malformed input', () => {
    expect(() => ref.tensor([2, 2], [1, 2, 3])).toThrow(/needs 4 values/);
    const a = {
      outChannels: 1,
      kernel: [2, 2],
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 1,
      bias: true,
    } as const;
    expect(() => ref.conv2d(ref.tensor([1, 1, 3, 3]), ref.tensor([1, 1, 2, 2]), null, a)).toThrow(/bias/);
    expect(() => ref.maxpool2d(ref.tensor([1, 1, 4, 4]), maxAttrs([2, 2], [1, 1], [2, 2]))).toThrow(/half/);
    expect(() => ref.softmaxCrossEntropy(ref.tensor([1, 3]), Int32Array.from([3]))).toThrow(/label 3/);
  });
});
