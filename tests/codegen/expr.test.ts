// The ScalarExpr printer: WGSL text that keeps the tree's evaluation order, types booleans, and
// prints over vec4 lanes; the fused epilogue's store; plus the build-time limit checks of the
// kernel templates.
import { describe, expect, it } from 'vitest';
import { KernelLimitError } from '../../compiler/codegen/kernel.ts';
import {
  type ScalarExpr,
  activations,
  add,
  div,
  exprInputs,
  ge,
  gt,
  input,
  max,
  mul,
  neg,
  recip,
  select,
  sigmoid,
  sub,
} from '../../compiler/ir/expr.ts';
import { exprHelpers, printExpr } from '../../compiler/codegen/expr.ts';
import { activationGradEpilogue, epilogueStore, forwardEpilogue } from '../../compiler/codegen/epilogue.ts';
import { concatKernel } from '../../compiler/codegen/kernels/concat.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { foldGrid } from '../../compiler/codegen/module.ts';

const x = input('x');
const y = input('y');
const print = (e: ScalarExpr, width: 1 | 4 = 1) => printExpr(e, { input: (n) => `${n}[i]`, width });

describe('printExpr', () => {
  it.each([
    ['x[i] - (y[i] - 1.0)', sub(x, sub(y, 1))],
    ['x[i] - y[i] - 1.0', sub(sub(x, y), 1)],
    ['x[i] + (y[i] + 1.0)', add(x, add(y, 1))], // f32 addition is not associative: keep the tree
    ['(x[i] + y[i]) * 2.0', mul(add(x, y), 2)],
    ['x[i] / (y[i] * 3.0)', div(x, mul(y, 3))],
    ['-(-x[i])', neg(neg(x))], // never `--`, which WGSL lexes as decrement
    ['-(x[i] + y[i])', neg(add(x, y))],
    ['x[i] * -2.0', mul(x, -2)],
    ['1.0 / (x[i] + 1.0)', recip(add(x, 1))],
    ['max(x[i], 0.0)', max(x, 0)],
    ['f32(x[i] + 1.0 > y[i])', gt(add(x, 1), y)], // a comparison used as a number is 0 or 1
    ['f32(x[i] > 0.0) * y[i]', mul(gt(x, 0), y)],
    ['select(y[i], x[i], x[i] >= y[i])', select(ge(x, y), x, y)],
    ['select(2.0, 1.0, x[i] != f32(0.0))', select(x, 1, 2)], // a number used as a condition is != 0
    ['sigmoid_f32(x[i])', sigmoid(x)],
  ])('prints %s', (text, e) => {
    expect(print(e)).toBe(text);
  });

  it('splats constants over vec4 lanes', () => {
    expect(print(activations.relu.forward(x, {}), 4)).toBe('max(x[i], vec4<f32>(0.0))');
    expect(print(activations.leaky_relu.backward(x, y, { slope: 0.5 }), 4)).toBe(
      'select(y[i] * vec4<f32>(0.5), y[i], x[i] > vec4<f32>(0.0))',
    );
  });

  it('emits the overflow-free sigmoid helper only when used', () => {
    expect(exprHelpers([x, add(x, y)])).toBe('');
    expect(exprHelpers([mul(sigmoid(x), 2)])).toContain('fn sigmoid_f32(x: f32) -> f32');
    expect(exprHelpers([sigmoid(x)], 4)).toContain('let e = exp(-abs(x));');
  });

  it('lists the inputs an expression reads, once each', () => {
    expect(exprInputs(activations.sigmoid.backward(x, y, {}))).toEqual(['y', 'x']);
  });
});

describe('build-time limits', () => {
  const origin = { phase: 'forward', sources: [], ops: [] } as const;

  it('folds a grid past 65535 workgroups per dimension', () => {
    expect(foldGrid('k', 65535, defaultLimits)).toEqual({ dispatch: [65535, 1, 1], flat: 'wid.x' });
    expect(foldGrid('k', 65536, defaultLimits)).toEqual({ dispatch: [32768, 2, 1], flat: 'wid.x + wid.y * 32768u' });
  });

  it('refuses more storage buffers than WebGPU grants, naming the kernel', () => {
    const parts = Array.from({ length: 8 }, (_, i) => `x${i}`);
    const spec = {
      name: 'k09_concat',
      origin,
      direction: 'forward' as const,
      batch: 1,
      channels: parts.map(() => 1),
      spatial: 4,
      parts,
      whole: 'y',
    };
    expect(() => concatKernel(spec)).toThrow(KernelLimitError);
    expect(() => concatKernel(spec)).toThrow(/k09_concat: 9 storage buffers/);
  });
});

describe('epilogueStore', () => {
  it('loads each tensor the epilogue reads once, however often its expression uses it', () => {
    // sigmoid's gradient from its output s is dy * s * (1 - s): `act` appears twice in the expression.
    const e = activationGradEpilogue({ fn: 'sigmoid', slope: 0, from: 'output' });
    const text = epilogueStore('dx', 'i', 'g', e);
    expect(text.match(/act\[/g)).toHaveLength(1);
    expect(text).toBe('{ let at = i; let pre = g; let e_act = act[at]; dx[at] = pre * (e_act * (1.0 - e_act)); }');
  });

  it('loads per-channel values at the given channel', () => {
    const e = forwardEpilogue({ gamma: 0, beta: 1, runMean: 2, runVar: 3, eps: 1e-5 }, undefined)!;
    const text = epilogueStore('y', 'r', 'v', e, 'c');
    for (const name of ['bn_gamma', 'bn_beta', 'bn_mean', 'bn_var'])
      expect(text.match(new RegExp(`${name}\\[c\\]`, 'g'))).toHaveLength(1);
    expect(text).toMatch(
      /^\{ let pre = v; .*y\[r\] = \(pre - e_bn_mean\) \* \(e_bn_gamma \* \(1\.0 \/ sqrt\(e_bn_var \+ 0\.00001\)\)\) \+ e_bn_beta; \}$/,
    );
  });
});
