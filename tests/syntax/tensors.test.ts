// Constant tensor definitions at the top level and subscripts with slices: parsed and printed.
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../compiler/diagnostics/source.ts';
import { parse } from '../../compiler/syntax/index.ts';
import { printProgram } from '../../compiler/syntax/print.ts';

function program(text: string): string {
  const { program: p, diagnostics } = parse(new SourceFile('t.cnn', text));
  expect(diagnostics.map((d) => d.message)).toEqual([]);
  return printProgram(p);
}

/** `line:col code message` of each syntax error. */
function errors(text: string): string[] {
  const file = new SourceFile('t.cnn', text);
  return parse(file).diagnostics.map((d) => {
    const at = file.position(d.span!.start);
    return `${at.line}:${at.col} ${d.code} ${d.message}`;
  });
}

describe('constant tensor definitions', () => {
  it('parses definitions and slice assignments, newline-separated or not, in file order with models', () => {
    expect(
      program(
        'X = ones(6, 8)\nX[:, 2:6] = 0\nK = [[1.0, -1.0]]\nmodel M {\n  input [1, 6, 8]\n  conv(1, kernel = (1, 2), weight = K)\n}\nY = X',
      ),
    ).toBe(
      [
        '(tensor X (call ones 6 8))',
        '(tensor X (tuple (slice _ _ _) (slice 2 6 _)) 0)',
        '(tensor K [[1 (- 1)]])',
        '(model M () {(input 1 6 8); (-> (call conv 1 kernel=(tuple 1 2) weight=K))})',
        '(tensor Y X)',
      ].join('\n'),
    );
    expect(program('A = zeros(2, 2) B = A')).toBe('(tensor A (call zeros 2 2))\n(tensor B A)');
  });

  it('parses every slice form: start, stop, step each optional, negative bounds, integer positions', () => {
    expect(program('Y = X[1:, :-1, ::2, 0:4:2, -1, :]')).toBe(
      '(tensor Y (index X (tuple (slice 1 _ _) (slice _ (- 1) _) (slice _ _ 2) (slice 0 4 2) (- 1) (slice _ _ _))))',
    );
    // One subscript is itself; a trailing comma makes a tuple, as in Python.
    expect(program('Y = X[2:6]\nZ = X[1,]')).toBe('(tensor Y (index X (slice 2 6 _)))\n(tensor Z (index X (tuple 1)))');
    // A conditional inside an index keeps its own colon.
    expect(program('Y = X[a ? 1 : 2 : 3]')).toBe('(tensor Y (index X (slice (? a 1 2) 3 _)))');
  });

  it('reports an empty index and a definition without a value where they are', () => {
    expect(errors('X = ones(2)\nX[] = 0\n')).toEqual(["2:3 E0110 expected an index or a slice like '1:3', found ']'"]);
    expect(errors('X = \nmodel M { input [1] }')[0]).toMatch(/^2:1 E0110 /);
    expect(errors('X[0] 3')[0]).toMatch(/^1:6 E0110 expected '=' after the tensor name/);
    expect(errors('relu\nmodel M { input [1] }')).toEqual([
      "1:1 E0110 expected 'model', 'block', 'train' or 'import', found 'relu'",
    ]);
  });
});
