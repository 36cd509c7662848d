// The reference against PyTorch 1.13 itself: tests/fixtures/torch/ops.json, made by
// tests/fixtures/gen/ops.py (regenerate: /usr/bin/python3 tests/fixtures/gen/ops.py). Both sides are
// float64 and compute the same sums, in orders that differ only by rounding: rtol 1e-9, atol 1e-10
// (every case also passes at rtol 1e-13, atol 1e-14; the slack only absorbs summation order).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';
import * as ref from '../../runtime/reference/ops.ts';
import type { AdamHyper, AdamState, SgdHyper, SgdState, Tensor } from '../../runtime/reference/ops.ts';
import { expectAllclose } from '../helpers/allclose.ts';

interface StoredTensor {
  readonly shape: number[];
  readonly data: number[];
}

interface Fixture {
  readonly op: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly tensors: Record<string, StoredTensor>;
}

const file = JSON.parse(readFileSync(new URL('../fixtures/torch/ops.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Fixture[];
};

const TOL = { rtol: 1e-9, atol: 1e-10 };

/** Reads the fixture's named tensors and checks computed results against them. */
function access(f: Fixture): {
  get: (name: string) => Tensor;
  has: (name: string) => boolean;
  check: (name: string, actual: Tensor | number) => void;
} {
  const get = (name: string): Tensor => {
    const s = f.tensors[name];
    if (s === undefined) throw new Error(`fixture ${f.op} '${f.name}' has no tensor ${name}`);
    return ref.tensor(s.shape, s.data);
  };
  return {
    get,
    has: (name) => name in f.tensors,
    check: (name, actual) => {
      const expected = get(name);
      if (typeof actual === 'number') {
        expectAllclose([actual], expected.data, TOL, name);
        return;
      }
      expect(actual.shape, `${name} shape`).toEqual(expected.shape);
      expectAllclose(actual.data, expected.data, TOL, name);
    },
  };
}

type Runner = (f: Fixture) => void;

function vjpOp(
  forward: (x: Tensor, c: Fixture['config']) => Tensor,
  backward: (x: Tensor, dy: Tensor, c: Fixture['config']) => Tensor,
): Runner {
  return (f) => {
    const { get, check } = access(f);
    check('y', forward(get('x'), f.config));
    check('dx', backward(get('x'), get('dy'), f.config));
  };
}

function optimizerOp<S>(init: (p: Tensor) => S, step: (p: Tensor, g: Tensor, s: S) => { p: Tensor; state: S }): Runner {
  return (f) => {
    const { get, has, check } = access(f);
    let p = get('p0');
    let state = init(p);
    for (let i = 1; has(`g${i}`); i++) {
      ({ p, state } = step(p, get(`g${i}`), state));
      check(`p${i}`, p);
    }
  };
}

const labelsOf = (t: Tensor): Int32Array => Int32Array.from(t.data);

// These pooling cases predate PyTorch's pooling options and leave them at PyTorch's defaults
// (tests/reference/pool-options.test.ts covers the options).
const maxOf = (c: Fixture['config']): OpAttrs['maxpool2d'] =>
  ({ dilation: [1, 1], ceilMode: false, ...c }) as unknown as OpAttrs['maxpool2d'];
const avgOf = (c: Fixture['config']): OpAttrs['avgpool2d'] =>
  ({ ceilMode: false, countIncludePad: true, ...c }) as unknown as OpAttrs['avgpool2d'];

const runners: Record<string, Runner> = {
  conv2d: (f) => {
    const { get, has, check } = access(f);
    const a = f.config as OpAttrs['conv2d'];
    const [x, w, dy] = [get('x'), get('w'), get('dy')];
    check('y', ref.conv2d(x, w, has('b') ? get('b') : null, a));
    const g = ref.conv2dBackward(x, w, dy, a);
    check('dx', g.dx);
    check('dw', g.dw);
    expect(g.db === null).toBe(!a.bias);
    if (g.db !== null) check('db', g.db);
  },
  linear: (f) => {
    const { get, has, check } = access(f);
    const bias = (f.config as OpAttrs['linear']).bias;
    const [x, w, dy] = [get('x'), get('w'), get('dy')];
    check('y', ref.linear(x, w, has('b') ? get('b') : null));
    const g = ref.linearBackward(x, w, dy, bias);
    check('dx', g.dx);
    check('dw', g.dw);
    if (g.db !== null) check('db', g.db);
  },
  maxpool2d: vjpOp(
    (x, c) => ref.maxpool2d(x, maxOf(c)),
    (x, dy, c) => ref.maxpool2dBackward(x, dy, maxOf(c)),
  ),
  avgpool2d: vjpOp(
    (x, c) => ref.avgpool2d(x, avgOf(c)),
    (x, dy, c) => ref.avgpool2dBackward(x, dy, avgOf(c)),
  ),
  adaptive_avgpool2d: vjpOp(
    (x, c) => ref.adaptiveAvgpool2d(x, c['output'] as Pair),
    (x, dy, c) => ref.adaptiveAvgpool2dBackward(x, dy, c['output'] as Pair),
  ),
  batchnorm_train: (f) => {
    const { get, check } = access(f);
    const { eps, momentum } = f.config as OpAttrs['batchnorm'];
    const [x, gamma] = [get('x'), get('gamma')];
    const fwd = ref.batchnormTrain(x, gamma, get('beta'), eps);
    check('y', fwd.y);
    const g = ref.batchnormTrainBackward(x, gamma, get('dy'), eps);
    check('dx', g.dx);
    check('dgamma', g.dgamma);
    check('dbeta', g.dbeta);
    const run = ref.updateRunningStats(
      get('runMean'),
      get('runVar'),
      fwd.mean,
      fwd.varBiased,
      ref.numel(x.shape) / (x.shape[1] as number),
      momentum,
    );
    check('runMeanOut', run.runMean);
    check('runVarOut', run.runVar);
  },
  batchnorm_eval: (f) => {
    const { get, check } = access(f);
    const { eps } = f.config as OpAttrs['batchnorm'];
    const [x, gamma, runMean, runVar] = [get('x'), get('gamma'), get('runMean'), get('runVar')];
    check('y', ref.batchnormEval(x, gamma, get('beta'), runMean, runVar, eps));
    const g = ref.batchnormEvalBackward(x, gamma, runMean, runVar, get('dy'), eps);
    check('dx', g.dx);
    check('dgamma', g.dgamma);
    check('dbeta', g.dbeta);
  },
  relu: vjpOp(ref.relu, (x, dy) => ref.reluBackward(x, dy)),
  sigmoid: vjpOp(ref.sigmoid, (x, dy) => ref.sigmoidBackward(x, dy)),
  tanh: vjpOp(ref.tanh, (x, dy) => ref.tanhBackward(x, dy)),
  leaky_relu: vjpOp(
    (x, c) => ref.leakyRelu(x, (c as OpAttrs['leaky_relu']).slope),
    (x, dy, c) => ref.leakyReluBackward(x, dy, (c as OpAttrs['leaky_relu']).slope),
  ),
  dropout: (f) => {
    const { get, check } = access(f);
    const { p } = f.config as OpAttrs['dropout'];
    check('y', ref.dropout(get('x'), get('mask'), p));
    check('dx', ref.dropoutBackward(get('dy'), get('mask'), p));
  },
  cross_entropy: (f) => {
    const { get, check } = access(f);
    const labels = labelsOf(get('labels'));
    check('loss', ref.softmaxCrossEntropy(get('logits'), labels));
    check('dlogits', ref.softmaxCrossEntropyBackward(get('logits'), labels));
  },
  mse_sum: (f) => {
    const { get, check } = access(f);
    check('loss', ref.mseSum(get('yhat'), get('y')));
    check('dyhat', ref.mseSumBackward(get('yhat'), get('y')));
  },
  mse_mean: (f) => {
    const { get, check } = access(f);
    check('loss', ref.mseMean(get('yhat'), get('y')));
    check('dyhat', ref.mseMeanBackward(get('yhat'), get('y')));
  },
  sgd: (f) =>
    optimizerOp<SgdState>(
      () => ({ momentumBuf: null }),
      (p, g, s) => ref.sgdStep(p, g, s, f.config as unknown as SgdHyper),
    )(f),
  adam: (f) =>
    optimizerOp<AdamState>(ref.adamInitState, (p, g, s) => ref.adamStep(p, g, s, f.config as unknown as AdamHyper))(f),
  adamw: (f) =>
    optimizerOp<AdamState>(ref.adamInitState, (p, g, s) => ref.adamwStep(p, g, s, f.config as unknown as AdamHyper))(f),
};

const byOp = new Map<string, Fixture[]>();
for (const c of file.cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);

it('every fixture op has a runner', () => {
  expect([...byOp.keys()].filter((op) => !(op in runners))).toEqual([]);
});

describe.each([...byOp.entries()])(`%s vs torch ${file.torch}`, (op, fixtures) => {
  it.each(fixtures)(`$name (rtol ${TOL.rtol.toExponential()}, atol ${TOL.atol.toExponential()})`, (f) => {
    const run = runners[op];
    if (run === undefined) throw new Error(`no runner for fixture op ${op}`);
    run(f);
  });
});
