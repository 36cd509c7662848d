// WgslWriter: indentation-aware line builder, the only way codegen produces WGSL text.
import { InternalCompilerError } from '../diagnostics/diagnostic.ts';
import { f32Problem } from '../ir/f32.ts';

export class WgslWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ''): this {
    this.lines.push(text === '' ? '' : '  '.repeat(this.depth) + text);
    return this;
  }

  /** `head {` (a bare `{` when head is empty), the body indented one level, then `}`. */
  block(head: string, body: () => void): this {
    this.line(head === '' ? '{' : `${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }

  /** Several lines at the current indentation (a dedented template chunk). */
  chunk(text: string): this {
    for (const l of dedent(text).split('\n')) this.line(l);
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** Removes the common leading indentation and the first/last blank lines of a template literal. */
export function dedent(text: string): string {
  const lines = text
    .replace(/^\n/, '')
    .replace(/\n\s*$/, '')
    .split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

/** `wgsl` tag: a dedented static chunk with interpolations. */
export function wgsl(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  let out = '';
  strings.forEach((s, i) => {
    out += s + (i < values.length ? String(values[i]) : '');
  });
  return dedent(out);
}

/** A float literal WGSL accepts for any JS number (1 -> `1.0`, 1e-5 -> `1e-05`). */
export function f32Lit(x: number): string {
  // User numbers are checked where they are written (f32Problem); reaching here is a cnnc bug.
  const problem = f32Problem(x);
  if (problem !== null) throw new InternalCompilerError('codegen', `no WGSL f32 literal: the value ${problem}`);
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
