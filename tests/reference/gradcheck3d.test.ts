// The 3-D ops' backward of the reference (conv3d, maxpool3d, avgpool3d) against float64 central
// differences (tests/helpers/gradcheck.ts), through loss = sum(y * r) with a seeded random
// cotangent r, as tests/reference/gradcheck.test.ts checks the 2-D ops.
import { describe, it } from 'vitest';
import type { OpAttrs, Triple } from '../../compiler/ir/ops.ts';
import * as ref from '../../runtime/reference/ops.ts';
import type { Tensor } from '../../runtime/reference/ops.ts';
import { GRADCHECK_TOL, dot, expectGradients } from '../helpers/gradcheck.ts';
import { createRng, randn } from '../helpers/random.ts';

interface Case {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly loss: (xs: readonly Tensor[]) => number;
  readonly grads: (xs: readonly Tensor[]) => readonly Tensor[];
}

const rng = createRng(20261202);
const at = (xs: readonly Tensor[], k: number): Tensor => xs[k]!;

function vjp(
  name: string,
  inputs: readonly Tensor[],
  forward: (xs: readonly Tensor[]) => Tensor,
  backward: (xs: readonly Tensor[], dy: Tensor) => readonly Tensor[],
): Case {
  const r = randn(rng, forward(inputs).shape);
  return { name, inputs, loss: (xs) => dot(forward(xs), r), grads: (xs) => backward(xs, r) };
}

type ConvOptions = Partial<OpAttrs['conv3d']> & { outChannels: number; kernel: Triple };

function conv(name: string, xShape: number[], o: ConvOptions): Case {
  const a: OpAttrs['conv3d'] = {
    stride: [1, 1, 1],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
    groups: 1,
    bias: true,
    ...o,
  };
  const w = randn(rng, [a.outChannels, xShape[1]! / a.groups, ...a.kernel]);
  const inputs = [randn(rng, xShape), w, ...(a.bias ? [randn(rng, [a.outChannels])] : [])];
  return vjp(
    name,
    inputs,
    (xs) => ref.conv3d(at(xs, 0), at(xs, 1), xs[2] ?? null, a),
    (xs, dy) => {
      const g = ref.conv3dBackward(at(xs, 0), at(xs, 1), dy, a);
      return g.db === null ? [g.dx, g.dw] : [g.dx, g.dw, g.db];
    },
  );
}

const window = (
  kernel: Triple,
  stride: Triple,
  padding: Triple,
  dilation: Triple = [1, 1, 1],
): OpAttrs['maxpool3d'] => ({ kernel, stride, padding, dilation });

const maxpool = (name: string, xShape: number[], a: OpAttrs['maxpool3d']): Case =>
  vjp(
    name,
    [randn(rng, xShape)],
    (xs) => ref.maxpool3d(at(xs, 0), a),
    (xs, dy) => [ref.maxpool3dBackward(at(xs, 0), dy, a)],
  );

const avgpool = (name: string, xShape: number[], a: OpAttrs['avgpool3d']): Case =>
  vjp(
    name,
    [randn(rng, xShape)],
    (xs) => ref.avgpool3d(at(xs, 0), a),
    (xs, dy) => [ref.avgpool3dBackward(at(xs, 0), dy, a)],
  );

const groups: readonly (readonly [string, readonly Case[]])[] = [
  [
    'conv3d',
    [
      conv('kernel 3, padding 1, bias', [2, 2, 4, 3, 4], { outChannels: 3, kernel: [3, 3, 3], padding: [1, 1, 1] }),
      conv('kernel (2, 3, 1), stride (2, 1, 2), padding (1, 0, 1), no bias', [1, 2, 5, 4, 5], {
        outChannels: 2,
        kernel: [2, 3, 1],
        stride: [2, 1, 2],
        padding: [1, 0, 1],
        bias: false,
      }),
      conv('dilation (2, 1, 2), groups 2', [1, 4, 5, 4, 5], {
        outChannels: 4,
        kernel: [2, 2, 2],
        dilation: [2, 1, 2],
        groups: 2,
      }),
    ],
  ],
  [
    'maxpool3d',
    [
      maxpool('kernel 2, stride 2', [2, 2, 4, 4, 5], window([2, 2, 2], [2, 2, 2], [0, 0, 0])),
      maxpool(
        'kernel 3, stride 2, padding 1, dilation (1, 2, 1)',
        [1, 2, 5, 6, 5],
        window([3, 3, 3], [2, 2, 2], [1, 1, 1], [1, 2, 1]),
      ),
    ],
  ],
  [
    'avgpool3d',
    [
      avgpool('kernel 2, stride 1', [1, 2, 3, 4, 3], { kernel: [2, 2, 2], stride: [1, 1, 1], padding: [0, 0, 0] }),
      avgpool('kernel (3, 2, 3), stride 2, padding (1, 1, 0)', [2, 1, 5, 4, 5], {
        kernel: [3, 2, 3],
        stride: [2, 2, 2],
        padding: [1, 1, 0],
      }),
    ],
  ],
];

const tol = `eps ${GRADCHECK_TOL.eps.toExponential()}, rtol ${GRADCHECK_TOL.rtol.toExponential()}, atol ${GRADCHECK_TOL.atol.toExponential()}`;

describe.each(groups)('%s backward', (_op, cases) => {
  it.each(cases)(`$name matches central differences (${tol})`, (c) => {
    expectGradients(c.loss, c.inputs, c.grads(c.inputs), GRADCHECK_TOL, c.name);
  });
});
