// formatTensor against PyTorch 1.13's repr(tensor), byte for byte: the fixture
// tests/fixtures/torch/tensor-print.json is written by tests/fixtures/gen/tensor_print.py.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exponential, fixed } from '../../runtime/format/decimal.ts';
import { formatScalar, formatTensor, type PrintDType } from '../../runtime/format/torch-print.ts';

interface Case {
  readonly name: string;
  readonly dtype: PrintDType;
  readonly shape: number[];
  readonly data: (number | string)[];
  readonly repr: string;
}

const fixture = JSON.parse(readFileSync('tests/fixtures/torch/tensor-print.json', 'utf8')) as { cases: Case[] };
const decode = (v: number | string): number =>
  typeof v === 'number' ? v : v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity;

function data(c: Case): Float32Array | Float64Array | Int32Array | BigInt64Array {
  const values = c.data.map(decode);
  switch (c.dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values.map(BigInt));
  }
}

describe('formatTensor prints as PyTorch 1.13 does', () => {
  it('has the fixture cases', () => expect(fixture.cases.length).toBeGreaterThanOrEqual(40));
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(formatTensor(c.shape, data(c), { dtype: c.dtype })).toBe(c.repr);
  });
});

describe('formatTensor input', () => {
  it('rounds plain numbers to float32 first, as torch.tensor does', () => {
    // 1.00005 is 1.00004994869232177734375 in float32: 1.0000, where the double would print 1.0001.
    expect(formatTensor([2], [1.00005, 2])).toBe('tensor([1.0000, 2.0000])');
    expect(formatTensor([2], [1.00005, 2], { dtype: 'float64' })).toBe('tensor([1.0001, 2.0000], dtype=torch.float64)');
  });
  it('refuses data whose length does not fit the shape', () => {
    expect(() => formatTensor([2, 2], [1, 2, 3])).toThrow('3 values for shape [2, 2]');
  });
  it('prints one value as a 0-d tensor shows it', () => {
    expect(formatScalar(3)).toBe('3.');
    expect(formatScalar(0.25)).toBe('0.2500');
    expect(formatScalar(1e-5)).toBe('1.0000e-05');
    expect(formatScalar(NaN)).toBe('nan');
    expect(formatScalar(7, 'int64')).toBe('7');
  });
});

describe("Python's float formatting", () => {
  it('rounds exact ties to even, where toFixed rounds them away from zero', () => {
    expect(fixed(0.03125, 4)).toBe('0.0312');
    expect((0.03125).toFixed(4)).toBe('0.0313');
    expect(fixed(0.5, 0)).toBe('0');
    expect(fixed(1.5, 0)).toBe('2');
    expect(fixed(-2.5, 0)).toBe('-2');
    expect(exponential(123465, 4)).toBe('1.2346e+05');
    expect(exponential(123455, 4)).toBe('1.2346e+05');
  });
  it('keeps the sign of zero and of values that round to zero', () => {
    expect(fixed(-0, 4)).toBe('-0.0000');
    expect(fixed(-0.00001, 4)).toBe('-0.0000');
    expect(exponential(-0, 4)).toBe('-0.0000e+00');
  });
  it('writes large fixed values in full and exponents with two digits or more', () => {
    expect(fixed(1e22, 0)).toBe('10000000000000000000000');
    expect(exponential(9.99995e-5, 4)).toBe('9.9999e-05');
    expect(exponential(9.99996, 4)).toBe('1.0000e+01');
    expect(exponential(1.5e-300, 4)).toBe('1.5000e-300');
    expect(exponential(5e-324, 2)).toBe('4.94e-324');
  });
});
