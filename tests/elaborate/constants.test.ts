// Constant tensors: their values (float32, row-major, PyTorch's semantics), fixed layer
// parameters, `data tensors(...)`, and every error at its location.
import { describe, expect, it } from 'vitest';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { analyze, compileModel } from '../../compiler/index.ts';
import { errors, shaped } from '../helpers/cnn.ts';

const model = 'model M {\n  input [1, 4, 4]\n  relu\n}\n';

/** The constant `name` of `defs` as [shape, values]. */
function constant(defs: string, name: string): [number[], number[]] {
  const r = analyze('t.cnn', `${defs}\n${model}`);
  const messages = r.diagnostics.all.map((d) => d.message);
  const t = r.constants?.get(name);
  if (t === undefined) throw new Error(`no constant ${name}: ${messages.join('\n')}`);
  return [[...t.shape], [...t.data]];
}

/** `CODE@line:col message` of the first diagnostic. */
function firstError(src: string): string {
  const r = analyze('t.cnn', src);
  const d = r.diagnostics.all.find((x) => x.severity === 'error');
  if (d === undefined) return 'none';
  const at = d.span!.file.position(d.span!.start);
  return `${d.code}@${at.line}:${at.col} ${d.message}`;
}

describe('constant tensor values', () => {
  it('reads nested lists and tensor(...) as float32, row-major', () => {
    expect(constant('K = [[0.0, 1.0], [2.0, 3.0]]', 'K')).toEqual([
      [2, 2],
      [0, 1, 2, 3],
    ]);
    expect(constant('K = tensor([[1.0, -1.0]])', 'K')).toEqual([
      [1, 2],
      [1, -1],
    ]);
    expect(constant('K = [0.1]', 'K')[1][0]).toBe(Math.fround(0.1));
    expect(constant('s = 2.5', 's')).toEqual([[], [2.5]]);
  });

  it('builds with zeros, ones, full and arange as torch does', () => {
    expect(constant('Z = zeros(2, 3)', 'Z')).toEqual([
      [2, 3],
      [0, 0, 0, 0, 0, 0],
    ]);
    expect(constant('O = ones((1, 2))', 'O')).toEqual([
      [1, 2],
      [1, 1],
    ]);
    expect(constant('F = full((2, 1), 7)', 'F')).toEqual([
      [2, 1],
      [7, 7],
    ]);
    expect(constant('A = arange(4)', 'A')).toEqual([[4], [0, 1, 2, 3]]);
    expect(constant('A = arange(1, 2, 0.25)', 'A')).toEqual([[4], [1, 1.25, 1.5, 1.75]]);
  });

  it("builds d2l's 6x8 image by slice assignment and reads slices back", () => {
    const [shape, x] = constant('X = ones(6, 8)\nX[:, 2:6] = 0', 'X');
    expect(shape).toEqual([6, 8]);
    expect(x.slice(0, 8)).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
    expect(constant('X = arange(6)\nX[::2] = -1', 'X')[1]).toEqual([-1, 1, -1, 3, -1, 5]);
    expect(constant('X = reshape(arange(6), (2, 3))\nX[-1, 1:] = [7.0, 8.0]', 'X')[1]).toEqual([0, 1, 2, 3, 7, 8]);
    expect(constant('X = reshape(arange(12), (3, 4))\nY = X[1:, -1]', 'Y')).toEqual([[2], [7, 11]]);
    expect(constant('X = reshape(arange(12), (3, 4))\nY = X[0:3:2, 1::2]', 'Y')).toEqual([
      [2, 2],
      [1, 3, 9, 11],
    ]);
  });

  it('reshapes (one -1), transposes, stacks, concatenates and multiplies', () => {
    expect(constant('X = reshape(arange(6), (-1, 2))', 'X')[0]).toEqual([3, 2]);
    expect(constant('X = transpose(reshape(arange(6), (2, 3)))', 'X')).toEqual([
      [3, 2],
      [0, 3, 1, 4, 2, 5],
    ]);
    expect(constant('X = transpose(reshape(arange(8), (2, 2, 2)), 0, 2)', 'X')[1]).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
    // d2l 7.4: K = torch.stack((K, K + 1, K + 2), 0)
    const [shape, k] = constant(
      'K = [[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]]\nK = stack((K, K + 1, K + 2), 0)',
      'K',
    );
    expect(shape).toEqual([3, 2, 2, 2]);
    expect(k.slice(8, 10)).toEqual([1, 2]);
    // d2l 7.5: torch.cat((X, X + 1), 1)
    const [cshape, c] = constant('X = reshape(arange(4), (1, 1, 2, 2))\nY = cat((X, X + 1), dim = 1)', 'Y');
    expect(cshape).toEqual([1, 2, 2, 2]);
    expect(c).toEqual([0, 1, 2, 3, 1, 2, 3, 4]);
    expect(constant('S = stack((arange(2), arange(2) * 2), 1)', 'S')).toEqual([
      [2, 2],
      [0, 0, 1, 2],
    ]);
    expect(constant('P = matmul([[1.0, 2.0]], [[3.0], [4.0]])', 'P')).toEqual([[1, 1], [11]]);
    expect(constant('N = (1 - arange(2)) / 2', 'N')[1]).toEqual([0.5, 0]);
    expect(constant('N = -(arange(2) + 1) * 3', 'N')[1]).toEqual([-3, -6]);
  });
});

