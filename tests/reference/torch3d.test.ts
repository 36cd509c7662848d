// The 3-D reference ops (conv3d, maxpool3d, avgpool3d, batch norm on 5-D input) against PyTorch 1.13 itself:
// tests/fixtures/torch/ops3d.json, made by tests/fixtures/gen/ops3d.py (regenerate:
// /usr/bin/python3 tests/fixtures/gen/ops3d.py). Forward and every gradient (input, weight,
// bias), both sides float64, the same sums in orders that differ only by rounding: rtol 1e-9,
// atol 1e-10, as tests/reference/torch.test.ts.
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

interface Fixture {
  readonly op: 'conv3d' | 'maxpool3d' | 'avgpool3d' | 'batchnorm3d_train' | 'batchnorm3d_eval';
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly tensors: Record<string, StoredTensor>;
}

const file = JSON.parse(readFileSync(new URL('../fixtures/torch/ops3d.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Fixture[];
};
const TOL = { rtol: 1e-9, atol: 1e-10 };

function run(f: Fixture): void {
  const get = (name: string): Tensor => {
    const s = f.tensors[name];
    if (s === undefined) throw new Error(`fixture ${f.op} '${f.name}' has no tensor ${name}`);
    return ref.tensor(s.shape, s.data);
  };
  const check = (name: string, actual: Tensor): void => {
    const expected = get(name);
    expect(actual.shape, `${name} shape`).toEqual(expected.shape);
    expectAllclose(actual.data, expected.data, TOL, name);
  };
  const [x, dy] = [get('x'), get('dy')];
  switch (f.op) {
    case 'batchnorm3d_train': {
      const { eps, momentum } = f.config as unknown as OpAttrs['batchnorm'];
      const fwd = ref.batchnormTrain(x, get('gamma'), get('beta'), eps);
      check('y', fwd.y);
      const g = ref.batchnormTrainBackward(x, get('gamma'), dy, eps);
      check('dx', g.dx);
      check('dgamma', g.dgamma);
      check('dbeta', g.dbeta);
      const run = ref.updateRunningStats(
        get('runMean'),
        get('runVar'),
        fwd.mean,
        fwd.varBiased,
        ref.numel(x.shape) / x.shape[1]!,
        momentum,
      );
      check('runMeanOut', run.runMean);
      check('runVarOut', run.runVar);
      return;
    }
    case 'batchnorm3d_eval': {
      const { eps } = f.config as unknown as OpAttrs['batchnorm'];
      const [gamma, runMean, runVar] = [get('gamma'), get('runMean'), get('runVar')];
      check('y', ref.batchnormEval(x, gamma, get('beta'), runMean, runVar, eps));
      const g = ref.batchnormEvalBackward(x, gamma, runMean, runVar, dy, eps);
      check('dx', g.dx);
      check('dgamma', g.dgamma);
      check('dbeta', g.dbeta);
      return;
    }
    case 'conv3d': {
      const a = f.config as unknown as OpAttrs['conv3d'];
      const w = get('w');
      check('y', ref.conv3d(x, w, a.bias ? get('b') : null, a));
      const g = ref.conv3dBackward(x, w, dy, a);
      check('dx', g.dx);
      check('dw', g.dw);
      expect(g.db === null).toBe(!a.bias);
      if (g.db !== null) check('db', g.db);
      return;
    }
    case 'maxpool3d': {
      const a = f.config as unknown as OpAttrs['maxpool3d'];
      check('y', ref.maxpool3d(x, a));
      check('dx', ref.maxpool3dBackward(x, dy, a));
      return;
    }
    case 'avgpool3d': {
      const a = f.config as unknown as OpAttrs['avgpool3d'];
      check('y', ref.avgpool3d(x, a));
      check('dx', ref.avgpool3dBackward(x, dy, a));
    }
  }
}

describe.each(['conv3d', 'maxpool3d', 'avgpool3d', 'batchnorm3d_train', 'batchnorm3d_eval'])(
  `%s vs torch ${file.torch}`,
  (op) => {
    const fixtures = file.cases.filter((c) => c.op === op);
    it('has fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(1));
    it.each(fixtures)(`$name (rtol ${TOL.rtol.toExponential()}, atol ${TOL.atol.toExponential()})`, (f) => run(f));
  },
);

it("the seeds' exercise: pool3d(X_3d, (2, 2, 2)) on arange(27) as 3x3x3 (stride 1) is [[[13, 14], [16, 17]], [[22, 23], [25, 26]]]", () => {
  const x = ref.tensor(
    [1, 1, 3, 3, 3],
    Array.from({ length: 27 }, (_, i) => i),
  );
  const y = ref.maxpool3d(x, { kernel: [2, 2, 2], stride: [1, 1, 1], padding: [0, 0, 0], dilation: [1, 1, 1] });
  expect(y.shape).toEqual([1, 1, 2, 2, 2]);
  expect(Array.from(y.data)).toEqual([13, 14, 16, 17, 22, 23, 25, 26]);
});

it('a max-pool window whose dilated taps all land in the padding gives -inf and no gradient, as PyTorch (F.max_pool3d(x, 2, 1, 1, 3) on 2x2x2)', () => {
  const x = ref.tensor(
    [1, 1, 2, 2, 2],
    Array.from({ length: 8 }, (_, i) => i),
  );
  const a = { kernel: [2, 2, 2], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [3, 3, 3] } as const;
  expect(Array.from(ref.maxpool3d(x, a).data)).toEqual([-Infinity]);
  expect(Array.from(ref.maxpool3dBackward(x, ref.tensor([1, 1, 1, 1, 1], [1]), a).data)).toEqual(new Array(8).fill(0));
});
