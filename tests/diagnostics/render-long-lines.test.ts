// Excerpts of very long lines (issue 13's fuzzing made lines of a megabyte) show the part around
// the error, cut with `...`, instead of the whole line and a megabyte of carets.
import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../compiler/diagnostics/render.ts';
import { analyze } from '../../compiler/index.ts';

const rendered = (src: string): string => renderDiagnostic(analyze('t.cnn', src).diagnostics.all[0]!);

describe('long lines', () => {
  it('shows 120 characters around the error', () => {
    const sum = Array(50_000).fill('1').join(' + ');
    const line = `  n = ${sum} + lineaar`;
    const out = rendered(`model M {\n  input [4]\n${line}\n}\n`);
    const [head, , source, carets] = out.split('\n');
    expect(head).toBe(`t.cnn:3:${line.length - 6}: error[E0201]: unknown name \`lineaar\``);
    // Near the end of the line, the last 120 characters.
    expect(source).toBe(`3 | ...${line.slice(-120)}`);
    expect(carets).toBe(`  | ${' '.repeat(3 + 120 - 7)}^^^^^^^`);
  });

  it('cuts both ends, and the carets, for a long span inside a long line', () => {
    const out = rendered(
      `model M {\n  input [4]\n  n = ${'1 + '.repeat(100)}(${'1 + '.repeat(100_000)}true)${' + 1'.repeat(1000)}\n}\n`,
    );
    const [, , source, carets] = out.split('\n');
    expect(source).toMatch(/^3 \| \.\.\..{120}\.\.\.$/);
    expect(carets).toBe(`  | ${' '.repeat(3 + 20)}${'^'.repeat(100)}`);
  });

  it('leaves lines up to 120 characters whole', () => {
    const out = rendered(`model M {\n  input [4]\n  n = ${'1 + '.repeat(27)}q\n}\n`);
    expect(out.split('\n')[2]).toBe(`3 |   n = ${'1 + '.repeat(27)}q`);
  });
});
