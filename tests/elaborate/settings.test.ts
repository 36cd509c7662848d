// `--set NAME=VALUE` (FrontendOptions.settings): a model's parameters set from outside the file,
// each value parsed by the .cnn parser and evaluated as a default is; every error is located in the
// flag (the file `--set`) or, where the value is used, in the model. In-process, no GPU.
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { join } from 'node:path';
import { cnncInProcess, root } from '../helpers/cli.ts';

const source = `block vgg_block(num_convs, out_channels) {
  repeat num_convs { conv(out_channels, kernel = 3, padding = 1) relu }
  maxpool(2, stride = 2)
}
model VGG(arch = ((1, 4), (1, 8)), num_classes = 10, bias = true) {
  input [1, 16, 16]
  for (n, c) in arch { vgg_block(n, c) }
  flatten
  linear(32, bias = bias) relu
  linear(num_classes)
}`;

function shapes(...settings: string[]): string[] {
  const r = analyze('vgg.cnn', source, { settings });
  if (!r.shaped) throw new Error(renderDiagnostics(r.diagnostics.all));
  return r.shaped.nodes.map((n) => `${n.op}@${n.path} [${n.shape.join(', ')}]`);
}

function failure(...settings: string[]): string {
  const r = analyze('vgg.cnn', source, { settings });
  expect(r.shaped).toBeNull();
  return renderDiagnostics(r.diagnostics.all);
}

describe('--set overrides', () => {
  it('replaces defaults: a number, a nested tuple, a bool, several at once', () => {
    const plain = shapes();
    expect(plain.at(-1)).toBe('linear@5 [1, 10]');
    const set = shapes('num_classes=5', 'arch=((1, 2), (2, 6), (1, 3))', 'bias=false');
    expect(set.at(-1)).toBe('linear@6 [1, 5]');
    // Three blocks now, the second with two convs of 6 channels (at 8x8): 16 -> 8 -> 4 -> 2.
    expect(set).toContain('conv2d@1.2 [1, 6, 8, 8]');
    expect(set).toContain('maxpool2d@2.2 [1, 3, 2, 2]');
    const r = analyze('vgg.cnn', source, { settings: ['bias=false'] });
    expect(r.shaped!.nodes.find((n) => n.op === 'linear' && n.path === '3')!.attrs).toMatchObject({ bias: false });
  });

  it('evaluates the value as a .cnn expression (arithmetic, built-ins)', () => {
    expect(shapes('num_classes=2 * 3 + 1').at(-1)).toBe('linear@5 [1, 7]');
    expect(shapes('num_classes=len((1, 2, 3))').at(-1)).toBe('linear@5 [1, 3]');
  });

  it('names an unknown parameter in the flag, with a did-you-mean', () => {
    expect(failure('num_clases=5')).toBe(
      [
        '--set:1:1: error[E0203]: `model VGG` has no parameter `num_clases`',
        '  |',
        '1 | num_clases=5',
        '  | ^^^^^^^^^^',
        '  = help: did you mean `num_classes`?',
      ].join('\n'),
    );
    expect(failure('zzz=1')).toContain('help: its parameters are: arch, num_classes, bias');
  });

  it('refuses a parameter set twice', () => {
    expect(failure('num_classes=5', 'num_classes=6')).toContain(
      'error[E0203]: `model VGG` got two values for `num_classes`',
    );
  });

  it('locates syntax errors in the value', () => {
    expect(failure('num_classes=')).toMatch(
      /^--set:1:13: error\[E0110\]: unexpected end of the value: expected an expression/,
    );
    expect(failure('num_classes=5)')).toMatch(/^--set:1:14: error\[E0110\]: unexpected '\)' after the value/);
    expect(failure('arch=((1, 4), (1, 8)')).toMatch(/^--set:1:\d+: error\[E0110\]/);
    expect(failure('3=4')).toMatch(/^--set:1:1: error\[E0110\]: expected a name, found '3'/);
    expect(failure('num_classes')).toMatch(
      /^--set:1:1: error\[E0110\]: `--set num_classes` needs a value: --set num_classes=VALUE/,
    );
    expect(failure('num_classes=$')).toMatch(/^--set:1:13: error/);
  });

  it('refuses an unknown name in the value', () => {
    expect(failure('num_classes=ten')).toMatch(/^--set:1:13: error\[E0201\]: unknown name `ten`/);
  });

  it("refuses a value of another kind than the default's, pointing at the value", () => {
    expect(failure('num_classes=(1, 2)')).toMatch(
      /^--set:1:13: error\[E0204\]: `--set num_classes` expects a number like its default `10`, got a tuple `\(1, 2\)`/,
    );
    expect(failure('arch=4')).toMatch(
      /error\[E0204\]: `--set arch` expects a tuple like its default `\(\(1, 4\), \(1, 8\)\)`, got an int `4`/,
    );
    expect(failure('bias=1')).toMatch(/error\[E0204\]: `--set bias` expects a bool/);
  });

  it('reports a value the model cannot use where the model uses it', () => {
    expect(failure('num_classes=2.5')).toMatch(
      /^vgg.cnn:10:10: error\[E0204\]: `linear` argument `out` must be an integer, got a float 2.5/,
    );
    expect(failure('arch=((1, 0),)')).toMatch(/^vgg.cnn:/);
  });
});

describe('cnnc --set', () => {
  const lenet = join(root, 'dsl-examples', 'lenet.cnn');

  it('is taken by summary (repeatable, either form) and changes the model', async () => {
    const r = await cnncInProcess('summary', lenet, '--json', '--set', 'num_classes=3', '--set=num_classes=4');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('got two values for `num_classes`');
    const ok = await cnncInProcess('summary', lenet, '--json', '--set', 'num_classes=3');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).layers.at(-1).outputShape).toEqual([1, 3]);
  });

  it('exits 1 with the located error for a bad value', async () => {
    const r = await cnncInProcess('check', lenet, '--set', 'num_classes=(1,');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^--set:1:\d+: error\[E0110\]/);
  });
});
