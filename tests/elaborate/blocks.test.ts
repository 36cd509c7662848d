// Elaboration: blocks, loops, conditionals, named values and parameter paths, checked on the printed IR.
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { errors, shaped } from '../helpers/cnn.ts';

function ir(src: string): string {
  const r = analyze('t.cnn', src);
  if (!r.graph) throw new Error(r.diagnostics.all.map((d) => d.message).join('\n'));
  return printGraph(r.graph);
}

const paths = (src: string): string[] =>
  shaped(src)
    .nodes.filter((n) => n.op !== 'input')
    .map((n) => `${n.op}@${n.path}`);

describe('elaboration', () => {
  it('expands a block with repeat, numbering layers as nn.Sequential does', () => {
    expect(
      ir(`block vgg_block(num_convs, out_channels) {
  repeat num_convs { conv(out_channels, kernel = 3, padding = 1) relu }
  maxpool(2, stride = 2)
}
model M {
  input [1, 8, 8]
  vgg_block(2, 4)
  flatten
}`),
    ).toBe(`graph M {
  %0 = input() shape=(1, 8, 8)  # 6:3
  %1 = conv2d(%0) outChannels=4 kernel=3 stride=1 padding=1 dilation=1 groups=1 bias=true  @0.0  # 2:22
  %2 = relu(%1)  @0.1  # 2:66
  %3 = conv2d(%2) outChannels=4 kernel=3 stride=1 padding=1 dilation=1 groups=1 bias=true  @0.2  # 2:22
  %4 = relu(%3)  @0.3  # 2:66
  %5 = maxpool2d(%4) kernel=2 stride=2 padding=0 dilation=1 ceilMode=false  @0.4  # 3:3
  %6 = flatten(%5)  @1  # 8:3
  return %6
}`);
  });

  it('runs for loops with destructuring and enumerate', () => {
    const src = `model M(arch = ((1, 4), (2, 8))) {
  input [1, 8, 8]
  for (i, (n, c)) in enumerate(arch) {
    repeat j in n { conv(c + i * 100 + j, kernel = 1) }
  }
}`;
    expect(
      shaped(src)
        .nodes.slice(1)
        .map((n) => (n.attrs as { outChannels: number }).outChannels),
    ).toEqual([4, 108, 109]);
  });

  it('evaluates arithmetic, comparisons, ternaries, indexing and builtins on parameters', () => {
    const src = `block B(c, flag = false) {
  conv(flag ? c * 2 : c // 2, kernel = (c % 3) + 1)
  conv(len((1, 2, 3)) + max(1, 5) + min((7, 4)), kernel = 1)
  conv((4, 5, 6)[-1] - (2 > 1 and not (1 == 2) ? 1 : 0), kernel = 1)
}
model M {
  input [1, 9, 9]
  B(4)
  B(4, flag = true)
}`;
    expect(
      shaped(src)
        .nodes.slice(1)
        .map((n) => (n.attrs as { outChannels: number }).outChannels),
    ).toEqual([2, 12, 5, 8, 12, 5]);
  });

  it('builds a residual graph from named values, labels and if-expressions (d2l Residual)', () => {
    const src = `block Residual(num_channels, use_1x1conv = false, strides = 1) {
  y = x -> conv(num_channels, kernel = 3, padding = 1, stride = strides) as conv1 -> batchnorm as bn1 -> relu
        -> conv(num_channels, kernel = 3, padding = 1) as conv2 -> batchnorm as bn2
  shortcut = if use_1x1conv { x -> conv(num_channels, kernel = 1, stride = strides) as conv3 } else { x }
  relu(y + shortcut)
}
model M {
  input [3, 6, 6]
  Residual(3)
  Residual(6, use_1x1conv = true, strides = 2)
}`;
    expect(paths(src)).toEqual([
      'conv2d@0.conv1',
      'batchnorm@0.bn1',
      'relu@0.2',
      'conv2d@0.conv2',
      'batchnorm@0.bn2',
      'add@0',
      'relu@0.5',
      'conv2d@1.conv1',
      'batchnorm@1.bn1',
      'relu@1.2',
      'conv2d@1.conv2',
      'batchnorm@1.bn2',
      'conv2d@1.conv3',
      'add@1',
      'relu@1.6',
    ]);
    const g = shaped(src, { batch: 4 });
    const add = g.nodes.find((n) => n.op === 'add')!;
    expect(add.inputs).toEqual([5, 0]); // bn2 + the block input itself: the identity shortcut
    expect([...g.nodes[g.output]!.shape]).toEqual([4, 6, 3, 3]);
  });

  it('shares one value between branches (a value used twice)', () => {
    const g = shaped('model M {\n  input [2, 4, 4]\n  y = relu\n  y + y\n}');
    const add = g.nodes.find((n) => n.op === 'add')!;
    expect(add.inputs).toEqual([1, 1]);
  });

  it('binds plain values without changing the current tensor', () => {
    expect(paths('model M {\n  input [2, 4, 4]\n  c = 3 * 2\n  conv(c, kernel = 1)\n}')).toEqual(['conv2d@0']);
  });

  it('uses the last model by default and --model to pick another', () => {
    const src = 'model A {\n  input [1, 4, 4]\n  relu\n}\nmodel B {\n  input [1, 4, 4]\n  sigmoid\n}\n';
    expect(analyze('t.cnn', src).shaped!.model).toBe('B');
    expect(analyze('t.cnn', src, { model: 'A' }).shaped!.model).toBe('A');
  });
});

