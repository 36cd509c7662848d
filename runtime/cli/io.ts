// Shared CLI plumbing: reading a .cnn file, running the front end, reporting diagnostics.
import { analyze, type FrontendOptions, type FrontendResult } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import type { ReadFile } from '../../compiler/imports.ts';
import { UserError } from '../errors.ts';
import { readInputFile } from '../input-file.ts';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** A model is text a person wrote: far below this, and the front end's memory grows with its size. */
const MAX_SOURCE_BYTES = 16 * 2 ** 20;

export function readSource(path: string): string {
  return readInputFile(path, {
    limit: { bytes: MAX_SOURCE_BYTES, message: 'model files over 16 MiB are not supported' },
  }).toString('utf8');
}

/** The files a model imports, read as the model itself is; why one cannot be is the compiler's to report. */
export const readImport: ReadFile = (path) => {
  try {
    return readSource(path);
  } catch (e) {
    if (e instanceof UserError) return { error: e.message };
    throw e;
  }
};

/** Runs the front end; on errors prints them and returns null (the caller exits 1). */
export function frontend(path: string, options: FrontendOptions, io: Output): FrontendResult | null {
  const result = analyze(path, readSource(path), { readFile: readImport, ...options });
  if (result.diagnostics.all.length > 0) io.err(renderDiagnostics(result.diagnostics.all) + '\n');
  return result.diagnostics.hasErrors ? null : result;
}
