// A source file and offset -> line:column mapping, shared by every pass that reports positions.

export class SourceFile {
  readonly path: string;
  readonly text: string;
  private readonly lineStarts: readonly number[];

  constructor(path: string, text: string) {
    this.path = path;
    // Editors save a UTF-8 byte order mark that they never show; it is not part of the program,
    // and dropping it keeps the columns of line 1 as the editor counts them.
    this.text = text.startsWith('\uFEFF') ? text.slice(1) : text;
    this.lineStarts = lineStarts(this.text);
  }

  /** 1-based line and column of a 0-based character offset. */
  position(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  /** The text of a 1-based line, without its newline. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next;
    return this.text.slice(start, end).replace(/\r?\n?$/, '');
  }
}

// A line ends at LF, CRLF or a lone CR (the lexer's Newline token agrees).
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    if (c === 10 || c === 13) starts.push(i + 1);
  }
  return starts;
}
