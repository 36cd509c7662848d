// The portable core: the compiler, the GPU runtime, the model and what browser training needs
// (batches, IDX parsing, safetensors, init, the training loop, the curves) run in a web page as well
// as under Node. Walked from those roots through every import, transitively: no `node:` module, no
// Node built-in, no `webgpu` package (dawn.node), and no `process` or `Buffer` global. A failure
// names the chain of imports from a root to the offending file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Node-only modules beside the portable ones: each the Node implementation of a portable interface. */
const NODE_SIDE = ['runtime/gpu/dawn.ts'];

const ROOTS = [
  ...sourceFiles('compiler'),
  ...sourceFiles('runtime/gpu').filter((f) => !NODE_SIDE.includes(f)),
  'runtime/model.ts',
  'runtime/random.ts',
  'runtime/data/batches.ts',
  'runtime/data/idx-format.ts',
  'runtime/data/split.ts',
  'runtime/train/trainer.ts',
  'runtime/train/train-data.ts',
  'runtime/train/init.ts',
  'runtime/train/safetensors.ts',
  'runtime/train/state.ts',
  'runtime/train/plot.ts',
  ...sourceFiles('web/playground'),
];

/** Static and dynamic imports and re-exports, type-only ones too (a bundler may keep a type's module). */
const IMPORT = /(?:^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?|\bimport\s*\(\s*)['"]([^'"]+)['"]/gm;
const NODE_GLOBAL = /\b(?:process|Buffer)\s*\./;

const NODE_BUILTINS = new Set(builtinModules);
const forbidden = (spec: string): boolean =>
  spec.startsWith('node:') || NODE_BUILTINS.has(spec.split('/')[0]!) || spec === 'webgpu' || spec.startsWith('webgpu/');

/** Every file reachable from the roots, with the chain that reached it, and each one's package imports. */
function walk(roots: readonly string[]): { chain: Map<string, string[]>; packages: Map<string, string[]> } {
  const chain = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const packages = new Map<string, string[]>();
  const queue = [...roots];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const specs = [...readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)].map((m) => m[1]!);
    packages.set(
      file,
      specs.filter((s) => !s.startsWith('.')),
    );
    for (const spec of specs.filter((s) => s.startsWith('.'))) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec))
        .split('\\')
        .join('/');
      if (chain.has(target)) continue;
      chain.set(target, [...chain.get(file)!, target]);
      queue.push(target);
    }
  }
  return { chain, packages };
}

const { chain, packages } = walk(ROOTS);

describe('portable core', () => {
  it('walks the roots and what they import', () => {
    // Guards the walk: a parser that found nothing would pass every rule below.
    expect(chain.get('runtime/model.ts')).toEqual(['runtime/model.ts']);
    expect(chain.has('compiler/syntax/parser.ts')).toBe(true);
    expect(packages.get('compiler/syntax/lexer.ts')).toContain('chevrotain');
    for (const file of chain.keys()) expect(existsSync(join(ROOT, file)), file).toBe(true);
  });

  it('imports no Node module and no dawn.node, transitively', () => {
    const bad = [...packages].flatMap(([file, specs]) =>
      specs.filter(forbidden).map((s) => `${chain.get(file)!.join(' -> ')} imports ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('touches no process or Buffer global', () => {
    const bad = [...chain].flatMap(([file, via]) =>
      NODE_GLOBAL.test(readFileSync(join(ROOT, file), 'utf8')) ? [via.join(' -> ')] : [],
    );
    expect(bad).toEqual([]);
  });

  it('would catch a Node import', () => {
    expect(forbidden('node:fs')).toBe(true);
    expect(forbidden('fs')).toBe(true);
    expect(forbidden('webgpu')).toBe(true);
    expect(forbidden('chevrotain')).toBe(false);
    expect(NODE_GLOBAL.test("if (process.env['X'])")).toBe(true);
  });
});
