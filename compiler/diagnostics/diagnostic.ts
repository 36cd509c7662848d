// Diagnostics are values: passes collect them in a DiagnosticBag and never throw for user errors.
import type { SourceFile } from './source.ts';
import type { DiagCode } from './codes.ts';

/** A half-open character range [start, end) in a source file. */
export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  readonly end: number;
}

export interface Note {
  readonly message: string;
  readonly span?: Span;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: DiagCode;
  readonly message: string;
  /** Absent only for errors that belong to no source text (a missing file, a bad CLI flag). */
  readonly span?: Span;
  readonly notes: readonly Note[];
  readonly help?: string;
}

export class DiagnosticBag {
  private readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  error(code: DiagCode, message: string, span?: Span, extra: { notes?: readonly Note[]; help?: string } = {}): void {
    this.report('error', code, message, span, extra);
  }

  report(
    severity: Diagnostic['severity'],
    code: DiagCode,
    message: string,
    span?: Span,
    extra: { notes?: readonly Note[]; help?: string } = {},
  ): void {
    this.items.push({
      severity,
      code,
      message,
      ...(span ? { span } : {}),
      notes: extra.notes ?? [],
      ...(extra.help !== undefined ? { help: extra.help } : {}),
    });
  }

  get all(): readonly Diagnostic[] {
    return this.items;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

/** Thrown by the compiler's own bugs only (broken invariants), never for user input. */
export class InternalCompilerError extends Error {
  readonly pass: string;
  constructor(pass: string, message: string) {
    super(`internal compiler error in pass \`${pass}\`: ${message}`);
    this.pass = pass;
  }
}

export function invariant(cond: unknown, pass: string, message: string): asserts cond {
  if (!cond) throw new InternalCompilerError(pass, message);
}

export function assertNever(x: never, pass = 'unknown'): never {
  throw new InternalCompilerError(pass, `unexpected value ${JSON.stringify(x)}`);
}
