// Every backward of the reference against float64 central differences (tests/helpers/gradcheck.ts):
// each op's VJP is checked through loss = sum(y * r) with a seeded random cotangent r.
import { describe, it } from 'vitest';
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';
import * as ref from '../../runtime/reference/ops.ts';
import type { Tensor } from '../../runtime/reference/ops.ts';
import { GRADCHECK_TOL, dot, expectGradients } from '../helpers/gradcheck.ts';
import { avgAttrs, maxAttrs } from '../helpers/pool.ts';
import { type Rng, createRng, randint, randn, uniform } from '../helpers/random.ts';

interface Case {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly loss: (xs: readonly Tensor[]) => number;
  /** Analytic gradient of `loss` per input; null for inputs that get none (masks). */
  readonly grads: (xs: readonly Tensor[]) => readonly (Tensor | null)[];
}

function x0(xs: readonly Tensor[], k = 0): Tensor {
  const x = xs[k];
  if (x === undefined) throw new Error(`no input ${k}`);
  return x;
}

/** A case for an op with tensor output: loss = sum(forward(xs) * r), grads = backward(xs, r). */
function vjp(
  rng: Rng,
  name: string,
  inputs: readonly Tensor[],
  forward: (xs: readonly Tensor[]) => Tensor,
  backward: (xs: readonly Tensor[], dy: Tensor) => readonly (Tensor | null)[],
): Case {
  const r = randn(rng, forward(inputs).shape);
  return { name, inputs, loss: (xs) => dot(forward(xs), r), grads: (xs) => backward(xs, r) };
}

const rng = createRng(20240611);

function conv(name: string, xShape: number[], a: OpAttrs['conv2d']): Case {
  const w = randn(rng, [a.outChannels, (xShape[1] as number) / a.groups, a.kernel[0], a.kernel[1]]);
  const inputs = a.bias ? [randn(rng, xShape), w, randn(rng, [a.outChannels])] : [randn(rng, xShape), w];
  return vjp(
    rng,
    name,
    inputs,
    (xs) => ref.conv2d(x0(xs), x0(xs, 1), xs[2] ?? null, a),
    (xs, dy) => {
      const g = ref.conv2dBackward(x0(xs), x0(xs, 1), dy, a);
      return g.db === null ? [g.dx, g.dw] : [g.dx, g.dw, g.db];
    },
  );
}

const convAttrs = (o: Partial<OpAttrs['conv2d']> & { outChannels: number; kernel: Pair }): OpAttrs['conv2d'] => ({
  stride: [1, 1],
  padding: [0, 0],
  dilation: [1, 1],
  groups: 1,
  bias: true,
  ...o,
});

function linear(name: string, n: number, fin: number, fout: number, bias: boolean): Case {
  const inputs = [randn(rng, [n, fin]), randn(rng, [fout, fin]), ...(bias ? [randn(rng, [fout])] : [])];
  return vjp(
    rng,
    name,
    inputs,
    (xs) => ref.linear(x0(xs), x0(xs, 1), xs[2] ?? null),
    (xs, dy) => {
      const g = ref.linearBackward(x0(xs), x0(xs, 1), dy, bias);
      return g.db === null ? [g.dx, g.dw] : [g.dx, g.dw, g.db];
    },
  );
}

function maxpool(name: string, xShape: number[], a: OpAttrs['maxpool2d']): Case {
  return vjp(
    rng,
    name,
    [randn(rng, xShape)],
    (xs) => ref.maxpool2d(x0(xs), a),
    (xs, dy) => [ref.maxpool2dBackward(x0(xs), dy, a)],
  );
}

function avgpool(name: string, xShape: number[], a: OpAttrs['avgpool2d']): Case {
  return vjp(
    rng,
    name,
    [randn(rng, xShape)],
    (xs) => ref.avgpool2d(x0(xs), a),
    (xs, dy) => [ref.avgpool2dBackward(x0(xs), dy, a)],
  );
}

function adaptive(name: string, xShape: number[], out: Pair): Case {
  return vjp(
    rng,
    name,
    [randn(rng, xShape)],
    (xs) => ref.adaptiveAvgpool2d(x0(xs), out),
    (xs, dy) => [ref.adaptiveAvgpool2dBackward(x0(xs), dy, out)],
  );
}

const EPS = 1e-5;

function bnTrain(name: string, xShape: number[]): Case {
  const c = xShape[1] as number;
  return vjp(
    rng,
    name,
    [randn(rng, xShape), randn(rng, [c]), randn(rng, [c])],
    (xs) => ref.batchnormTrain(x0(xs), x0(xs, 1), x0(xs, 2), EPS).y,
    (xs, dy) => {
      const g = ref.batchnormTrainBackward(x0(xs), x0(xs, 1), dy, EPS);
      return [g.dx, g.dgamma, g.dbeta];
    },
  );
}