describe('constant tensor errors, located', () => {
  it.each([
    [
      'a ragged literal, at the short row',
      'K = [[1.0, 2.0],\n     [3.0]]',
      /^E0233@2:6 ragged tensor literal: this item has shape \[1\], the first \[2\]/,
    ],
    ['an empty list', 'K = []', /^E0233@1:5 /],
    [
      'a tuple inside a literal',
      'A = ones(2)\nK = [A, A]',
      /^E0233@2:6 a tensor literal holds numbers, found a tensor/,
    ],
    ['a value beyond float32', 'K = [1e39]', /^E0211@1:6 /],
    [
      'a slice past the end',
      'X = ones(6, 8)\nX[:, 2:9] = 0',
      /^E0235@2:1 slice 2:9 is out of range for dimension 1 of size 8/,
    ],
    [
      'a position past the end',
      'X = ones(6, 8)\nY = X[6]',
      /^E0235@2:5 index 6 is out of range for dimension 0 of size 6/,
    ],
    ['an empty slice', 'X = ones(6)\nY = X[4:2]', /^E0235@2:5 slice 4:2 selects nothing/],
    ['too many indices', 'X = ones(6)\nY = X[1, 2]', /^E0235@2:5 2 indices for a tensor of 1 dimensions/],
    ['a zero step', 'X = ones(6)\nX[::0] = 1', /^E0235@2:1 a slice step must be >= 1/],
    [
      'a wrong-shaped value assigned',
      'X = ones(6, 8)\nX[:, 2:6] = ones(6, 3)',
      /^E0234@2:1 cannot assign a tensor of shape \[6, 3\] to a selection of shape \[6, 4\]/,
    ],
    [
      'a reshape to another count',
      'X = reshape(arange(6), (4, 2))',
      /^E0234@1:5 cannot reshape a tensor of shape \[6\] \(6 values\) to \[4, 2\]/,
    ],
    ['shapes that differ in +', 'X = ones(2) + ones(3)', /^E0234@1:5 the shapes \[2\] and \[3\] differ/],
    ['stack of different shapes', 'S = stack((ones(2), ones(3)), 0)', /^E0234@1:5 `stack` tensor 1 has shape \[3\]/],
    ['a huge constant', 'Z = zeros(100000, 100000)', /^E0211@1:5 a constant tensor holds at most/],
    ['an unknown tensor', 'X = ones(2)\nY = Xs + 1', /^E0201@2:5 unknown tensor `Xs`.*/],
    ['assigning part of an undefined tensor', 'X[0] = 1', /^E0201@1:1 /],
    ['a tensor named like a layer', 'conv = ones(2)', /^E0206@1:1 /],
    ['an unknown function', 'X = eye(3)', /^E0210@1:5 `eye` is not a tensor function/],
    ['a shape of floats', 'X = zeros(2.5)', /^E0204@1:5 /],
  ])('%s', (_what, defs, want) => {
    expect(firstError(`${defs}\n${model}`)).toMatch(want);
  });

  it('stops at the first bad definition, and no model error follows it', () => {
    expect(
      errors(`K = [[1.0], [2.0, 3.0]]\nmodel M {\n  input [1, 4, 4]\n  conv(1, kernel = 1, weight = K)\n}\n`),
    ).toEqual(['E0233@1:13']);
  });
});