describe('elaboration errors', () => {
  it.each([
    ['unknown layer with a suggestion', 'model M {\n  input [1, 4, 4]\n  cnov(3, kernel = 1)\n}', 'E0202@3:3'],
    ['unknown name', 'model M {\n  input [1, 4, 4]\n  conv(chanels, kernel = 1)\n}', 'E0201@3:8'],
    ['missing required argument', 'model M {\n  input [1, 4, 4]\n  conv(3)\n}', 'E0203@3:3'],
    ['unknown keyword argument', 'model M {\n  input [1, 4, 4]\n  conv(3, kernel = 1, strid = 2)\n}', 'E0203@3:23'],
    ['too many positional arguments', 'model M {\n  input [1, 4, 4]\n  linear(3, true, 4)\n}', 'E0203@3:19'],
    ['wrong argument type', 'model M {\n  input [1, 4, 4]\n  conv(3, kernel = "big")\n}', 'E0204@3:11'],
    ['non-integer channels', 'model M {\n  input [1, 4, 4]\n  conv(2.5, kernel = 1)\n}', 'E0204@3:8'],
    ['dropout p out of range', 'model M {\n  input [1, 4, 4]\n  dropout(1.5)\n}', 'E0211@3:11'],
    [
      'block calling itself',
      'block B(c) {\n  conv(c, kernel = 1)\n  B(c)\n}\nmodel M {\n  input [1, 4, 4]\n  B(2)\n}',
      'E0205@3:3',
    ],
    [
      'blocks calling each other',
      'block A {\n  B\n}\nblock B {\n  A\n}\nmodel M {\n  input [1, 4, 4]\n  A\n}',
      'E0205@5:3',
    ],
    [
      'duplicate block',
      'block A {\n  relu\n}\nblock A {\n  relu\n}\nmodel M {\n  input [1, 4, 4]\n  A\n}',
      'E0206@4:7',
    ],
    ['block shadowing a layer', 'block conv {\n  relu\n}\nmodel M {\n  input [1, 4, 4]\n}', 'E0206@1:7'],
    ['no model', 'block A {\n  relu\n}', 'E0208@1:1'],
    ['model without input', 'model M {\n  relu\n}', 'E0207@2:3'],
    ['input in a block', 'block A {\n  input [1, 2, 2]\n}\nmodel M {\n  input [1, 4, 4]\n  A\n}', 'E0207@2:3'],
    ['tensor arithmetic other than +', 'model M {\n  input [1, 4, 4]\n  y = relu\n  y * y\n}', 'E0204@4:3'],
    ['a value as a later stage', 'model M {\n  input [1, 4, 4]\n  relu -> 3\n}', 'E0210@3:11'],
    ['non-bool condition', 'model M {\n  input [1, 4, 4]\n  if 1 { relu }\n}', 'E0204@3:6'],
    ['index out of range', 'model M(a = (1, 2)) {\n  input [1, 4, 4]\n  conv(a[2], kernel = 1)\n}', 'E0211@3:8'],
    ['unbounded repeat', 'model M {\n  input [1, 4, 4]\n  repeat 1000000 { relu }\n}', 'E0211@3:10'],
    [
      'model used as a block with two tensors',
      'model A {\n  input [4]\n  relu\n}\nmodel M {\n  input [4]\n  y = relu\n  A(x, y)\n}',
      'E0203@8:3',
    ],
    ['bad train setting', 'model M {\n  input [1, 4, 4]\n}\ntrain {\n  batchsize 3\n}', 'E0209@5:3'],
    ['bad optimizer', 'model M {\n  input [1, 4, 4]\n}\ntrain {\n  optimizer sdg(lr = 0.1)\n}', 'E0209@5:13'],
  ])('%s', (_d, src, expected) => {
    expect(errors(src)).toEqual([expected]);
  });

  it('notes the block instantiation chain on errors inside blocks', () => {
    const r = analyze('t.cnn', 'block A(c) {\n  conv(c, kernel = 9)\n}\nmodel M {\n  input [1, 4, 4]\n  A(2)\n}');
    const d = r.diagnostics.all[0]!;
    expect(d.code).toBe('E0302');
    expect(d.notes.map((n) => n.message)).toContain('in block `A` called here');
  });
});
