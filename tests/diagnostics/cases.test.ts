// Runs every tests/diagnostics/cases/*.cnn file: each `# expect-error@+N CODE` (or `expect-warning`)
// comment says an error (a warning) with CODE is reported N lines below it (`@+0`: on the same line).
// Reported and expected sets must match, severities included.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';

const dir = join(import.meta.dirname, 'cases');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.cnn'))
  .sort();
/** Imports resolve under cases/ (the files they import live in cases/imports/, not cases themselves). */
const readFile = (path: string): string | null =>
  existsSync(join(dir, path)) ? readFileSync(join(dir, path), 'utf8') : null;

function expected(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/expect-(error|warning)@\+(\d+) ([EW]\d{4})/g))
      out.push(`${m[1]} ${m[3]}@${i + 1 + Number(m[2])}`);
  });
  return out.sort();
}

describe('diagnostic cases', () => {
  it('has cases', () => expect(files.length).toBeGreaterThan(5));
  it.each(files)('%s', (f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    const want = expected(text);
    expect(want.length, 'a case file must expect at least one diagnostic').toBeGreaterThan(0);
    const got = analyze(f, text, { readFile })
      .diagnostics.all.map((d) => `${d.severity} ${d.code}@${d.span!.file.position(d.span!.start).line}`)
      .sort();
    expect(got).toEqual(want);
  });
});
