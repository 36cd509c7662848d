// Reuse and variation (issue 16, item 6): layers passed as block arguments and called as stages,
// and a model used as a block inside another model.
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { errors, shaped } from '../helpers/cnn.ts';

const vggBlock = `block vgg_block(num_convs, out_channels, act = relu) {
  repeat num_convs { conv(out_channels, kernel = 3, padding = 1) act }
  maxpool(2, stride = 2)
}
`;

/** `op@path` of every layer, with a leaky ReLU's slope. */
function layers(src: string): string[] {
  return shaped(src)
    .nodes.filter((n) => n.op !== 'input')
    .map((n) => {
      const slope = n.op === 'leaky_relu' ? `(${(n.attrs as { slope: number }).slope})` : '';
      return `${n.op}${slope}@${n.path}`;
    });
}

/** Every parameter's state_dict name and shape. */
function params(src: string): string[] {
  return shaped(src)
    .nodes.flatMap((n) => n.params)
    .map((p) => `${p.name} [${p.shape.join(', ')}]`);
}

function rendered(src: string): string {
  return renderDiagnostics(analyze('t.cnn', src).diagnostics.all);
}

describe('layers as block arguments', () => {
  it('calls the default activation, a bare layer and a layer with arguments', () => {
    expect(
      layers(`${vggBlock}model M {
  input [1, 8, 8]
  vgg_block(1, 4)
  vgg_block(2, 4, act = sigmoid)
  vgg_block(1, 4, act = leaky_relu(0.1))
}`),
    ).toEqual([
      'conv2d@0.0',
      'relu@0.1',
      'maxpool2d@0.2',
      'conv2d@1.0',
      'sigmoid@1.1',
      'conv2d@1.2',
      'sigmoid@1.3',
      'maxpool2d@1.4',
      'conv2d@2.0',
      'leaky_relu(0.1)@2.1',
      'maxpool2d@2.2',
    ]);
  });

  it('takes a layer positionally, from a model parameter with a keyword argument kept, and a call adding more', () => {
    expect(
      layers(`${vggBlock}model M(act = leaky_relu(slope = 0.2), bare = leaky_relu) {
  input [1, 8, 8]
  vgg_block(1, 4, tanh)
  vgg_block(1, 4, act = act)
  act
  bare(0.3)
}`),
    ).toEqual([
      'conv2d@0.0',
      'tanh@0.1',
      'maxpool2d@0.2',
      'conv2d@1.0',
      'leaky_relu(0.2)@1.1',
      'maxpool2d@1.2',
      'leaky_relu(0.2)@2',
      'leaky_relu(0.3)@3',
    ]);
  });

  it('passes blocks as values too, and a layer value applied to an explicit tensor', () => {
    expect(
      layers(`${vggBlock}block twice(b) { b b }
model M(act = leaky_relu(0.5)) {
  input [1, 8, 8]
  twice(b = vgg_block(1, 4))
  y = conv(4, kernel = 1)
  z = act(y)
}`),
    ).toEqual([
      'conv2d@0.0.0',
      'relu@0.0.1',
      'maxpool2d@0.0.2',
      'conv2d@0.1.0',
      'relu@0.1.1',
      'maxpool2d@0.1.2',
      'conv2d@1',
      'leaky_relu(0.5)@2',
    ]);
  });

  it('loops over layers', () => {
    expect(
      layers(`model M {
  input [1, 4, 4]
  for act in (relu, tanh, leaky_relu(0.2)) { conv(2, kernel = 1) act }
}`),
    ).toEqual(['conv2d@0', 'relu@1', 'conv2d@2', 'tanh@3', 'conv2d@4', 'leaky_relu(0.2)@5']);
  });

  it('refuses a number where a layer is used as a stage, at the stage, naming the call', () => {
    const src = `${vggBlock}model M {
  input [1, 8, 8]
  vgg_block(1, 4, act = 3)
}`;
    expect(errors(src)).toEqual(['E0210@2:66']);
    const text = rendered(src);
    expect(text).toContain('`act` is an int (3), not a layer');
    expect(text).toContain('in block `vgg_block` called here (t.cnn:7:3)');
  });

  it('says the same of a name alone on its line', () => {
    const src = 'block b(act) {\n  conv(2, kernel = 1)\n  act\n}\nmodel M {\n  input [1, 4, 4]\n  b(act = "relu")\n}';
    expect(errors(src)).toEqual(['E0210@3:3']);
    expect(rendered(src)).toContain('`act` is a string ("relu"), not a layer');
  });

  it('locates a bad argument of a layer value where it was written', () => {
    expect(
      errors(`${vggBlock}model M {
  input [1, 8, 8]
  vgg_block(1, 4, act = leaky_relu(slope = true))
}`),
    ).toEqual(['E0204@7:36']);
    expect(
      errors(`${vggBlock}model M {
  input [1, 8, 8]
  vgg_block(1, 4, act = leaky_relu(0.1, 2))
}`),
    ).toEqual(['E0203@7:41']);
  });

  it('refuses a tensor held in a layer value, and a layer value in arithmetic', () => {
    expect(
      errors(`${vggBlock}model M {
  input [1, 8, 8]
  vgg_block(1, 4, act = leaky_relu(x))
}`),
    ).toEqual(['E0210@7:36']);
    expect(
      errors(`model M {
  input [4]
  n = 1 + relu
  linear(2)
}`),
    ).toEqual(['E0204@3:7']);
  });
});

describe('a model as a block', () => {
  const small = `model Small(num_classes = 10) {
  input [1, 28, 28]
  conv(4, kernel = 3) relu
  flatten
  linear(num_classes)
}
`;

  it("is one index with its own numbering inside; its input is the stage's, its parameters overridable", () => {
    const src = `${small}model Big {
  input [3, 8, 8]
  conv(2, kernel = 1)
  Small(num_classes = 5)
}`;
    expect(params(src)).toEqual([
      '0.weight [2, 3, 1, 1]',
      '0.bias [2]',
      '1.0.weight [4, 2, 3, 3]',
      '1.0.bias [4]',
      '1.3.weight [5, 144]',
      '1.3.bias [5]',
    ]);
    expect(shaped(src).model).toBe('Big');
  });

  it('is still a model of its own, and `--model` picks it', () => {
    expect(params(`${small}model Big {\n  input [1, 8, 8]\n  Small()\n}`)).toHaveLength(4);
    expect(shaped(`${small}model Big {\n  input [1, 8, 8]\n  Small()\n}`, { model: 'Small' }).nodes[0]!.shape).toEqual([
      1, 1, 28, 28,
    ]);
  });

  it('refuses a model that uses itself', () => {
    expect(errors(`model A {\n  input [1, 4, 4]\n  A()\n}`)).toEqual(['E0205@3:3']);
  });
});