describe('fixed layer parameters', () => {
  const conv = (args: string, defs = 'K = [[1.0, -1.0]]') =>
    `${defs}\nmodel M {\n  input [1, 6, 8]\n  conv(1, kernel = (1, 2)${args})\n}\n`;

  it('records a constant weight and bias under their state_dict names, frozen unless trainable', () => {
    const g = shaped(conv(', weight = K, bias = B', 'K = [[1.0, -1.0]]\nB = [0.5]'));
    expect([...g.fixed!.keys()]).toEqual(['0.weight', '0.bias']);
    expect(g.fixed!.get('0.weight')!.trainable).toBe(false);
    expect(g.nodes[1]!.params.map((p) => p.name)).toEqual(['0.weight', '0.bias']);
    expect(shaped(conv(', bias = false, weight = K, trainable = true')).fixed!.get('0.weight')!.trainable).toBe(true);
    expect(shaped(conv(', bias = false')).fixed).toBeUndefined();
  });

  it('takes a linear weight [out, in] and leaves leading 1s optional', () => {
    const src = 'W = [[1.0, 2.0, 3.0]]\nmodel L {\n  input [3]\n  linear(1, bias = false, weight = W)\n}\n';
    expect([...shaped(src).fixed!.keys()]).toEqual(['0.weight']);
  });

  it.each([
    [
      'a weight of the wrong shape, at the argument',
      conv(', bias = false, weight = K', 'K = [[1.0, -1.0, 2.0]]'),
      /^E0234@4:42 `0.weight` is \[1, 1, 1, 2\] \(conv weights are \[out, in\/groups, kh, kw\]\), this constant is \[1, 3\]/,
    ],
    [
      'a weight that is not a constant',
      conv(', weight = 3'),
      /^E0204@4:28 `conv` argument `weight` must be a constant tensor/,
    ],
    [
      'trainable without a constant',
      conv(', trainable = true'),
      /^E0203@4:28 `trainable` applies to a weight or bias given by a constant/,
    ],
    [
      'a weight on a layer without one',
      'K = [1.0]\nmodel M {\n  input [1, 6, 8]\n  maxpool(2, weight = K)\n}\n',
      /^E0203@4:14 `maxpool` has no parameter `weight`/,
    ],
    ['a constant as a model stage', 'K = [1.0]\nmodel M {\n  input [1, 6, 8]\n  K\n}\n', /^E0210@4:3 /],
    [
      'a slice inside a model',
      'model M {\n  input [1, 6, 8]\n  y = x[1:2]\n}\n',
      /^E0210@3:9 a slice `a:b` indexes a constant tensor/,
    ],
  ])('%s', (_what, src, want) => {
    expect(firstError(src)).toMatch(want);
  });
});

describe('data tensors(...)', () => {
  const train = (data: string) =>
    `X = ones(2, 1, 2, 2)\nY = zeros(2, 1)\n${model.replace('[1, 4, 4]', '[1, 2, 2]').replace('relu', 'flatten\n  linear(1)')}train {\n  data ${data}\n  loss mse_sum\n}\n`;

  it('takes constants [N, ...] as samples and targets', () => {
    const r = analyze('t.cnn', train('tensors(inputs = X, targets = Y)'));
    expect(r.train?.data.kind).toBe('tensors');
  });

  it.each([
    ['an unknown name', 'tensors(inputs = Q, targets = Y)', /^E0201@\d+:\d+ inputs must name a constant tensor/],
    ['different sample counts', 'tensors(inputs = X, targets = Z)', /^E0234@\d+:\d+ 2 inputs but 3 targets/],
    [
      'a 1-D constant',
      'tensors(inputs = X, targets = V)',
      /^E0234@\d+:\d+ targets is \[3\]; samples are \[N, \.\.\.\]/,
    ],
    ['a missing argument', 'tensors(inputs = X)', /^E0209@/],
  ])('%s', (_what, data, want) => {
    expect(firstError(`Z = zeros(3, 1)\nV = zeros(3)\n${train(data)}`)).toMatch(want);
  });
});

describe('frozen parameters in the step program', () => {
  const src = (extra: string) =>
    `K = [[1.0, -1.0]]\nmodel M {\n  input [1, 4, 4]\n  conv(1, kernel = (1, 2), bias = false, weight = K${extra})\n  flatten\n  linear(1)\n}\ntrain {\n  loss mse_sum\n}\n`;
  const step = (extra: string) => compileModel(src(extra), { limits: defaultLimits, batch: 2 });

  it('gives a frozen weight no gradient, no optimizer state and no weight-gradient kernel', () => {
    const c = step('');
    const names = (ids: Iterable<number>) => [...ids].map((id) => c.program.tensors[id]!.name);
    expect(names(c.program.gradients.keys())).toEqual(['2.weight', '2.bias']);
    expect(c.program.train.map((o) => o.op)).not.toContain('conv2d_dw');
    expect(c.program.train.map((o) => o.op)).toContain('linear_dw');
  });

  it('trains a trainable constant like any weight', () => {
    const c = step(', trainable = true');
    expect([...c.program.gradients.keys()].map((id) => c.program.tensors[id]!.name)).toEqual([
      '0.weight',
      '2.weight',
      '2.bias',
    ]);
    expect(c.program.train.map((o) => o.op)).toContain('conv2d_dw');
  });
});
