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
  const text = file.lineText(line);
  const width = endPos.line === line ? Math.max(1, endPos.col - col + 1) : Math.max(1, text.length - col + 1);
  const gutter = String(line).length;
  const pad = ' '.repeat(gutter);
  return [
    `${pad} |`,
    `${line} | ${text}`,
    `${pad} | ${' '.repeat(col - 1)}${'^'.repeat(width)}`,
  ];
}

export function renderDiagnostic(d: Diagnostic): string {
  const head = `${d.severity}[${d.code}]: ${d.message}`;
  const lines = d.span ? [`${location(d.span)}: ${head}`, ...excerpt(d.span)] : [head];
  for (const n of d.notes) lines.push(n.span ? `  = note: ${n.message} (${location(n.span)})` : `  = note: ${n.message}`);
  if (d.help !== undefined) lines.push(`  = help: ${d.help}`);
  return lines.join('\n');
}

export function renderDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map(renderDiagnostic).join('\n\n');
}
