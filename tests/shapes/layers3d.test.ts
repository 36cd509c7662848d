// The 3-D layers (conv3d, maxpool3d, avgpool3d) through the front end: argument forms (an integer
// or a triple), output shapes and parameter counts by PyTorch's formulas (Conv3d, MaxPool3d,
// AvgPool3d; the example models are also checked against PyTorch in torch-summaries.test.ts),
// lazy in-channels, FLOPs, and the located errors of wrong ranks and bad windows.
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { summarize } from '../../compiler/shapes/summary.ts';
import { totalParams } from '../../compiler/shapes/infer.ts';
import { errors, oneLayer, shaped } from '../helpers/cnn.ts';

const cases: [string, string, string, number[], number][] = [
  // [description, input C,D,H,W, layers, expected output [N, ...], learnable params]
  [
    'conv3d kernel 3 padding 1 keeps the volume',
    '2, 6, 6, 6',
    'conv3d(4, kernel = 3, padding = 1)',
    [1, 4, 6, 6, 6],
    4 * 2 * 27 + 4,
  ],
  [
    'conv3d triples, no bias',
    '1, 7, 6, 5',
    'conv3d(3, kernel = (3, 2, 1), stride = (2, 1, 2), padding = (1, 0, 1), bias = false)',
    [1, 3, 4, 5, 4],
    3 * 6,
  ],
  [
    'conv3d dilation and groups',
    '4, 6, 5, 7',
    'conv3d(6, kernel = (2, 3, 2), padding = 1, dilation = (2, 1, 3), groups = 2)',
    [1, 6, 6, 5, 6],
    6 * 2 * 12 + 6,
  ],
  ['maxpool3d stride defaults to the kernel', '3, 4, 5, 6', 'maxpool3d(2)', [1, 3, 2, 2, 3], 0],
  ['maxpool3d the seeds exercise', '1, 3, 3, 3', 'maxpool3d((2, 2, 2), stride = 1)', [1, 1, 2, 2, 2], 0],
  [
    'maxpool3d padding and dilation',
    '2, 7, 7, 7',
    'maxpool3d(3, stride = 2, padding = 1, dilation = 2)',
    [1, 2, 3, 3, 3],
    0,
  ],
  ['avgpool3d with padding', '2, 5, 6, 7', 'avgpool3d(3, stride = 2, padding = 1)', [1, 2, 3, 3, 4], 0],
  [
    'flatten and linear after a 3-D stack (lazy in-features)',
    '2, 6, 6, 6',
    'conv3d(4, kernel = 3, padding = 1) relu maxpool3d(2) flatten linear(5)',
    [1, 5],
    220 + 108 * 5 + 5,
  ],
  [
    'batchnorm on a 5-D tensor (BatchNorm3d: 2C learnable, 2C running statistics)',
    '3, 4, 4, 4',
    'conv3d(4, kernel = 1) batchnorm',
    [1, 4, 4, 4, 4],
    3 * 4 + 4 + 8,
  ],
  [
    'two conv3d: the second takes its in-channels from the first',
    '1, 4, 4, 4',
    'conv3d(3, kernel = 1) conv3d(2, kernel = 2)',
    [1, 2, 3, 3, 3],
    3 * 1 + 3 + 2 * 3 * 8 + 2,
  ],
];

describe('3-D shape rules (PyTorch semantics)', () => {
  it.each(cases)('%s', (_d, input, layers, expected, params) => {
    const g = shaped(oneLayer(input, layers));
    expect([...g.nodes[g.output]!.shape]).toEqual(expected);
    expect(totalParams(g)).toBe(params);
  });

  it('names conv3d parameters as Conv3d does: weight [out, in / groups, kd, kh, kw], bias [out]', () => {
    const g = shaped(oneLayer('4, 5, 5, 5', 'conv3d(6, kernel = (3, 2, 1), groups = 2)'));
    expect(g.nodes.flatMap((n) => n.params.map((p) => `${p.name}:${p.shape.join('x')}`))).toEqual([
      '0.weight:6x2x3x2x1',
      '0.bias:6',
    ]);
  });

  it('calls batch norm on 5-D input BatchNorm3d, as PyTorch', () => {
    const g = shaped(oneLayer('3, 4, 4, 4', 'conv3d(4, kernel = 1) batchnorm flatten linear(2) batchnorm'));
    expect(summarize(g, 'expanded').layers.map((l) => l.op)).toEqual([
      'Conv3d',
      'BatchNorm3d',
      'Flatten',
      'Linear',
      'BatchNorm1d',
    ]);
  });

  it('counts FLOPs: 2 per multiply-add plus the bias for conv3d, one per window element for pooling', () => {
    const r = analyze('t.cnn', oneLayer('2, 6, 6, 6', 'conv3d(4, kernel = 3, padding = 1) maxpool3d(2)'), { batch: 2 });
    const rows = summarize(r.shaped!, 'expanded').layers;
    expect(rows.map((l) => [l.op, l.flops])).toEqual([
      ['Conv3d', 2 * (2 * 4 * 216) * 2 * 27 + 2 * 4 * 216],
      ['MaxPool3d', 2 * 4 * 27 * 8],
    ]);
  });
});

describe('3-D errors, located', () => {
  it.each([
    ['a 3-D layer on [C, H, W] input (E0301)', '1, 8, 8', 'maxpool3d(2)', ['E0301@3:3']],
    ['a 2-D layer on [C, D, H, W] input (E0301)', '1, 4, 8, 8', 'conv(2, kernel = 3)', ['E0301@3:3']],
    ['linear on a 5-D tensor (E0301)', '1, 4, 4, 4', 'conv3d(2, kernel = 1) linear(3)', ['E0301@3:25']],
    ['a pair where a triple is expected (E0204)', '1, 4, 4, 4', 'conv3d(2, kernel = (2, 2))', ['E0204@3:13']],
    ['a zero stride (E0211)', '1, 4, 4, 4', 'maxpool3d(2, stride = (1, 0, 1))', ['E0211@3:16']],
    ['a window larger than the padded input (E0302)', '1, 4, 4, 2', 'conv3d(2, kernel = 3)', ['E0302@3:3']],
    ['pooling padding over half the kernel (E0211)', '1, 4, 4, 4', 'avgpool3d(2, padding = (0, 2, 0))', ['E0211@3:3']],
    [
      'conv3d groups that do not divide the channels (E0305)',
      '3, 4, 4, 4',
      'conv3d(4, kernel = 1, groups = 2)',
      ['E0305@3:3'],
    ],
    ['avgpool3d has no dilation (E0203)', '1, 4, 4, 4', 'avgpool3d(2, dilation = 2)', ['E0203@3:16']],
    ['an input of 5 dimensions (E0203)', '1, 2, 4, 4, 4', 'relu', ['E0203@2:3']],
  ])('%s', (_d, input, layers, expected) => {
    expect(errors(oneLayer(input, layers))).toEqual(expected);
  });

  it('says what a 3-D layer needs', () => {
    const r = analyze('t.cnn', oneLayer('1, 8, 8', 'maxpool3d(2)'));
    const d = r.diagnostics.all[0]!;
    expect(d.message).toBe('maxpool3d expects a 5-D input [N, C, D, H, W], got [1, 1, 8, 8]');
    expect(d.help).toBe('the 3-D layers need `input [C, D, H, W]`');
  });
});
