// Shared CLI plumbing: reading a .cnn file, running the front end, reporting diagnostics.
import { readFileSync } from 'node:fs';
import { analyze, type FrontendOptions, type FrontendResult } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { fsReason, UserError } from '../errors.ts';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${fsReason(e)}`);
  }
}

/** Runs the front end; on errors prints them and returns null (the caller exits 1). */
export function frontend(path: string, options: FrontendOptions, io: Output): FrontendResult | null {
  const result = analyze(path, readSource(path), options);
  if (result.diagnostics.all.length > 0) io.err(renderDiagnostics(result.diagnostics.all) + '\n');
  return result.diagnostics.hasErrors ? null : result;
}
