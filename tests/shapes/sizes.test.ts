// Sizes are bounded before anything proportional to them exists (issue 13, item 4): integer
// arguments below 2^31 (E0211), every tensor and parameter at most 2^31 - 1 elements (E0306).
// Before, `input [1, 28, 1e308]` passed check and made `compile` exit 2 (`bad workgroup count
// NaN`), and `linear(1000000000000)` ran compile out of memory after 72 s.
import { describe, expect, it } from 'vitest';
import { analyze, CompileError, compileModel } from '../../compiler/index.ts';
import { defaultLimits } from '../../compiler/codegen/index.ts';
import { checkClassifierOutput, MAX_ELEMENTS } from '../../compiler/shapes/infer.ts';
import { summarize } from '../../compiler/shapes/summary.ts';
import { DiagnosticBag } from '../../compiler/diagnostics/diagnostic.ts';
import { errors, oneLayer, shaped } from '../helpers/cnn.ts';

describe('huge sizes are located errors', () => {
  it.each([
    ['an input dimension of 1e308', 'model M {\n  input [1, 28, 1e308]\n  relu\n}', 'E0211@2:17'],
    ['an input dimension of 2^31', 'model M {\n  input [2147483648]\n  relu\n}', 'E0211@2:10'],
    ['padding 1e308', oneLayer('1, 28, 28', 'conv(4, kernel = 3, padding = 1e308)'), 'E0211@3:23'],
    ['linear(1e308)', oneLayer('784', 'linear(1e308)'), 'E0211@3:10'],
    ['linear(1e12) after flatten', oneLayer('1, 28, 28', 'flatten linear(1000000000000)'), 'E0211@3:18'],
    ['a kernel of 2^31', oneLayer('1, 28, 28', 'maxpool((1, 2147483648))'), 'E0211@3:11'],
    ['adaptive pooling to 1e10', oneLayer('1, 28, 28', 'adaptive_avgpool(10000000000)'), 'E0211@3:20'],
    ['a weight of 3e6 x 784', oneLayer('1, 28, 28', 'flatten linear(3000000)'), 'E0306@3:11'],
    ['an activation of 2^31 elements', oneLayer('1, 32768, 1', 'conv(65536, kernel = 1)'), 'E0306@3:3'],
    [
      'padding that makes a huge output',
      oneLayer('1, 28, 28', 'conv(1, kernel = 1, padding = 2000000000)'),
      'E0306@3:3',
    ],
    ['an input of 2^31 elements', 'model M {\n  input [2147483647, 2, 1]\n  relu\n}', 'E0306@2:3'],
    ['a concat over 2^31 elements', 'model M {\n  input [1073741824, 1, 1]\n  concat(x, x)\n}', 'E0306@3:3'],
  ])('%s', (_d, src, expected) => {
    const t = performance.now();
    expect(errors(src)).toEqual([expected]);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('blames the batch size when it makes the input too large', () => {
    const r = analyze('t.cnn', 'model M {\n  input [1, 1024, 1024]\n  relu\n}\ntrain {\n  batch 4096\n}', {
      trainBatch: true,
    });
    const d = r.diagnostics.all[0]!;
    expect(d.code).toBe('E0306');
    expect(d.help).toContain('batch size (4096)');
  });

  it('checks --input overrides as well', () => {
    expect(errors(oneLayer('1, 8, 8', 'relu'), { batch: 100000, inputShape: [1, 1000, 1000] })).toEqual(['E0306@2:3']);
  });

  it('compileModel reports instead of crashing on a once-fatal dimension', () => {
    expect(() =>
      compileModel('model M {\n  input [1, 28, 1e308]\n  flatten linear(10)\n}', { limits: defaultLimits }),
    ).toThrow(CompileError);
  });

  it('keeps the largest legal tensors, and summary totals stay finite and exact', () => {
    const g = shaped(oneLayer('1, 28, 28', 'flatten linear(2000000) linear(1000)'));
    expect(g.nodes[2]!.params[0]!.shape).toEqual([2000000, 784]);
    const s = summarize(g, 'expanded');
    expect(s.totalParams).toBe(2000000 * 784 + 2000000 + 2000000 * 1000 + 1000);
    expect(Number.isFinite(s.totalFlops)).toBe(true);
    expect(MAX_ELEMENTS).toBe(2 ** 31 - 1);
  });

  it('keeps FLOPs finite at the size bounds (products of bounded factors)', () => {
    // A weight just under 2^31 elements (1024 x 2048 x 1023 x 1): 2 * (1024 * 2) * 2048 * 1023 + 2048 FLOPs.
    const g = shaped(oneLayer('2048, 1024, 1', 'conv(1024, kernel = (1023, 1))'));
    const s = summarize(g, 'expanded');
    expect(s.totalParams).toBe(1024 * 2048 * 1023 + 1024);
    expect(s.totalFlops).toBe(2 * 2048 * 2048 * 1023 + 2048);
  });
});

describe('cross-entropy output check', () => {
  const check = (src: string) => {
    const diags = new DiagnosticBag();
    checkClassifierOutput(shaped(src), diags);
    return diags.all.map((d) => d.code);
  };
  it('accepts [N, classes] logits', () => expect(check(oneLayer('4', 'linear(3)'))).toEqual([]));
  it('refuses a 4-D output', () => expect(check(oneLayer('1, 4, 4', 'conv(2, kernel = 1)'))).toEqual(['E0213']));
  it('refuses one logit', () => expect(check(oneLayer('4', 'linear(1)'))).toEqual(['E0213']));
});
