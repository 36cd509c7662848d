// range() is lazy and every loop or list is bounded before it is built: hostile sizes are located
// errors in milliseconds, not minutes and gigabytes (issue 13, item 2).
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { errors, outputShape } from '../helpers/cnn.ts';

const model = (params: string, body: string): string => `model M(${params}) {\n  input [1, 8, 8]\n  ${body}\n}\n`;

/** The output channels a conv gets from `expr`: elaborates `expr` as a parameter default. */
const value = (expr: string): number => outputShape(model(`n = ${expr}`, 'conv(n, kernel = 1)'))[1]!;

describe('lazy ranges', () => {
  it('len() of a huge range is O(1)', () => {
    const t = performance.now();
    expect(value('len(range(100000000)) // 10000000')).toBe(10);
    expect(value('len(range(4294967297)) - 4294967290')).toBe(7);
    expect(value('len(range(5, 3)) + 1')).toBe(1);
    // Before: 5 GB and more than 60 s for the first, `Invalid array length` (exit 2) for the second.
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('indexes a huge range without listing it', () => {
    expect(value('range(4294967297)[3] + 1')).toBe(4);
    expect(value('range(2, 4294967297)[-1] - 4294967290')).toBe(6);
  });

  it('still loops, unpacks and enumerates small ranges as tuples', () => {
    expect(outputShape(model('', 'for i in range(1, 4) { conv(i, kernel = 1) }'))).toEqual([1, 3, 8, 8]);
    expect(outputShape(model('', 'for (i, c) in enumerate(range(2, 4)) { conv(c + i, kernel = 1) }'))).toEqual([
      1, 4, 8, 8,
    ]);
    expect(value('max(range(3, 6))')).toBe(5);
    expect(value('len(range(3) + (7, 8))')).toBe(5);
    expect(value('range(3) == range(0, 3) ? 2 : 1')).toBe(2);
  });

  it('refuses a loop over range(1e9) by its length, at the range, in well under a second', () => {
    const t = performance.now();
    expect(errors(model('', 'for i in range(1e9) { relu }'))).toEqual(['E0211@3:12']);
    expect(errors(model('', 'for i in range(4294967297) { relu }'))).toEqual(['E0211@3:12']);
    // Before: out of memory after 82 s.
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it.each([
    ['a float bound', 'range(2.5)', 'E0204'],
    ['an infinite bound', 'range(1e400)', 'E0204'],
    ['NaN', 'range(1e400 - 1e400)', 'E0204'],
    ['a bound past 2^53', 'range(1e300)', 'E0211'],
    ['three arguments', 'range(1, 2, 3)', 'E0204'],
  ])('refuses %s at the call', (_d, call, code) => {
    expect(errors(model('', `for i in ${call} { relu }`))).toEqual([`${code}@3:12`]);
  });

  it('refuses to list more than 100,000 items', () => {
    expect(errors(model('n = enumerate(range(1000000))', 'relu'))).toEqual(['E0211@1:13']);
    expect(errors(model('n = max(range(1000000))', 'relu'))).toEqual(['E0211@1:13']);
    expect(errors(model('n = range(1000000) + (1,)', 'relu'))).toEqual(['E0211@1:13']);
  });

  it('stops a tuple doubled in a loop at 100,000 items', () => {
    const src = `model M(t = (1,)) {\n  input [1, 8, 8]\n  repeat 30 { t = t + t }\n  relu\n}\n`;
    expect(errors(src)).toEqual(['E0211@3:19']);
  });

  it('bounds nested loops by the total work, not each loop alone', () => {
    const t = performance.now();
    const src = `model M(a = 0) {\n  input [1, 8, 8]\n  repeat 10000 {\n    repeat 10000 { a = a + 1 }\n  }\n  relu\n}\n`;
    expect(errors(src)).toEqual(['E0211@4:5']);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('bounds block calls that multiply without any loop', () => {
    const levels = Array.from({ length: 8 }, (_, i) => `block B${i + 1} {\n  ${`B${i} `.repeat(10)}\n}`).join('\n');
    const src = `block B0 {\n  a = 1\n}\n${levels}\nmodel M {\n  input [1, 8, 8]\n  B8\n  relu\n}\n`;
    const r = analyze('t.cnn', src);
    expect(r.diagnostics.all.map((d) => d.code)).toEqual(['E0211']);
  });
});
