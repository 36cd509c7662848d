// `import "other.cnn"` (issue 16, item 6): files read through `readFile`, resolved relative to the
// importing file, each once; cycles, missing files and clashes located; diagnostics in an imported
// file name that file.
import { describe, expect, it } from 'vitest';
import { analyze, type FrontendOptions } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { resolveImport } from '../../compiler/imports.ts';

const block = 'block conv_relu(c, act = relu) {\n  conv(c, kernel = 3, padding = 1) act\n}\n';

/** Analyses `main.cnn` with the other files in memory; `reads` records what was asked for. */
function run(files: Record<string, string>, options: FrontendOptions = {}) {
  const reads: string[] = [];
  const readFile = (path: string): string | null => {
    reads.push(path);
    return files[path] ?? null;
  };
  const r = analyze('main.cnn', files['main.cnn']!, { readFile, ...options });
  return { r, reads, text: renderDiagnostics(r.diagnostics.all) };
}

const at = (d: {
  span?: { file: { path: string; position(o: number): { line: number; col: number } }; start: number };
}): string => {
  const pos = d.span!.file.position(d.span!.start);
  return `${d.span!.file.path}:${pos.line}:${pos.col}`;
};

describe('import', () => {
  it("brings another file's blocks and models into scope; the default model is the file's own", () => {
    const { r, reads } = run({
      'main.cnn':
        'import "lib/blocks.cnn"\nmodel M {\n  input [1, 8, 8]\n  conv_relu(4, act = sigmoid)\n  Head(num_classes = 3)\n}\n',
      'lib/blocks.cnn': `import "../shared/head.cnn"\n${block}`,
      'shared/head.cnn':
        'model Head(num_classes = 10) {\n  input [4, 8, 8]\n  flatten\n  linear(num_classes)\n}\ntrain {\n  batch 0\n}\n',
    });
    expect(r.diagnostics.all.map((d) => d.message)).toEqual([]);
    expect(reads).toEqual(['lib/blocks.cnn', 'shared/head.cnn']);
    expect(r.shaped!.model).toBe('M');
    expect(r.shaped!.nodes.flatMap((n) => n.params.map((p) => p.name))).toEqual([
      '0.0.weight',
      '0.0.bias',
      '1.1.weight',
      '1.1.bias',
    ]);
    // The imported file's train section (batch 0 would be an error) is not read: the file's own is.
    expect(r.train!.batch).toBe(256);
  });

  it('reads a file imported twice (a diamond) once, without a clash', () => {
    const { r, reads } = run({
      'main.cnn': 'import "a.cnn"\nimport "b.cnn"\nmodel M {\n  input [1, 4, 4]\n  x1()\n  x2()\n}\n',
      'a.cnn': 'import "common.cnn"\nblock x1 { common() }\n',
      'b.cnn': 'import "common.cnn"\nblock x2 { common() }\n',
      'common.cnn': block.replace('conv_relu(c, act = relu)', 'common(c = 2, act = relu)'),
    });
    expect(r.diagnostics.hasErrors).toBe(false);
    expect(reads).toEqual(['a.cnn', 'common.cnn', 'b.cnn']);
  });

  it('locates a missing file at its path, and says when no reader was given', () => {
    const missing = run({ 'main.cnn': 'block b { relu }\nimport "nope.cnn"\nmodel M {\n  input [4]\n  b\n}\n' });
    expect(missing.r.diagnostics.all.map((d) => `${d.code} ${at(d)}`)).toEqual(['E0230 main.cnn:2:8']);
    expect(missing.text).toContain('cannot import `nope.cnn`: no file nope.cnn');
    const unread = analyze('main.cnn', 'import "x.cnn"\nmodel M {\n  input [4]\n  relu\n}\n');
    expect(unread.diagnostics.all.map((d) => `${d.code} ${at(d)}`)).toEqual(['E0230 main.cnn:1:8']);
    expect(renderDiagnostics(unread.diagnostics.all)).toContain('no way to read files');
  });

  it("reports a reader's reason", () => {
    const r = analyze('m.cnn', 'import "d"\nmodel M {\n  input [4]\n  relu\n}\n', {
      readFile: () => ({ error: 'cannot read d: it is a directory' }),
    });
    expect(renderDiagnostics(r.diagnostics.all)).toContain('cannot import `d`: cannot read d: it is a directory');
  });

  it('names the whole chain of a cycle, at the import that closes it', () => {
    const { r, text } = run({
      'main.cnn': 'import "a.cnn"\nmodel M {\n  input [4]\n  relu\n}\n',
      'a.cnn': 'import "sub/b.cnn"\n',
      'sub/b.cnn': 'block q { relu }\nimport "../a.cnn"\n',
    });
    expect(r.diagnostics.all.map((d) => `${d.code} ${at(d)}`)).toEqual(['E0231 sub/b.cnn:2:1']);
    expect(text).toContain('import cycle: a.cnn -> sub/b.cnn -> a.cnn');
    expect(text).toContain('note: sub/b.cnn is imported here (a.cnn:1:1)');
    const self = run({ 'main.cnn': 'import "main.cnn"\nmodel M {\n  input [4]\n  relu\n}\n' });
    expect(self.text).toContain('import cycle: main.cnn -> main.cnn');
  });

  it('refuses one name defined in two files, at the import, with a note at each definition', () => {
    const { r, text } = run({
      'main.cnn': `${block}import "lib.cnn"\nmodel M {\n  input [1, 4, 4]\n  conv_relu(2)\n}\n`,
      'lib.cnn': `\n${block}`,
    });
    expect(r.diagnostics.all.map((d) => `${d.code} ${at(d)}`)).toEqual(['E0206 main.cnn:4:1']);
    expect(text).toContain('`conv_relu` is defined in both main.cnn and lib.cnn');
    expect(text).toContain('note: one definition (main.cnn:1:7)');
    expect(text).toContain('note: the other (lib.cnn:2:7)');
  });

  it("locates errors inside an imported file in that file, the call in the importer's", () => {
    const syntax = run({
      'main.cnn': 'import "lib.cnn"\nmodel M {\n  input [4]\n  relu\n}\n',
      'lib.cnn': 'block b {\n  relu(\n}\n',
    });
    expect(syntax.r.diagnostics.all.map((d) => `${d.code} ${at(d)}`)).toEqual(['E0110 lib.cnn:3:1']);
    expect(syntax.text).toMatch(/^lib\.cnn:3:1: error\[E0110\]/);
    const inBlock = run({
      'main.cnn': 'import "lib.cnn"\nmodel M {\n  input [1, 4, 4]\n  b()\n}\n',
      'lib.cnn': 'block b {\n  conv(4, kernel = 0)\n}\n',
    });
    expect(inBlock.r.diagnostics.all.map((d) => `${d.code} ${at(d)}`)).toEqual(['E0211 lib.cnn:2:11']);
    expect(inBlock.text).toContain('2 |   conv(4, kernel = 0)');
    expect(inBlock.text).toContain('in block `b` called here (main.cnn:4:3)');
  });

  it('lets --model pick an imported model', () => {
    const { r } = run(
      {
        'main.cnn': 'import "lib.cnn"\nmodel M {\n  input [4]\n  relu\n}\n',
        'lib.cnn': 'model L {\n  input [6]\n  linear(2)\n}\n',
      },
      { model: 'L' },
    );
    expect(r.shaped!.model).toBe('L');
  });
});

describe('resolveImport', () => {
  it.each([
    ['main.cnn', 'a.cnn', 'a.cnn'],
    ['dir/main.cnn', 'a.cnn', 'dir/a.cnn'],
    ['dir/main.cnn', '../lib/./a.cnn', 'lib/a.cnn'],
    ['main.cnn', '../a.cnn', '../a.cnn'],
    ['/m/x/main.cnn', '../../../a.cnn', '/a.cnn'],
    ['dir/main.cnn', '/abs/a.cnn', '/abs/a.cnn'],
  ])('%s imports %s: %s', (from, spec, want) => expect(resolveImport(from, spec)).toBe(want));
});
