// Line ends and the byte order mark (issue 13, item 12): LF, CRLF and a lone CR (classic Mac OS)
// each end a line, for the lexer and for line:col alike, and a UTF-8 BOM is not part of the text.
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../compiler/diagnostics/source.ts';
import { renderDiagnostic } from '../../compiler/diagnostics/render.ts';
import { analyze } from '../../compiler/index.ts';
import { errors } from '../helpers/cnn.ts';

// Line 4 col 3 holds an unknown layer; every line end style must place it there.
const lines = ['model M {', '  input [1, 8, 8]', '  relu', '  lineaar(3)', '}', ''];

describe('line ends', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s: errors are located on the right line and column', (_name, eol) => {
    expect(errors(lines.join(eol))).toEqual(['E0202@4:3']);
  });

  it('mixed line ends each count once', () => {
    expect(errors(`${lines[0]}\r${lines[1]}\r\n${lines[2]}\n${lines[3]}\r${lines[4]}\n`)).toEqual(['E0202@4:3']);
  });

  it('a CR ends a statement, as a LF does', () => {
    expect(errors('model M {\r  input [4]\r  relu\r  linear(3)\r}\r')).toEqual([]);
  });

  it('shows the source line without its line end', () => {
    const r = analyze('t.cnn', lines.join('\r'));
    expect(renderDiagnostic(r.diagnostics.all[0]!)).toBe(
      [
        't.cnn:4:3: error[E0202]: unknown layer or block `lineaar`',
        '  |',
        '4 |   lineaar(3)',
        '  |   ^^^^^^^^^^',
        '  = help: did you mean `linear`?',
      ].join('\n'),
    );
  });

  it.each([['\n'], ['\r\n'], ['\r']])('SourceFile maps offsets and lines with %j', (eol) => {
    const f = new SourceFile('t.cnn', ['ab', '', 'cd'].join(eol));
    const c = f.text.indexOf('c');
    expect(f.position(c)).toEqual({ line: 3, col: 1 });
    expect([1, 2, 3].map((l) => f.lineText(l))).toEqual(['ab', '', 'cd']);
  });
});

describe('byte order mark', () => {
  it('is accepted and not counted as a column', () => {
    expect(errors(`\ufeff${lines.join('\n')}`)).toEqual(['E0202@4:3']);
    expect(errors('\ufeffmodel M {\n  input [4]\n  relu\n}\n')).toEqual([]);
    expect(errors('\ufeffmodel M { lineaar }')).toEqual(['E0201@1:11']);
  });

  it('is an unexpected character anywhere else', () => {
    expect(errors('model M {\n  input [4]\n  \ufeffrelu\n}\n')).toEqual(['E0101@3:3']);
  });
});
