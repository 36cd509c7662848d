// PyTorch's pooling options (ceil_mode and dilation for max pooling, ceil_mode and
// count_include_pad for average pooling) in the float64 reference against PyTorch 1.13 itself:
// tests/fixtures/torch/pool-options.json, made by tests/fixtures/gen/pool_options.py. Both sides are
// float64; forward values are picked or summed over the same taps, so rtol 1e-12, atol 1e-14 only
// absorbs summation order.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpAttrs } from '../../compiler/ir/ops.ts';
import * as ref from '../../runtime/reference/ops.ts';
import type { Tensor } from '../../runtime/reference/ops.ts';
import { expectAllclose } from '../helpers/allclose.ts';

interface StoredTensor {
  readonly shape: number[];
  readonly data: number[];
}

interface PoolCase {
  readonly op: 'maxpool2d' | 'avgpool2d';
  readonly name: string;
  readonly config: OpAttrs['maxpool2d'] | OpAttrs['avgpool2d'];
  readonly tensors: Record<'x' | 'dy' | 'y' | 'dx', StoredTensor>;
}

const file = JSON.parse(readFileSync(new URL('../fixtures/torch/pool-options.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: PoolCase[];
};
const TOL = { rtol: 1e-12, atol: 1e-14 };
const tensorOf = (s: StoredTensor): Tensor => ref.tensor(s.shape, s.data);

function run(c: PoolCase): { y: Tensor; dx: Tensor } {
  const [x, dy] = [tensorOf(c.tensors.x), tensorOf(c.tensors.dy)];
  if (c.op === 'maxpool2d') {
    const a = c.config as OpAttrs['maxpool2d'];
    return { y: ref.maxpool2d(x, a), dx: ref.maxpool2dBackward(x, dy, a) };
  }
  const a = c.config as OpAttrs['avgpool2d'];
  return { y: ref.avgpool2d(x, a), dx: ref.avgpool2dBackward(x, dy, a) };
}

describe(`pooling options against PyTorch ${file.torch} (float64, rtol 1e-12, atol 1e-14)`, () => {
  it('covers every option: ceil_mode both ways, dilation 1-3, count_include_pad both ways', () => {
    const configs = file.cases.map((c) => c.config);
    expect(new Set(configs.map((c) => c.ceilMode))).toEqual(new Set([true, false]));
    expect(new Set(configs.flatMap((c) => ('dilation' in c ? c.dilation : [])))).toEqual(new Set([1, 2, 3]));
    expect(new Set(configs.flatMap((c) => ('countIncludePad' in c ? [c.countIncludePad] : [])))).toEqual(
      new Set([true, false]),
    );
  });

  it.each(file.cases.map((c) => [`${c.op} ${c.name}`, c] as const))('%s: output and input gradient', (_name, c) => {
    const { y, dx } = run(c);
    expect(y.shape, 'y shape').toEqual(c.tensors.y.shape);
    expectAllclose(y.data, c.tensors.y.data, TOL, 'y');
    expectAllclose(dx.data, c.tensors.dx.data, TOL, 'dx');
  });
});
