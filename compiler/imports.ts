// `import "other.cnn"`: the files a program imports, each read and parsed once, in import order.
// The compiler reads no files itself (it also runs where there is no file system): the caller
// passes `readFile`, and paths are resolved here, relative to the importing file, as plain text.
import type { DiagnosticBag, Span } from './diagnostics/diagnostic.ts';
import { SourceFile } from './diagnostics/source.ts';
import type { Import, Program } from './syntax/ast.ts';
import { parse } from './syntax/index.ts';

/** The text of the file at `path`, or why it cannot be read (no such file, a directory, a FIFO...). */
export type ReadFile = (path: string) => string | { readonly error: string } | null;

export interface ImportedProgram {
  readonly program: Program;
  /** The `import` that first brought this file in. */
  readonly importedAt: Span;
}

/** Chains of imports deeper than this are refused (each level is a file a person wrote). */
const MAX_IMPORT_DEPTH = 64;

/** Every file `main` imports, directly or through other imports, each once; errors go to `diags`. */
export function loadImports(main: Program, readFile: ReadFile | undefined, diags: DiagnosticBag): ImportedProgram[] {
  const loaded = new Map<string, ImportedProgram>();
  // Depth first, at most MAX_IMPORT_DEPTH deep: `chain` is the files from `main` to the one read.
  const visit = (program: Program, chain: readonly { path: string; at: Span | null }[]): void => {
    for (const imp of program.imports) {
      const path = resolveImport(program.span.file.path, imp.path);
      const start = chain.findIndex((c) => c.path === path);
      if (start >= 0) {
        const cycle = chain.slice(start);
        const notes = cycle.flatMap((c) =>
          c.at === null ? [] : [{ message: `${c.path} is imported here`, span: c.at }],
        );
        diags.error('E0231', `import cycle: ${[...cycle.map((c) => c.path), path].join(' -> ')}`, imp.span, {
          notes,
          help: 'move what both files need into a third file that both import',
        });
        continue;
      }
      if (loaded.has(path)) continue;
      if (chain.length >= MAX_IMPORT_DEPTH) {
        diags.error('E0231', `imports nested more than ${MAX_IMPORT_DEPTH} files deep`, imp.span);
        continue;
      }
      const imported = read(imp, path, readFile, diags);
      if (imported === null) continue;
      loaded.set(path, { program: imported, importedAt: imp.span });
      visit(imported, [...chain, { path, at: imp.span }]);
    }
  };
  visit(main, [{ path: normalize(main.span.file.path), at: null }]);
  return [...loaded.values()];
}

function read(imp: Import, path: string, readFile: ReadFile | undefined, diags: DiagnosticBag): Program | null {
  if (readFile === undefined) {
    diags.error(
      'E0230',
      `cannot import \`${imp.path}\`: this compilation was given no way to read files`,
      imp.pathSpan,
      {
        help: 'pass `readFile` in the analyze options',
      },
    );
    return null;
  }
  const text = readFile(path);
  if (typeof text !== 'string') {
    const why = text === null ? `no file ${path}` : text.error;
    diags.error('E0230', `cannot import \`${imp.path}\`: ${why}`, imp.pathSpan, {
      help: 'an import path is relative to the file that imports it',
    });
    return null;
  }
  const parsed = parse(new SourceFile(path, text));
  for (const d of parsed.diagnostics) diags.add(d);
  return parsed.program;
}

/** `spec` relative to the directory of `from` (absolute specs stand alone), `.` and `..` resolved. */
export function resolveImport(from: string, spec: string): string {
  if (spec.startsWith('/')) return normalize(spec);
  const slash = from.lastIndexOf('/');
  return normalize(slash < 0 ? spec : `${from.slice(0, slash + 1)}${spec}`);
}

function normalize(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out.at(-1) !== '..') out.pop();
    else if (part !== '..' || !absolute) out.push(part);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined || '.';
}
