// Renders diagnostics rustc-style: `file:line:col: error[CODE]: message`, the source line, carets.
import type { Diagnostic, Span } from './diagnostic.ts';

export function location(span: Span): string {
  const { line, col } = span.file.position(span.start);
  return `${span.file.path}:${line}:${col}`;
}

function excerpt(span: Span): string[] {
  const file = span.file;
  const { line, col } = file.position(span.start);
  const endPos = file.position(Math.max(span.start, span.end - 1));
  const full = file.lineText(line);
  const fullWidth = endPos.line === line ? Math.max(1, endPos.col - col + 1) : Math.max(1, full.length - col + 1);
  const { text, at, width } = clip(full, col - 1, fullWidth);
  const gutter = String(line).length;
  const pad = ' '.repeat(gutter);
  return [`${pad} |`, `${line} | ${text}`, `${pad} | ${' '.repeat(at)}${'^'.repeat(width)}`];
}

const shownChars = 120;

// A generated file can hold a line of a megabyte (a long sum, binary junk); the excerpt shows
// the part around the error, marked `...` where it is cut, with at most that many carets.
function clip(line: string, at: number, width: number): { text: string; at: number; width: number } {
  if (line.length <= shownChars) return { text: line, at, width };
  const start = Math.max(0, Math.min(at - 20, line.length - shownChars));
  const head = start > 0 ? '...' : '';
  const tail = start + shownChars < line.length ? '...' : '';
  const shownAt = at - start;
  return {
    text: `${head}${line.slice(start, start + shownChars)}${tail}`,
    at: head.length + shownAt,
    width: Math.max(1, Math.min(width, shownChars - shownAt)),
  };
}

export function renderDiagnostic(d: Diagnostic): string {
  const head = `${d.severity}[${d.code}]: ${d.message}`;
  const lines = d.span ? [`${location(d.span)}: ${head}`, ...excerpt(d.span)] : [head];
  for (const n of d.notes)
    lines.push(n.span ? `  = note: ${n.message} (${location(n.span)})` : `  = note: ${n.message}`);
  if (d.help !== undefined) lines.push(`  = help: ${d.help}`);
  return lines.join('\n');
}

export function renderDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map(renderDiagnostic).join('\n\n');
}