function bnEval(name: string, xShape: number[]): Case {
  const c = xShape[1] as number;
  const runMean = randn(rng, [c]);
  const runVar = uniform(rng, [c], 0.5, 2);
  return vjp(
    rng,
    name,
    [randn(rng, xShape), randn(rng, [c]), randn(rng, [c])],
    (xs) => ref.batchnormEval(x0(xs), x0(xs, 1), x0(xs, 2), runMean, runVar, EPS),
    (xs, dy) => {
      const g = ref.batchnormEvalBackward(x0(xs), x0(xs, 1), runMean, runVar, dy, EPS);
      return [g.dx, g.dgamma, g.dbeta];
    },
  );
}

function dropout(name: string, shape: number[], p: number): Case {
  const mask = ref.tensor(
    shape,
    uniform(rng, shape).data.map((u) => (u >= p ? 1 : 0)),
  );
  return vjp(
    rng,
    name,
    [randn(rng, shape)],
    (xs) => ref.dropout(x0(xs), mask, p),
    (_xs, dy) => [ref.dropoutBackward(dy, mask, p)],
  );
}

function unary(name: string, f: (x: Tensor) => Tensor, df: (x: Tensor, dy: Tensor) => Tensor): Case {
  return vjp(
    rng,
    name,
    [randn(rng, [2, 3, 2, 2])],
    (xs) => f(x0(xs)),
    (xs, dy) => [df(x0(xs), dy)],
  );
}

function concat(name: string, shapes: number[][]): Case {
  const channels = shapes.map((s) => s[1] as number);
  return vjp(
    rng,
    name,
    shapes.map((s) => randn(rng, s)),
    (xs) => ref.concat(xs),
    (_xs, dy) => ref.concatBackward(dy, channels),
  );
}

function crossEntropy(name: string, n: number, k: number, scale: number): Case {
  const labels = randint(rng, n, k);
  const logits = ref.tensor(
    [n, k],
    randn(rng, [n, k]).data.map((v) => v * scale),
  );
  return {
    name,
    inputs: [logits],
    loss: (xs) => ref.softmaxCrossEntropy(x0(xs), labels),
    grads: (xs) => [ref.softmaxCrossEntropyBackward(x0(xs), labels)],
  };
}

function mse(name: string, shape: number[], loss: typeof ref.mseSum, grad: typeof ref.mseSumBackward): Case {
  // The target is an input too (so a wrong shape pairing would show); only yhat gets a gradient.
  return {
    name,
    inputs: [randn(rng, shape), randn(rng, shape)],
    loss: (xs) => loss(x0(xs), x0(xs, 1)),
    grads: (xs) => [grad(x0(xs), x0(xs, 1)), null],
  };
}

