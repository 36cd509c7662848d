// The .cnn editor: a textarea over a highlighted copy of its text, where the diagnostics' spans
// are underlined. Tokens are classed by the compiler's own token patterns.
import type { Diagnostic } from '../../compiler/diagnostics/diagnostic.ts';
import { Comment, keywords, NumberLit, StringLit } from '../../compiler/syntax/tokens.ts';

const KEYWORDS = new Set(keywords.map((k) => String(k.PATTERN)));
const source = (p: unknown): string => (p instanceof RegExp ? p.source : String(p));
const TOKEN = new RegExp(
  `(${source(Comment.PATTERN)})|(${source(StringLit.PATTERN)})|(${source(NumberLit.PATTERN)})|([A-Za-z_][A-Za-z0-9_]*)`,
  'g',
);

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Each character's token class ('' for none). */
function classes(text: string): string[] {
  const out = new Array<string>(text.length).fill('');
  for (const m of text.matchAll(TOKEN)) {
    const cls = m[1]
      ? 'comment'
      : m[2]
        ? 'string'
        : m[3]
          ? 'number'
          : KEYWORDS.has(m[0])
            ? 'keyword'
            : text[m.index + m[0].length] === '('
              ? 'layer'
              : '';
    out.fill(cls, m.index, m.index + m[0].length);
  }
  return out;
}

/** The highlighted HTML of `text`, spans of the main file's diagnostics underlined. */
export function highlight(text: string, path: string, diagnostics: readonly Diagnostic[]): string {
  const tok = classes(text);
  const marks = new Array<string>(text.length + 1).fill('');
  for (const d of diagnostics) {
    if (!d.span || d.span.file.path !== path) continue;
    // An empty span (the end of the file) is underlined on the character before it.
    const start = Math.min(d.span.start, Math.max(0, text.length - 1));
    const end = Math.max(d.span.end, start + 1);
    for (let i = start; i < end && i < text.length; i++) if (marks[i] !== 'error') marks[i] = d.severity;
  }
  let html = '';
  let i = 0;
  while (i < text.length) {
    let j = i + 1;
    while (j < text.length && tok[j] === tok[i] && marks[j] === marks[i]) j++;
    const cls = [tok[i] ? `tok-${tok[i]}` : '', marks[i] ? `squiggle ${marks[i]}` : ''].filter((c) => c).join(' ');
    const piece = escapeHtml(text.slice(i, j));
    html += cls ? `<span class="${cls}">${piece}</span>` : piece;
    i = j;
  }
  // A trailing newline needs a character after it to take up its line.
  return `${html}\n`;
}

/** Selects line `line` (1-based) of the textarea, or the span from start to end, and scrolls to it. */
export function reveal(area: HTMLTextAreaElement, start: number, end: number): void {
  area.focus();
  area.setSelectionRange(start, end);
  const line = area.value.slice(0, start).split('\n').length;
  area.scrollTop = Math.max(0, (line - 5) * 18);
}

/** The offsets of line `line` (1-based) of `text`. */
export function lineRange(text: string, line: number): [number, number] {
  const lines = text.split('\n');
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  return [start, start + (lines[line - 1]?.length ?? 0)];
}
