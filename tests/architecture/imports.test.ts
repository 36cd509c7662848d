// The dependency rule, read from the source: each compiler pass imports only the IR, the
// diagnostics and earlier passes; the compiler never imports the runtime; nothing in compiler/ or
// runtime/ imports itself in a loop. A failure names the importing file and the import (or the
// whole cycle), so the fix is where the message points.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The passes in pipeline order: a pass may import the ones before it, never the ones after. */
const PASS_ORDER = ['syntax', 'elaborate', 'shapes', 'autodiff', 'fusion', 'plan', 'codegen'] as const;
/** Folders every pass may import: the data the passes hand each other, and the error reporting. */
const SHARED = ['ir', 'diagnostics'] as const;
/** Where the pipeline is run: compiler/index.ts and any file at compiler/'s top, or a compiler/pipeline/ folder, may import every pass. */
const DRIVERS = ['pipeline'] as const;

// runtime/model.ts and runtime/train/ import each other's folders (the "loop") but no file
// cycle closes there: model.ts imports train/init.ts, which imports nothing back.

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** `import ... from '...'`, `import type ...`, `export ... from '...'` and bare `import '...'`, over several lines too. */
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Each file's relative imports, resolved to paths from the repository root. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => m[1]!)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) =>
        relative(ROOT, resolve(ROOT, dirname(file), spec))
          .split('\\')
          .join('/'),
      );
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every elementary cycle through strongly connected components, each as a path `a -> b -> a`. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  const nodes = [...graph.keys()].sort();
  // Johnson-lite: start from each node, only visit nodes after it in sort order, so each cycle is
  // reported once, from its smallest file. The graphs here are small.
  nodes.forEach((start, s) => {
    const allowed = new Set(nodes.slice(s));
    const walk = (at: string, path: string[]): void => {
      for (const next of graph.get(at) ?? []) {
        if (next === start) {
          const key = [...path].sort().join(' ');
          if (!seen.has(key)) {
            seen.add(key);
            found.push([...path, start]);
          }
        } else if (allowed.has(next) && !path.includes(next)) {
          walk(next, [...path, next]);
        }
      }
    };
    walk(start, [start]);
  });
  return found;
}

const files = [...sourceFiles('compiler'), ...sourceFiles('runtime')];
const graph = importGraph(files);
const folderOf = (file: string): string => file.split('/')[1]!;

describe('import graph', () => {
  it('finds the imports it checks', () => {
    // Guards the parser: a regex that matched nothing would pass every rule below.
    expect(graph.get('compiler/index.ts')).toContain('compiler/syntax/index.ts');
    expect([...graph.values()].flat().length).toBeGreaterThan(200);
    for (const targets of graph.values()) for (const t of targets) expect(files, `import of ${t}`).toContain(t);
  });

  it('each pass imports only ir/, diagnostics/ and earlier passes', () => {
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      if (!file.startsWith('compiler/')) continue;
      const from = folderOf(file);
      const rank = PASS_ORDER.indexOf(from as (typeof PASS_ORDER)[number]);
      if (!file.slice('compiler/'.length).includes('/') || (DRIVERS as readonly string[]).includes(from)) continue;
      const mayImport = new Set<string>([...SHARED, from, ...(rank >= 0 ? PASS_ORDER.slice(0, rank) : [])]);
      // ir/ and diagnostics/ are the bottom: ir/ may import diagnostics/, diagnostics/ nothing else.
      if (from === 'diagnostics') mayImport.delete('ir');
      for (const t of targets) {
        if (!t.startsWith('compiler/')) continue;
        const to = t.slice('compiler/'.length).includes('/') ? folderOf(t) : t;
        if (!mayImport.has(to)) bad.push(`${file} imports ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('compiler/ never imports runtime/', () => {
    const bad = [...graph].flatMap(([file, targets]) =>
      file.startsWith('compiler/')
        ? targets.filter((t) => !t.startsWith('compiler/')).map((t) => `${file} imports ${t}`)
        : [],
    );
    expect(bad).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('reports a cycle as a path', () => {
    const toy = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(cycles(toy)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
