// Shape rules for every layer and every argument form: output shapes and parameter counts as
// PyTorch computes them (counts worked out from PyTorch's formulas, checked in torch-summaries.test.ts).
import { describe, expect, it } from 'vitest';
import { errors, oneLayer, outputShape, shaped } from '../helpers/cnn.ts';
import { totalParams } from '../../compiler/shapes/infer.ts';

const cases: [string, string, string, number[], number][] = [
  // [description, input C,H,W, layer, expected output [N, ...], learnable params]
  ['conv kernel 3 padding 1 keeps 8x8 (d2l 7.3)', '1, 8, 8', 'conv(1, kernel = 3, padding = 1)', [1, 1, 8, 8], 10],
  [
    'conv kernel (5, 3) padding (2, 1) keeps 8x8',
    '1, 8, 8',
    'conv(1, kernel = (5, 3), padding = (2, 1))',
    [1, 1, 8, 8],
    16,
  ],
  ['conv stride 2 halves 8x8', '1, 8, 8', 'conv(1, kernel = 3, padding = 1, stride = 2)', [1, 1, 4, 4], 10],
  [
    'conv kernel (3, 5) padding (0, 1) stride (3, 4) gives 2x2',
    '1, 8, 8',
    'conv(1, kernel = (3, 5), padding = (0, 1), stride = (3, 4))',
    [1, 1, 2, 2],
    16,
  ],
  ['conv (1, 2) without bias (d2l 7.2)', '1, 6, 8', 'conv(1, kernel = (1, 2), bias = false)', [1, 1, 6, 7], 2],
  ['conv dilation 2', '3, 10, 10', 'conv(4, kernel = 3, dilation = 2)', [1, 4, 6, 6], 4 * 3 * 9 + 4],
  ['conv groups 2', '4, 6, 6', 'conv(6, kernel = 3, groups = 2)', [1, 6, 4, 4], 6 * 2 * 9 + 6],
  ['depthwise conv', '8, 5, 5', 'conv(8, kernel = 3, padding = 1, groups = 8)', [1, 8, 5, 5], 8 * 9 + 8],
  ['1x1 conv (d2l 7.4)', '3, 3, 3', 'conv(2, kernel = 1)', [1, 2, 3, 3], 8],
  ['maxpool stride defaults to kernel', '1, 4, 4', 'maxpool(3)', [1, 1, 1, 1], 0],
  ['maxpool padding 1 stride 2 (d2l 7.5)', '1, 4, 4', 'maxpool(3, padding = 1, stride = 2)', [1, 1, 2, 2], 0],
  [
    'maxpool (2, 3) stride (2, 3) padding (0, 1)',
    '2, 4, 4',
    'maxpool((2, 3), stride = (2, 3), padding = (0, 1))',
    [1, 2, 2, 2],
    0,
  ],
  ['avgpool with padding', '3, 7, 7', 'avgpool(3, stride = 2, padding = 1)', [1, 3, 4, 4], 0],
  ['adaptive_avgpool(h, w)', '5, 7, 9', 'adaptive_avgpool(2, 3)', [1, 5, 2, 3], 0],
  ['adaptive_avgpool((h, w))', '5, 7, 9', 'adaptive_avgpool((2, 3))', [1, 5, 2, 3], 0],
  ['adaptive_avgpool(s)', '5, 7, 9', 'adaptive_avgpool(1)', [1, 5, 1, 1], 0],
  ['global_avgpool', '5, 7, 9', 'global_avgpool', [1, 5, 1, 1], 0],
  ['batchnorm 2d counts 2C learnable', '6, 4, 4', 'batchnorm', [1, 6, 4, 4], 12],
  ['batchnorm 1d after linear', '20', 'linear(7) batchnorm(eps = 1e-3, momentum = 0.2)', [1, 7], 20 * 7 + 7 + 14],
  ['dropout keeps the shape', '3, 4, 4', 'dropout(0.5)', [1, 3, 4, 4], 0],
  ['flatten', '16, 5, 5', 'flatten', [1, 400], 0],
  ['linear without bias', '400', 'linear(120, bias = false)', [1, 120], 48000],
  ['every activation keeps the shape', '2, 3, 3', 'relu sigmoid tanh leaky_relu(0.1) identity', [1, 2, 3, 3], 0],
];

describe('shape rules (PyTorch semantics)', () => {
  it.each(cases)('%s', (_d, input, layer, expected, params) => {
    const g = shaped(oneLayer(input, layer));
    expect([...g.nodes[g.output]!.shape]).toEqual(expected);
    expect(totalParams(g)).toBe(params);
  });

  it('names parameters like state_dict keys with PyTorch layouts', () => {
    const g = shaped(oneLayer('3, 8, 8', 'conv(4, kernel = (3, 2)) batchnorm relu flatten linear(5)'));
    const params = g.nodes.flatMap((n) => n.params.map((p) => `${p.name}:${p.shape.join('x')}`));
    expect(params).toEqual([
      '0.weight:4x3x3x2',
      '0.bias:4',
      '1.weight:4',
      '1.bias:4',
      '1.running_mean:4',
      '1.running_var:4',
      '1.num_batches_tracked:',
      '4.weight:5x168',
      '4.bias:5',
    ]);
  });

  it('applies --input batch and shape overrides', () => {
    expect(outputShape(oneLayer('1, 8, 8', 'conv(2, kernel = 3)'), { batch: 4, inputShape: [3, 10, 12] })).toEqual([
      4, 2, 8, 10,
    ]);
  });

  it('concat adds channels (Inception)', () => {
    const src = `model M {
  input [3, 8, 8]
  a = x -> conv(4, kernel = 1)
  b = x -> conv(5, kernel = 3, padding = 1)
  concat(a, b, x)
}`;
    expect(outputShape(src)).toEqual([1, 12, 8, 8]);
  });
});

describe('shape errors point at the layer', () => {
  it.each([
    ['kernel larger than the padded input', oneLayer('1, 4, 4', 'conv(2, kernel = 5)'), 'E0302@3:3'],
    ['dilated kernel larger than the input', oneLayer('1, 4, 4', 'conv(2, kernel = 3, dilation = 2)'), 'E0302@3:3'],
    ['linear on a 4-D tensor', oneLayer('1, 4, 4', 'linear(10)'), 'E0301@3:3'],
    ['conv on a flattened tensor', oneLayer('1, 4, 4', 'flatten conv(2, kernel = 1)'), 'E0301@3:11'],
    ['groups not dividing channels', oneLayer('3, 4, 4', 'conv(4, kernel = 1, groups = 2)'), 'E0305@3:3'],
    ['pool padding over half the kernel', oneLayer('1, 4, 4', 'maxpool(2, padding = 2)'), 'E0211@3:3'],
    ['empty output', oneLayer('1, 4, 4', 'maxpool(2) maxpool(2) maxpool(2)'), 'E0302@3:25'],
    [
      'residual add of mismatched shapes',
      'model M {\n  input [3, 8, 8]\n  y = x -> conv(4, kernel = 1)\n  y + x\n}',
      'E0303@4:3',
    ],
    [
      'concat of mismatched sizes',
      'model M {\n  input [3, 8, 8]\n  y = x -> maxpool(2)\n  concat(x, y)\n}',
      'E0303@4:3',
    ],
  ])('%s', (_d, src, expected) => {
    expect(errors(src)).toEqual([expected]);
  });
});
