// Runs `cnnc` as a user would (a child process through bin/cnnc.js) and checks output and exit codes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cnnc } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('cnnc summary', () => {
  it('prints LeNet as d2l does, with totals', () => {
    const r = cnnc('summary', 'dsl-examples/lenet.cnn');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const shapes = r.stdout
      .split('\n')
      .filter((l) => /^\d+ /.test(l))
      .map((l) => l.split(/\s{2,}/)[2]);
    expect(shapes).toEqual([
      '[1, 6, 28, 28]',
      '[1, 6, 28, 28]',
      '[1, 6, 14, 14]',
      '[1, 16, 10, 10]',
      '[1, 16, 10, 10]',
      '[1, 16, 5, 5]',
      '[1, 400]',
      '[1, 120]',
      '[1, 120]',
      '[1, 84]',
      '[1, 84]',
      '[1, 10]',
    ]);
    expect(r.stdout).toContain('total params: 61,706');
  });

  it('--json gives the documented fields', () => {
    const r = cnnc('summary', 'dsl-examples/lenet.cnn', '--json', '--input', '2,1,28,28');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      input: number[];
      layers: { name: string; op: string; outputShape: number[]; params: number }[];
      totalParams: number;
    };
    expect(j.input).toEqual([2, 1, 28, 28]);
    expect(j.layers[0]).toMatchObject({ name: '0', op: 'Conv2d', outputShape: [2, 6, 28, 28], params: 156 });
    expect(j.layers.at(-1)!.outputShape).toEqual([2, 10]);
    expect(j.totalParams).toBe(61706);
  });

  it('collapses blocks by default and expands them with --expand', () => {
    const collapsed = JSON.parse(cnnc('summary', 'dsl-examples/vgg.cnn', '--json').stdout) as {
      layers: { op: string; outputShape: number[] }[];
    };
    expect(collapsed.layers.slice(0, 5).map((l) => [l.op, l.outputShape.join('x')])).toEqual([
      ['vgg_block', '1x64x112x112'],
      ['vgg_block', '1x128x56x56'],
      ['vgg_block', '1x256x28x28'],
      ['vgg_block', '1x512x14x14'],
      ['vgg_block', '1x512x7x7'],
    ]);
    const expanded = JSON.parse(cnnc('summary', 'dsl-examples/vgg.cnn', '--json', '--expand').stdout) as {
      layers: { name: string }[];
    };
    expect(expanded.layers[0]!.name).toBe('0.0');
    expect(expanded.layers.length).toBeGreaterThan(collapsed.layers.length);
  });
});

describe('cnnc errors', () => {
  it('reports a user error with file:line:col, the source line and a caret, exit 1, no stack trace', () => {
    const p = file('bad.cnn', 'model M {\n  input [1, 4, 4]\n  conv(2, kernel = 7)\n}\n');
    const r = cnnc('check', p);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${p}:3:3: error[E0302]`);
    expect(r.stderr).toContain('3 |   conv(2, kernel = 7)');
    expect(r.stderr).toContain('  |   ^^^^^^^^^^^^^^^^^^^');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('check passes a good file', () => {
    const r = cnnc('check', 'dsl-examples/lenet.cnn');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok/);
  });

  it.each([
    [['summary', 'no/such/file.cnn'], 'cnnc: cannot read no/such/file.cnn: no such file or directory'],
    [['summary', 'dsl-examples'], 'cnnc: cannot read dsl-examples: it is a directory'],
    [['frobnicate', 'x.cnn'], "cnnc: unknown command 'frobnicate'"],
    [['summary'], "cnnc: 'summary' needs a .cnn FILE"],
    [['summary', 'dsl-examples/lenet.cnn', '--input', '1,2,3'], 'cnnc: --input expects N,C,H,W or N,C,D,H,W or N,F'],
    [
      ['summary', 'dsl-examples/lenet.cnn', '--bogus'],
      'cnnc summary: unknown option --bogus (cnnc summary --help lists its options)',
    ],
    [['summary', 'dsl-examples/lenet.cnn', '--model', 'Nope'], 'no model named `Nope`'],
  ])('cnnc %j fails clearly', (args, message) => {
    const r = cnnc(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n').length).toBeLessThan(8);
  });

  it('--help prints usage and exits 0', () => {
    const r = cnnc('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: cnnc');
  });
});

describe('cnnc across an import', () => {
  type Summary = { model: string; parameters: { name: string; shape: number[] }[]; totalParams: number };
  const summary = (path: string): Summary => JSON.parse(cnnc('summary', path, '--params', '--json').stdout) as Summary;

  it('checks and summarises vgg-variants.cnn, which imports vgg-small.cnn: the same state_dict as its VGG', () => {
    expect(cnnc('check', 'dsl-examples/vgg-variants.cnn').code).toBe(0);
    const variant = summary('dsl-examples/vgg-variants.cnn');
    const vgg = summary('dsl-examples/vgg-small.cnn');
    expect(variant.model).toBe('VGGAct');
    expect(variant.parameters.map((p) => `${p.name} ${p.shape.join('x')}`)).toEqual(
      vgg.parameters.map((p) => `${p.name} ${p.shape.join('x')}`),
    );
    expect(variant.parameters.map((p) => p.name).slice(0, 4)).toEqual([
      '0.0.weight',
      '0.0.bias',
      '1.0.weight',
      '1.0.bias',
    ]);
    expect(variant.totalParams).toBe(vgg.totalParams);
  });

  it('reads imports relative to the importing file, and locates errors in the imported one', () => {
    mkdirSync(join(tmp, 'lib'), { recursive: true });
    file(
      'lib/blocks.cnn',
      'block stem(act = relu) {\n  conv(4, kernel = 3) act\n}\nblock broken {\n  conv(4, kernel = 0)\n}\n',
    );
    const ok = file(
      'uses-stem.cnn',
      'import "lib/blocks.cnn"\nmodel M {\n  input [1, 8, 8]\n  stem(act = leaky_relu(0.1))\n  flatten\n  linear(2)\n}\n',
    );
    const r = cnnc('summary', ok);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('total params: 330');
    const bad = file('uses-broken.cnn', 'import "lib/blocks.cnn"\nmodel M {\n  input [1, 8, 8]\n  broken()\n}\n');
    const e = cnnc('check', bad);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${join(tmp, 'lib/blocks.cnn')}:5:11: error[E0211]`);
    expect(e.stderr).toContain(`in block \`broken\` called here (${bad}:4:3)`);
    const missing = file('uses-missing.cnn', 'import "lib/nope.cnn"\nmodel M {\n  input [4]\n  relu\n}\n');
    const m = cnnc('check', missing);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(
      `${missing}:1:8: error[E0230]: cannot import \`lib/nope.cnn\`: cannot read ${join(tmp, 'lib/nope.cnn')}: no such file or directory`,
    );
  });
});
