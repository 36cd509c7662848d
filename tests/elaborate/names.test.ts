// Parameter names are unique (E0212), a model computes something (E0213), and values computed but
// never used are warned about (W0201, W0202) without failing `check` (issue 13, items 5, 12, 17).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { main } from '../../runtime/cli/main.ts';
import { errors, shaped } from '../helpers/cnn.ts';

const diag = (src: string) => analyze('t.cnn', src).diagnostics.all;

describe('duplicate parameter names', () => {
  it('refuses a label used twice in one body, at the second, with a note at the first', () => {
    const d = diag(
      'model M {\n  input [3, 8, 8]\n  conv(3, kernel = 3) as a\n  relu\n  conv(3, kernel = 1) as a\n  flatten linear(10)\n}',
    );
    expect(
      d.map(
        (x) => `${x.code}@${x.span!.file.position(x.span!.start).line}:${x.span!.file.position(x.span!.start).col}`,
      ),
    ).toEqual(['E0212@5:26']);
    expect(d[0]!.notes[0]!.message).toBe('first named here');
    expect(d[0]!.notes[0]!.span!.file.position(d[0]!.notes[0]!.span!.start)).toEqual({ line: 3, col: 26 });
  });

  it('refuses a label inside a loop (every iteration would take it)', () => {
    const d = diag('model M {\n  input [4]\n  repeat 2 { linear(4) as fc }\n}');
    expect(d.map((x) => x.code)).toEqual(['E0212']);
    expect(d[0]!.help).toContain('loop');
  });

  it('refuses the same label on a layer and a block call', () => {
    expect(errors('block B {\n  linear(4)\n}\nmodel M {\n  input [4]\n  B as a\n  linear(4) as a\n}')).toEqual([
      'E0212@7:16',
    ]);
  });

  it('allows one label per block instance and labels alongside numbered siblings', () => {
    const g = shaped(
      'block B {\n  linear(4) as fc\n  relu\n  linear(4)\n}\nmodel M {\n  input [4]\n  B\n  B\n  linear(2) as head\n}',
    );
    expect(g.nodes.flatMap((n) => n.params.filter((p) => p.role === 'weight').map((p) => p.name))).toEqual([
      '0.fc.weight',
      '0.2.weight',
      '1.fc.weight',
      '1.2.weight',
      'head.weight',
    ]);
  });
});

describe('models that compute nothing', () => {
  it('refuses a model with no layers at its name, noting the input', () => {
    const d = diag('model Empty {\n  input [1, 28, 28]\n}');
    expect(d.map((x) => `${x.code}@${x.span!.file.position(x.span!.start).line}`)).toEqual(['E0213@1']);
    expect(d[0]!.notes[0]!.message).toContain('input');
  });

  it('refuses one whose body only computes parameters', () => {
    expect(errors('model M(c = 3) {\n  input [4]\n  d = c * 2\n}')).toEqual(['E0213@1:7']);
  });
});

describe('unused values', () => {
  const warnings = (src: string) =>
    diag(src).map(
      (d) =>
        `${d.severity} ${d.code}@${d.span!.file.position(d.span!.start).line}:${d.span!.file.position(d.span!.start).col}`,
    );

  it('warns at a named value nothing reads (the no-skip ablation still building conv3), once per block', () => {
    const src = `block Residual(c) {
  y = x -> conv(c, kernel = 3, padding = 1) -> batchnorm
  x = x -> conv(c, kernel = 1) as conv3
  relu(y)
}
model M {
  input [3, 8, 8]
  Residual(3)
  Residual(3)
  flatten linear(10)
}`;
    expect(warnings(src)).toEqual(['warning W0201@3:3']);
    // The parameters stay, as PyTorch counts an unused module's.
    expect(shaped(src).nodes.some((n) => n.path === '0.conv3')).toBe(true);
  });

  it('warns at a block call whose output a later statement bypasses', () => {
    // x in the model is its input: the block's result is dropped.
    expect(
      warnings('block B {\n  conv(3, kernel = 1)\n}\nmodel M {\n  input [3, 8, 8]\n  B\n  x -> flatten linear(10)\n}'),
    ).toEqual(['warning W0201@6:3']);
  });

  it('warns at the tail of an unnamed chain that a later statement bypasses', () => {
    expect(warnings('model M {\n  input [3, 8, 8]\n  conv(3, kernel = 1) relu\n  x -> flatten linear(10)\n}')).toEqual([
      'warning W0201@3:23',
    ]);
  });

  it('warns where a named branch chains onto the previous branch (the Inception slip)', () => {
    const src = `block Inception(c) {
  b1 = x -> conv(c, kernel = 1) -> relu
  b2 = conv(c, kernel = 3, padding = 1) -> relu
  concat(b1, b2)
}
model M {
  input [3, 8, 8]
  Inception(2)
  Inception(2)
  flatten linear(10)
}`;
    const d = diag(src);
    expect(
      d.map(
        (x) =>
          `${x.severity} ${x.code}@${x.span!.file.position(x.span!.start).line}:${x.span!.file.position(x.span!.start).col}`,
      ),
    ).toEqual(['warning W0202@3:8']);
    expect(d[0]!.help).toContain('b2 = x -> ...');
  });

  it("does not warn where the chain starts from x, explicitly or implicitly (DenseNet's loop)", () => {
    const src = `block Dense(n) {
  repeat n {
    y = conv(4, kernel = 3, padding = 1)
    x = concat(x, y)
  }
}
model M {
  input [3, 8, 8]
  d = Dense(2)
  a = d -> conv(2, kernel = 1)
  b = d -> relu
  c = b -> relu
  concat(a, c) flatten linear(10)
}`;
    expect(warnings(src)).toEqual([]);
  });

  it('reports no warning for any model of dsl-examples/', () => {
    const dir = join(import.meta.dirname, '..', '..', 'dsl-examples');
    const checked: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.cnn'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/^model (\w+)/gm)) {
        // vgg-variants.cnn imports vgg-small.cnn.
        const r = analyze(f, text, { model: m[1]!, readFile: (path) => readFileSync(join(dir, path), 'utf8') });
        expect(r.diagnostics.all.map((d) => `${f} ${m[1]}: ${d.code} ${d.message}`)).toEqual([]);
        checked.push(m[1]!);
      }
    }
    expect(checked.length).toBeGreaterThan(20);
  });

  it('`cnnc check` prints the warnings and still exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-unused-'));
    try {
      const file = join(dir, 'm.cnn');
      writeFileSync(file, 'model M {\n  input [3, 8, 8]\n  conv(3, kernel = 1)\n  x -> flatten linear(10)\n}\n');
      let out = '';
      let err = '';
      const code = await main(['check', file], {
        out: (t) => {
          out += t;
        },
        err: (t) => {
          err += t;
        },
      });
      expect(code).toBe(0);
      expect(err).toContain('warning[W0201]');
      expect(err).toContain('m.cnn:3:3');
      expect(out).toContain('ok (model M');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