const groups: readonly (readonly [string, readonly Case[]])[] = [
  [
    'conv2d',
    [
      conv('3x3 padding 1 with bias', [2, 3, 5, 5], convAttrs({ outChannels: 4, kernel: [3, 3], padding: [1, 1] })),
      conv(
        'asymmetric 2x3 kernel, stride (2,1), padding (1,0)',
        [2, 2, 6, 5],
        convAttrs({ outChannels: 3, kernel: [2, 3], stride: [2, 1], padding: [1, 0] }),
      ),
      conv(
        'dilation 2, padding 2, no bias',
        [1, 2, 7, 7],
        convAttrs({ outChannels: 2, kernel: [3, 3], padding: [2, 2], dilation: [2, 2], bias: false }),
      ),
      conv(
        'dilation (2,1), stride 2, padding (1,2)',
        [2, 2, 7, 6],
        convAttrs({ outChannels: 3, kernel: [3, 2], stride: [2, 2], padding: [1, 2], dilation: [2, 1] }),
      ),
      conv(
        'groups 2, stride 2, padding 1',
        [2, 4, 5, 5],
        convAttrs({ outChannels: 6, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 2 }),
      ),
      conv(
        'depthwise (groups = channels = 3, multiplier 2)',
        [1, 3, 5, 4],
        convAttrs({ outChannels: 6, kernel: [3, 3], padding: [1, 1], groups: 3 }),
      ),
      conv('1x1 kernel', [2, 3, 3, 4], convAttrs({ outChannels: 2, kernel: [1, 1] })),
    ],
  ],
  ['linear', [linear('with bias', 3, 5, 4, true), linear('without bias', 2, 4, 3, false)]],
  [
    'maxpool2d',
    [
      maxpool('2x2 stride 2', [2, 2, 4, 6], maxAttrs([2, 2], [2, 2], [0, 0])),
      maxpool('3x3 stride 2 padding 1', [2, 2, 5, 6], maxAttrs([3, 3], [2, 2], [1, 1])),
      maxpool('2x3 stride (2,1) padding (1,1)', [1, 3, 5, 5], maxAttrs([2, 3], [2, 1], [1, 1])),
      maxpool('overlapping 3x3 stride 1 padding 1', [1, 2, 4, 4], maxAttrs([3, 3], [1, 1], [1, 1])),
      maxpool(
        '3x3 dilation 2 stride 2 padding 1, ceil_mode',
        [1, 2, 8, 9],
        maxAttrs([3, 3], [2, 2], [1, 1], { dilation: [2, 2], ceilMode: true }),
      ),
    ],
  ],
  [
    'avgpool2d',
    [
      avgpool('2x2 stride 2', [2, 2, 4, 4], avgAttrs([2, 2], [2, 2], [0, 0])),
      avgpool('3x3 stride 2 padding 1', [2, 2, 5, 6], avgAttrs([3, 3], [2, 2], [1, 1])),
      avgpool('2x3 stride (1,2) padding (1,1)', [1, 3, 4, 5], avgAttrs([2, 3], [1, 2], [1, 1])),
      avgpool(
        '3x3 stride 2 padding 1, ceil_mode, count_include_pad false',
        [1, 2, 6, 7],
        avgAttrs([3, 3], [2, 2], [1, 1], { ceilMode: true, countIncludePad: false }),
      ),
    ],
  ],
  [
    'adaptive_avgpool2d',
    [
      adaptive('5x5 -> 3x3 (non-divisible)', [2, 2, 5, 5], [3, 3]),
      adaptive('7x5 -> 3x2', [1, 3, 7, 5], [3, 2]),
      adaptive('4x4 -> 6x5 (upsampling, overlapping bins)', [1, 2, 4, 4], [6, 5]),
      adaptive('6x6 -> 1x1 (global)', [2, 3, 6, 6], [1, 1]),
    ],
  ],
  ['batchnorm train', [bnTrain('4-D [3,2,3,4]', [3, 2, 3, 4]), bnTrain('2-D [5,3]', [5, 3])]],
  ['batchnorm eval', [bnEval('4-D [2,3,2,3]', [2, 3, 2, 3]), bnEval('2-D [4,3]', [4, 3])]],
  ['dropout', [dropout('p 0.5 fixed mask', [2, 3, 3, 3], 0.5), dropout('p 0.2 fixed mask, 2-D', [4, 5], 0.2)]],
  [
    'activations',
    [
      unary('relu', ref.relu, ref.reluBackward),
      unary('sigmoid', ref.sigmoid, ref.sigmoidBackward),
      unary('tanh', ref.tanh, ref.tanhBackward),
      unary(
        'leaky_relu 0.1',
        (x) => ref.leakyRelu(x, 0.1),
        (x, dy) => ref.leakyReluBackward(x, dy, 0.1),
      ),
      unary('identity', ref.identity, (_x, dy) => dy),
    ],
  ],
  [
    'add',
    [
      vjp(
        rng,
        'same-shape residual',
        [randn(rng, [2, 3, 2, 2]), randn(rng, [2, 3, 2, 2])],
        (xs) => ref.add(x0(xs), x0(xs, 1)),
        (_xs, dy) => [dy, dy],
      ),
    ],
  ],
  [
    'concat',
    [
      concat('three 4-D inputs', [
        [2, 1, 3, 2],
        [2, 2, 3, 2],
        [2, 3, 3, 2],
      ]),
      concat('two 2-D inputs', [
        [3, 2],
        [3, 4],
      ]),
    ],
  ],
  [
    'flatten',
    [
      vjp(
        rng,
        '[2,3,2,2] -> [2,12]',
        [randn(rng, [2, 3, 2, 2])],
        (xs) => ref.flatten(x0(xs)),
        (xs, dy) => [ref.flattenBackward(dy, x0(xs).shape)],
      ),
    ],
  ],
  [
    'softmax cross-entropy',
    [crossEntropy('logits [4,5]', 4, 5, 1), crossEntropy('spread logits [3,7] (scale 5)', 3, 7, 5)],
  ],
  [
    'mse',
    [
      mse('sum (d2l)', [4, 3], ref.mseSum, ref.mseSumBackward),
      mse('mean (nn.MSELoss)', [4, 3], ref.mseMean, ref.mseMeanBackward),
    ],
  ],
];

const tol = `eps ${GRADCHECK_TOL.eps.toExponential()}, rtol ${GRADCHECK_TOL.rtol.toExponential()}, atol ${GRADCHECK_TOL.atol.toExponential()}`;

describe.each(groups)('%s backward', (_op, cases) => {
  it.each(cases)(`$name matches central differences (${tol})`, (c) => {
    expectGradients(c.loss, c.inputs, c.grads(c.inputs), GRADCHECK_TOL, c.name);
  });
});
