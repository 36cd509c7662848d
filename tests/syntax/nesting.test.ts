// Deep nesting and long chains (issue 13, item 1): nesting up to the limit works, one level more
// is a located E0111, and chains that do not nest (sums, `- - x`, `else if`, `c ? a : b : ...`,
// `t[0][0]`) work at any length. Every case runs the whole front end, which used to overflow the
// stack in the parser or in elaboration.
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { nestingLimit } from '../../compiler/syntax/lexer.ts';
import { errors, outputShape } from '../helpers/cnn.ts';

/** A model whose output has `features` features, computed by the expression. */
const linearOf = (features: string, before = ''): string =>
  `model M {\n  input [4]\n${before}  linear(${features})\n}\n`;

describe('nesting limit', () => {
  it('is 32', () => expect(nestingLimit).toBe(32));

  // `x = ...` on line 3 of a model: the model's braces are level 1, so n openers reach level n + 1; the opener of level
  // limit + 1 is the last opening character of the limit-th `open`.
  const stmt = (line: string): string => `model M {\n  input [4]\n  ${line}\n  relu\n}\n`;
  // k: where in the last `open` the first opener past the limit sits (`[0]` and `[1]` go one deeper).
  it.each([
    ['parentheses', '(', 0, '3', ')', 'x = '],
    ['lists', '[', 0, '3', ']', 'x = '],
    ['tuples', '(', 0, '3', ',)', 'x = '],
    ['index brackets', '[0][', 0, '0', ']', 'x = '],
    ['conditionals', 'true ? ', 5, '3', ' : 1', 'x = '],
    ['if bodies', 'if true { ', 8, 'relu', ' }', ''],
    ['loop bodies', 'for i in [1] { ', 9, 'relu', ' }', ''],
  ])('allows %s up to the limit and reports the first level past it', (_name, open, k, inner, close, lead) => {
    const src = (n: number): string => stmt(lead + open.repeat(n) + inner + close.repeat(n));
    expect(errors(src(nestingLimit - 1))).toEqual([]);
    expect(errors(src(nestingLimit))).toEqual([`E0111@3:${3 + lead.length + open.length * (nestingLimit - 1) + k}`]);
  });

  it('counts an unclosed opener as open to the end of the file', () => {
    expect(errors(`model M {\n  x = ${'('.repeat(nestingLimit)}`)).toEqual([`E0111@2:${7 + nestingLimit - 1}`]);
  });

  it('stays fast on stray closers deep inside, and on 300,000 openers', () => {
    const t0 = performance.now();
    expect(errors(`model M {\n  x = ${'('.repeat(nestingLimit - 2)}${']'.repeat(200_000)}\n}\n`)[0]).toMatch(/^E0110/);
    expect(errors('('.repeat(300_000))).toEqual([`E0111@1:${nestingLimit + 1}`]);
    // Before resynchronisation searched once per error, the stray closers alone took about 45 s.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('chains of any length', () => {
  it.each([
    ['a sum of 20,000 terms', Array(20_000).fill('1').join(' + '), 20_000],
    ['mixed precedence', Array(5_000).fill('2 * 3 - 1').join(' + '), 25_000],
    ['20,001 unary minus signs', `${'-'.repeat(20_001)}(-7)`, 7],
    ['20,000 nots', `${'not '.repeat(20_000)}true ? 5 : 6`, 5],
    ['a conditional chain of 20,000 links', `${'false ? 1 : '.repeat(20_000)}9`, 9],
    ['an index chain of 20,000', `t${'[0]'.repeat(20_000)}`, 2],
    ['20,000 ands', `${Array(20_000).fill('true').join(' and ')} ? 4 : 1`, 4],
    ['20,000 ors', `${Array(20_000).fill('false').join(' or ')} ? 1 : 3`, 3],
  ])('%s', (_name, features, want) => {
    // `t` holds 2 at any index depth: each loop step wraps it in one more list.
    const before = '  t = 2\n  repeat 10000 { t = [t] }\n  repeat 10000 { t = [t] }\n';
    expect(outputShape(linearOf(features, before)).slice(1)).toEqual([want]);
  });

  it('an else-if chain of 10,000 links picks the true branch', () => {
    const links = Array.from(
      { length: 10_000 },
      (_, i) => `if ${i === 9_998 ? 'true' : 'false'} { linear(${i + 1}) }`,
    ).join(' else ');
    expect(outputShape(`model M {\n  input [4]\n  ${links} else { linear(1) }\n}\n`).slice(1)).toEqual([9_999]);
  });

  it('values nested 20,000 deep by loops compare and show without recursion', () => {
    const deep = '  t = 2\n  u = 2\n  repeat 10000 { t = [t]\n u = [u] }\n  repeat 10000 { t = [t]\n u = [u] }\n';
    expect(outputShape(linearOf('t == u ? 3 : 4', deep)).slice(1)).toEqual([3]);
    const r = analyze('t.cnn', linearOf('t[5]', deep));
    expect(r.diagnostics.all.map((d) => `${d.code} ${d.message}`)).toEqual([
      'E0211 index 5 is out of range for (((((((((...))))))))) (length 1)',
    ]);
  });

  it('a model of 20,000 layers in sequence', () => {
    expect(outputShape(`model M {\n  input [4]\n${'  relu\n'.repeat(20_000)}}\n`).slice(1)).toEqual([4]);
  });
});

describe('block call depth', () => {
  const chain = (n: number): string => {
    const blocks = ['block B0 { relu }', ...Array.from({ length: n - 1 }, (_, i) => `block B${i + 1} { B${i} }`)];
    return `${blocks.join('\n')}\nmodel M {\n  input [4]\n  B${n - 1}\n}\n`;
  };

  it('allows 64 levels of blocks calling blocks', () => expect(errors(chain(64))).toEqual([]));

  it('reports E0219 at the call that goes one level deeper', () => {
    // The model calls B64 (level 1), ..., B1 calls B0 (level 65) on line 2. In a chain of 1,000,
    // level j is B(1001 - j) calling B(1000 - j) on line 1002 - j.
    expect(errors(chain(65))).toEqual(['E0219@2:12']);
  });

  it('reports a chain of 1,000 without exhausting the stack', () => {
    expect(errors(chain(1_000))).toEqual([`E0219@${1_002 - 65}:${'block B936 { '.length + 1}`]);
  });
});
