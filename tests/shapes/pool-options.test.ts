// `maxpool`/`avgpool` with PyTorch's options, written as a .cnn layer, against PyTorch 1.13:
// every case of tests/fixtures/torch/pool-options.json (gen: tests/fixtures/gen/pool_options.py)
// gets PyTorch's output shape, and every configuration PyTorch refuses is a located error.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import type { Pair } from '../../compiler/ir/ops.ts';
import { summarize } from '../../compiler/shapes/summary.ts';
import { errors, oneLayer, outputShape, shaped } from '../helpers/cnn.ts';

interface Config {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation?: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad?: boolean;
}

interface Entry {
  readonly op: 'maxpool2d' | 'avgpool2d';
  readonly name: string;
  readonly input: number[];
  readonly config: Config;
}

const file = JSON.parse(readFileSync(new URL('../fixtures/torch/pool-options.json', import.meta.url), 'utf8')) as {
  cases: (Entry & { tensors: { y: { shape: number[] } } })[];
  errors: (Entry & { message: string })[];
};

const pair = (p: Pair): string => `(${p[0]}, ${p[1]})`;

/** The layer as a student writes it, every option spelled out. */
function layer(e: Entry): string {
  const c = e.config;
  const common = `${pair(c.kernel)}, stride = ${pair(c.stride)}, padding = ${pair(c.padding)}, ceil_mode = ${c.ceilMode}`;
  return e.op === 'maxpool2d'
    ? `maxpool(${common}, dilation = ${pair(c.dilation!)})`
    : `avgpool(${common}, count_include_pad = ${c.countIncludePad})`;
}

describe('pooling options: output shapes as PyTorch 1.13', () => {
  it.each(file.cases.map((c) => [`${c.op} ${c.name}`, c] as const))('%s', (_name, c) => {
    expect(outputShape(oneLayer(c.input.join(', '), layer(c)), { batch: c.tensors.y.shape[0]! })).toEqual(
      c.tensors.y.shape,
    );
  });
});

describe('pooling options: what PyTorch refuses is a located error', () => {
  it.each(file.errors.map((e) => [`${e.op} ${e.name} (torch: ${e.message})`, e] as const))('%s', (_name, e) => {
    // PyTorch's "pad should be at most half of kernel size" is E0211, "Output size is too small" E0302.
    expect(errors(oneLayer(e.input.join(', '), layer(e)))).toEqual([
      e.message.startsWith('pad should be') ? 'E0211@3:3' : 'E0302@3:3',
    ]);
  });
});

describe('pooling option arguments', () => {
  it('defaults to PyTorch: dilation 1, ceil_mode off, count_include_pad on (positional order as MaxPool2d / AvgPool2d)', () => {
    const r = analyze('test.cnn', oneLayer('1, 7, 7', 'maxpool(3, 2, 1)\n  avgpool(2, 1, 0, true, false)'));
    expect(r.shaped?.nodes.map((n) => n.attrs)).toEqual([
      { shape: [1, 7, 7] },
      { kernel: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false },
      { kernel: [2, 2], stride: [1, 1], padding: [0, 0], ceilMode: true, countIncludePad: false },
    ]);
  });

  it('ceil_mode adds the partial last window: 7x7 pooled 2 by 2 is 3x3 floored, 4x4 with ceil_mode', () => {
    expect(outputShape(oneLayer('1, 7, 7', 'maxpool(2)'))).toEqual([1, 1, 3, 3]);
    expect(outputShape(oneLayer('1, 7, 7', 'maxpool(2, ceil_mode = true)'))).toEqual([1, 1, 4, 4]);
    expect(outputShape(oneLayer('1, 7, 7', 'avgpool(2, ceil_mode = true, count_include_pad = false)'))).toEqual([
      1, 1, 4, 4,
    ]);
  });

  it('summary FLOPs: one per window tap of every output, the extra windows of ceil_mode included', () => {
    // 7x7, kernel 3: 2x2 outputs floored, 3x3 with ceil_mode; 9 taps each, 2 channels.
    const flops = (l: string) => summarize(shaped(oneLayer('2, 7, 7', l)), 'expanded').totalFlops;
    expect(flops('maxpool(3)')).toBe(2 * 4 * 9);
    expect(flops('maxpool(3, ceil_mode = true)')).toBe(2 * 9 * 9);
    expect(flops('maxpool(3, stride = 1, dilation = 2)')).toBe(2 * 9 * 9);
    expect(flops('avgpool(3, ceil_mode = true, count_include_pad = false)')).toBe(2 * 9 * 9);
  });

  it.each([
    ['dilation on average pooling (AvgPool2d has none)', 'avgpool(2, dilation = 2)', 'E0203@3:14'],
    ['count_include_pad on max pooling', 'maxpool(2, count_include_pad = false)', 'E0203@3:14'],
    ['dilation 0', 'maxpool(2, dilation = 0)', 'E0211@3:14'],
    ['ceil_mode not a boolean', 'maxpool(2, ceil_mode = 1)', 'E0204@3:14'],
  ])('refuses %s (located at the argument)', (_d, l, expected) => {
    expect(errors(oneLayer('1, 8, 8', l))).toEqual([expected]);
  });

  it('a dilated window that steps over a short input from its padding is refused (PyTorch gives -inf)', () => {
    // Width 1, kernel 2, padding 1, dilation 2: taps -1 and 1, both outside.
    const r = analyze('test.cnn', oneLayer('1, 4, 1', 'maxpool((1, 2), stride = 1, padding = (0, 1), dilation = 2)'));
    const d = r.diagnostics.all.map((x) => `${x.code}: ${x.message}`);
    expect(d).toEqual([
      'E0302: maxpool window 0 along W (kernel 2, dilation 2, padding 1) reads only padding of the input [1, 1, 4, 1]',
    ]);
  });
});
