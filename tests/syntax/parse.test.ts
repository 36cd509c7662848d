import { describe, it, expect } from 'vitest';
import { SourceFile } from '../../compiler/diagnostics/source.ts';
import { parse } from '../../compiler/syntax/index.ts';
import { printBody, printExpr, printProgram, printStmt } from '../../compiler/syntax/print.ts';
import type { Program } from '../../compiler/syntax/ast.ts';

function parseOk(text: string): Program {
  const { program, diagnostics } = parse(new SourceFile('test.cnn', text));
  expect(diagnostics.map((d) => d.message)).toEqual([]);
  return program;
}

/** The statements of a one-model file whose body is `src`, printed. */
function stmts(src: string): string {
  const body = parseOk(`model M {\n${src}\n}\n`).defs[0]?.body;
  return body === undefined ? '<none>' : printBody(body).slice(1, -1);
}

/** A single expression, parsed as the right side of an assignment. */
function expr(src: string): string {
  const stmt = parseOk(`model M {\n  e = ${src}\n}\n`).defs[0]?.body.stmts[0];
  if (stmt?.kind !== 'assign' || stmt.value.stages.length !== 1) return '<not one stage>';
  return printExpr(stmt.value.stages[0]!.expr);
}

/** `line:col code message` for each diagnostic. */
function errors(text: string): string[] {
  const file = new SourceFile('test.cnn', text);
  return parse(file).diagnostics.map((d) => {
    const at = d.span === undefined ? { line: 0, col: 0 } : file.position(d.span.start);
    return `${at.line}:${at.col} ${d.code} ${d.message}`;
  });
}

describe('expressions', () => {
  it.each([
    ['3', '3'],
    ['0.5', '0.5'],
    ['1e-5', '0.00001'],
    ['3e2', '300'],
    ['"fashion_mnist"', '"fashion_mnist"'],
    ['"a\\"b\\\\c"', '"a\\"b\\\\c"'],
    ['true', 'true'],
    ['false', 'false'],
    ['num_classes', 'num_classes'],
    [
      'inputs + iffy + in_c + notes + android + as_ + model2',
      '(+ (+ (+ (+ (+ (+ inputs iffy) in_c) notes) android) as_) model2)',
    ],
    ['(a)', 'a'],
    ['(a, b)', '(tuple a b)'],
    ['(a,)', '(tuple a)'],
    ['((2, 64), (2, 128))', '(tuple (tuple 2 64) (tuple 2 128))'],
    ['[]', '[]'],
    ['[1, 28, 28]', '[1 28 28]'],
    ['[1, 2,]', '[1 2]'],
    ['-x', '(- x)'],
    ['--x', '(- (- x))'],
    ['not a', '(not a)'],
    ['a + b * c', '(+ a (* b c))'],
    ['(a + b) * c', '(* (+ a b) c)'],
    ['a - b - c', '(- (- a b) c)'],
    ['a * b / c // d % e', '(% (// (/ (* a b) c) d) e)'],
    ['-a * b', '(* (- a) b)'],
    ['a - -b', '(- a (- b))'],
    ['a == b', '(== a b)'],
    ['a != b', '(!= a b)'],
    ['a < b + 1', '(< a (+ b 1))'],
    ['a <= b', '(<= a b)'],
    ['a > b', '(> a b)'],
    ['a >= b', '(>= a b)'],
    ['not a == b', '(not (== a b))'],
    ['a and b or c and d', '(or (and a b) (and c d))'],
    ['not a and not b', '(and (not a) (not b))'],
    ['a or b or c', '(or (or a b) c)'],
    ['c ? a : b', '(? c a b)'],
    ['c ? a : d ? e : f', '(? c a (? d e f))'],
    ['x > 0 or y ? 1 + 2 : 3', '(? (or (> x 0) y) (+ 1 2) 3)'],
    ['c2[0]', '(index c2 0)'],
    ['arch[i][1]', '(index (index arch i) 1)'],
    ['f()', '(call f)'],
    ['conv(6, kernel = 5, padding = 2)', '(call conv 6 kernel=5 padding=2)'],
    ['f(a,)', '(call f a)'],
    ['f(x)(y)[0]', '(index (call (call f x) y) 0)'],
    ['resnet_stage(n, c, first_block = i == 0)', '(call resnet_stage n c first_block=(== i 0))'],
    ['f(k = c ? 1 : 2)', '(call f k=(? c 1 2))'],
    ['-f(x)[0]', '(- (index (call f x) 0))'],
    ['len(arch) - 1', '(- (call len arch) 1)'],
    ['if a { b }', '(if a {(-> b)})'],
    ['if a { b } else { c }', '(if a {(-> b)} else {(-> c)})'],
    ['if a { b } else if c { d } else { e }', '(if a {(-> b)} else {(if c {(-> d)} else {(-> e)})})'],
    [
      'if use_1x1conv { x -> conv(c, kernel = 1) } else { x }',
      '(if use_1x1conv {(-> x (call conv c kernel=1))} else {(-> x)})',
    ],
  ])('%s', (src, want) => {
    expect(expr(src)).toBe(want);
  });
});

describe('statements', () => {
  it.each([
    ['input [1, 28, 28]', '(input 1 28 28)'],
    ['input [784]', '(input 784)'],
    ['flatten', '(-> flatten)'],
    ['conv(6, kernel = 5) sigmoid', '(-> (call conv 6 kernel=5) sigmoid)'],
    ['conv(6) -> sigmoid', '(-> (call conv 6) sigmoid)'],
    ['a - b', '(-> (- a b))'],
    ['a -b', '(-> (- a b))'],
    ['relu(y + shortcut)', '(-> (call relu (+ y shortcut)))'],
    [
      'conv(c, kernel = 3) as conv1 -> batchnorm as bn1 relu',
      '(-> (as (call conv c kernel=3) conv1) (as batchnorm bn1) relu)',
    ],
    ['c = out_channels * 2', '(= c (-> (* out_channels 2)))'],
    ['y = x -> conv(6) relu', '(= y (-> x (call conv 6) relu))'],
    ['repeat n { conv(c, kernel = 3) relu }', '(repeat n {(-> (call conv c kernel=3) relu)})'],
    ['repeat j in n { linear(j) }', '(repeat j in n {(-> (call linear j))})'],
    ['repeat 2 {}', '(repeat 2 {})'],
    ['for c in [64, 128] { conv(c) }', '(for c in [64 128] {(-> (call conv c))})'],
    ['for (i, (n, c)) in enumerate(arch) { s(n, c) }', '(for (i (n c)) in (call enumerate arch) {(-> (call s n c))})'],
    ['for (i) in range(3) { relu }', '(for i in (call range 3) {(-> relu)})'],
    ['if a { relu }', '(if a {(-> relu)})'],
    ['if a { relu } else { sigmoid }', '(if a {(-> relu)} else {(-> sigmoid)})'],
    [
      'if a { relu } else if b { tanh } else { sigmoid }',
      '(if a {(-> relu)} else {(if b {(-> tanh)} else {(-> sigmoid)})})',
    ],
    ['if a { x } else { y } -> relu', '(-> (if a {(-> x)} else {(-> y)}) relu)'],
    ['if a { x } as branch', '(-> (as (if a {(-> x)}) branch))'],
    ['repeat 2 { repeat 3 { relu } }', '(repeat 2 {(repeat 3 {(-> relu)})})'],
    ['repeat 2 {\n  conv(3)\n  relu\n}', '(repeat 2 {(-> (call conv 3)); (-> relu)})'],
  ])('%s', (src, want) => {
    expect(stmts(src)).toBe(want);
  });
});

describe('newlines', () => {
  it.each([
    ['-> at the end of a line', 'y = x ->\n  relu', '(= y (-> x relu))'],
    ['-> at the start of a line', 'y = x\n  -> relu\n  -> sigmoid', '(= y (-> x relu sigmoid))'],
    ['= at the end of a line', 'y =\n  x relu', '(= y (-> x relu))'],
    ['a binary operator at the end of a line', 'c = a +\n  b', '(= c (-> (+ a b)))'],
    ['and at the end of a line', 'c = a and\n  b', '(= c (-> (and a b)))'],
    ['ternary over lines', 'c = a ?\n  b :\n  d', '(= c (-> (? a b d)))'],
    [
      'arguments over several lines',
      'conv(6,\n  kernel = 5,\n  padding = 2,\n)',
      '(-> (call conv 6 kernel=5 padding=2))',
    ],
    ['a list over lines', 'input [\n  1,\n  28, 28\n]', '(input 1 28 28)'],
    ['else on the next line', 'if a { b }\nelse { c }', '(if a {(-> b)} else {(-> c)})'],
    [
      'else if on the next lines',
      'if a { b }\nelse if c { d }\nelse { e }',
      '(if a {(-> b)} else {(if c {(-> d)} else {(-> e)})})',
    ],
    ['a newline ends a pipeline', 'conv(6)\nrelu', '(-> (call conv 6)); (-> relu)'],
    ['a newline ends an if', 'if a { b }\nrelu', '(if a {(-> b)}); (-> relu)'],
    ['blank and comment lines', 'relu\n\n# comment\n\n  # another\nsigmoid # trailing', '(-> relu); (-> sigmoid)'],
    ['a body over lines', 'repeat n {\n\n  conv(3)\n\n}\nrelu', '(repeat n {(-> (call conv 3))}); (-> relu)'],
    [
      'if expression over lines',
      's = if a {\n  x -> conv(1)\n} else {\n  x\n}',
      '(= s (-> (if a {(-> x (call conv 1))} else {(-> x)})))',
    ],
    ['braces inside parentheses', 'f(if a {\n  b\n  c\n})', '(-> (call f (if a {(-> b); (-> c)})))'],
    ['CRLF line ends', 'conv(6)\r\nrelu\r\n', '(-> (call conv 6)); (-> relu)'],
  ])('%s', (_name, src, want) => {
    expect(stmts(src)).toBe(want);
  });

  it('// is floor division, even at the end of a line', () => {
    expect(stmts('c = a //\n  2')).toBe('(= c (-> (// a 2)))');
  });
});

describe('definitions and train', () => {
  it.each([
    ['model M {}', '(model M () {})'],
    ['block B() { relu }', '(block B () {(-> relu)})'],
    ['block B(a, b = 2, c = (1, 2),) {\n}', '(block B (a b=2 c=(tuple 1 2)) {})'],
    ['model A {}\nblock B {}\n\n\nmodel C {}', '(model A () {})\n(block B () {})\n(model C () {})'],
    ['train {}', '(train)'],
    [
      'train { data fashion_mnist(resize = 96)  batch 128  epochs 10 }',
      '(train data=(call fashion_mnist resize=96) batch=128 epochs=10)',
    ],
    [
      'train {\n  data "path/to/idx"\n\n  batch 256  epochs 10  optimizer sgd(lr = 0.1)  init xavier_uniform\n  seed 0\n}',
      '(train data="path/to/idx" batch=256 epochs=10 optimizer=(call sgd lr=0.1) init=xavier_uniform seed=0)',
    ],
    ['train { lr 1e-3 }\nmodel M {}', '(train lr=0.001)\n(model M () {})'],
  ])('%s', (src, want) => {
    expect(printProgram(parseOk(src))).toBe(want);
  });
});

describe('spans', () => {
  const text = 'model LeNet(n = 10) {\n  conv(6, kernel = 5) as c1 sigmoid\n}\n';
  const program = parseOk(text);
  const slice = (s: { start: number; end: number }): string => text.slice(s.start, s.end);
  const def = program.defs[0]!;
  const stmt = def.body.stmts[0]!;

  it('covers definitions, bodies and names', () => {
    expect(slice(def.span)).toBe(text.trimEnd());
    expect(slice(def.name.span)).toBe('LeNet');
    expect(slice(def.params[0]!.span)).toBe('n = 10');
    expect(slice(def.body.span)).toBe(text.slice(text.indexOf('{')).trimEnd());
    expect(program.span).toEqual({ file: program.span.file, start: 0, end: text.length });
  });

  it('covers stages, calls, arguments and labels', () => {
    expect(stmt.kind).toBe('pipeline');
    if (stmt.kind !== 'pipeline') return;
    expect(slice(stmt.span)).toBe('conv(6, kernel = 5) as c1 sigmoid');
    const [first, second] = stmt.pipeline.stages;
    expect(slice(first!.span)).toBe('conv(6, kernel = 5) as c1');
    expect(slice(first!.expr.span)).toBe('conv(6, kernel = 5)');
    expect(slice(first!.label!.span)).toBe('c1');
    expect(slice(second!.span)).toBe('sigmoid');
    const call = first!.expr;
    if (call.kind !== 'call') throw new Error('expected a call');
    expect(slice(call.args[1]!.span)).toBe('kernel = 5');
    expect(slice(call.args[1]!.name!.span)).toBe('kernel');
  });

  it('covers binary expressions and parentheses', () => {
    const text2 = 'model M {\n  e = (a + b) * c\n}';
    const s = parseOk(text2).defs[0]!.body.stmts[0]!;
    if (s.kind !== 'assign') throw new Error('expected an assignment');
    const e = s.value.stages[0]!.expr;
    expect(text2.slice(e.span.start, e.span.end)).toBe('(a + b) * c');
    if (e.kind !== 'binary') throw new Error('expected a binary expression');
    expect(text2.slice(e.left.span.start, e.left.span.end)).toBe('(a + b)');
  });
});

/** Each definition as its header followed by its statements, one string each. */
function outline(program: Program): string[][] {
  return program.defs.map((d) => [
    `${d.kind} ${d.name.name}(${d.params.map((p) => (p.default === null ? p.name.name : `${p.name.name}=${printExpr(p.default)}`)).join(' ')})`,
    ...d.body.stmts.map(printStmt),
  ]);
}

function trainLines(program: Program): string[] {
  return printProgram({ ...program, defs: [] }).split('\n');
}

describe('d2l programs', () => {
  it('LeNet (docs/language.md)', () => {
    const program = parseOk(`# d2l 7.6: LeNet
model LeNet(num_classes = 10) {
  input [1, 28, 28]
  conv(6, kernel = 5, padding = 2) sigmoid
  avgpool(2, stride = 2)
  conv(16, kernel = 5) sigmoid
  avgpool(2, stride = 2)
  flatten
  linear(120) sigmoid
  linear(84) sigmoid
  linear(num_classes)
}

train {
  data fashion_mnist
  batch 256  epochs 10  optimizer sgd(lr = 0.1)  init xavier_uniform
}
`);
    expect(outline(program)).toEqual([
      [
        'model LeNet(num_classes=10)',
        '(input 1 28 28)',
        '(-> (call conv 6 kernel=5 padding=2) sigmoid)',
        '(-> (call avgpool 2 stride=2))',
        '(-> (call conv 16 kernel=5) sigmoid)',
        '(-> (call avgpool 2 stride=2))',
        '(-> flatten)',
        '(-> (call linear 120) sigmoid)',
        '(-> (call linear 84) sigmoid)',
        '(-> (call linear num_classes))',
      ],
    ]);
    expect(trainLines(program)).toEqual([
      '(train data=fashion_mnist batch=256 epochs=10 optimizer=(call sgd lr=0.1) init=xavier_uniform)',
    ]);
  });

  it('vgg_block and VGG', () => {
    const program = parseOk(`# d2l 8.2: VGG
block vgg_block(num_convs, out_channels) {
  repeat num_convs { conv(out_channels, kernel = 3, padding = 1) relu }
  maxpool(2, stride = 2)
}

model VGG(arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)), num_classes = 10) {
  input [1, 224, 224]
  for (num_convs, out_channels) in arch {
    vgg_block(num_convs, out_channels)
  }
  flatten
  linear(4096) relu dropout(0.5)
  linear(4096) relu dropout(0.5)
  linear(num_classes)
}
`);
    expect(outline(program)).toEqual([
      [
        'block vgg_block(num_convs out_channels)',
        '(repeat num_convs {(-> (call conv out_channels kernel=3 padding=1) relu)})',
        '(-> (call maxpool 2 stride=2))',
      ],
      [
        'model VGG(arch=(tuple (tuple 1 64) (tuple 1 128) (tuple 2 256) (tuple 2 512) (tuple 2 512)) num_classes=10)',
        '(input 1 224 224)',
        '(for (num_convs out_channels) in arch {(-> (call vgg_block num_convs out_channels))})',
        '(-> flatten)',
        '(-> (call linear 4096) relu (call dropout 0.5))',
        '(-> (call linear 4096) relu (call dropout 0.5))',
        '(-> (call linear num_classes))',
      ],
    ]);
  });

  it('Residual, ResNet-18, Inception and a train section', () => {
    const program = parseOk(`# d2l 8.6
block Residual(num_channels, use_1x1conv = false, strides = 1) {
  y = x -> conv(num_channels, kernel = 3, padding = 1, stride = strides) as conv1 -> batchnorm as bn1 -> relu
        -> conv(num_channels, kernel = 3, padding = 1) as conv2 -> batchnorm as bn2
  shortcut = if use_1x1conv { x -> conv(num_channels, kernel = 1, stride = strides) as conv3 } else { x }
  relu(y + shortcut)
}
block resnet_stage(num_residuals, num_channels, first_block = false) {
  repeat i in num_residuals {
    if i == 0 and not first_block { Residual(num_channels, use_1x1conv = true, strides = 2) }
    else { Residual(num_channels) }
  }
}
model ResNet18(arch = ((2, 64), (2, 128), (2, 256), (2, 512)), num_classes = 10) {
  input [1, 96, 96]
  conv(64, kernel = 7, stride = 2, padding = 3) batchnorm relu maxpool(3, stride = 2, padding = 1)
  for (i, (n, c)) in enumerate(arch) { resnet_stage(n, c, first_block = i == 0) }
  adaptive_avgpool(1, 1) flatten linear(num_classes)
}
block Inception(c1, c2, c3, c4) {
  b1 = x -> conv(c1, kernel = 1) relu
  b2 = x -> conv(c2[0], kernel = 1) relu conv(c2[1], kernel = 3, padding = 1) relu
  b3 = x -> conv(c3[0], kernel = 1) relu
         -> conv(c3[1], kernel = 5, padding = 2) relu
  b4 = x -> maxpool(3, stride = 1, padding = 1) -> conv(c4, kernel = 1) relu
  concat(b1, b2, b3, b4)
}
train {
  data fashion_mnist(resize = 96)
  batch 128  epochs 10  optimizer sgd(lr = 0.01)  init xavier_uniform
}
`);
    expect(outline(program)).toEqual([
      [
        'block Residual(num_channels use_1x1conv=false strides=1)',
        '(= y (-> x (as (call conv num_channels kernel=3 padding=1 stride=strides) conv1) (as batchnorm bn1) relu' +
          ' (as (call conv num_channels kernel=3 padding=1) conv2) (as batchnorm bn2)))',
        '(= shortcut (-> (if use_1x1conv {(-> x (as (call conv num_channels kernel=1 stride=strides) conv3))} else {(-> x)})))',
        '(-> (call relu (+ y shortcut)))',
      ],
      [
        'block resnet_stage(num_residuals num_channels first_block=false)',
        '(repeat i in num_residuals {(if (and (== i 0) (not first_block)) {(-> (call Residual num_channels use_1x1conv=true strides=2))}' +
          ' else {(-> (call Residual num_channels))})})',
      ],
      [
        'model ResNet18(arch=(tuple (tuple 2 64) (tuple 2 128) (tuple 2 256) (tuple 2 512)) num_classes=10)',
        '(input 1 96 96)',
        '(-> (call conv 64 kernel=7 stride=2 padding=3) batchnorm relu (call maxpool 3 stride=2 padding=1))',
        '(for (i (n c)) in (call enumerate arch) {(-> (call resnet_stage n c first_block=(== i 0)))})',
        '(-> (call adaptive_avgpool 1 1) flatten (call linear num_classes))',
      ],
      [
        'block Inception(c1 c2 c3 c4)',
        '(= b1 (-> x (call conv c1 kernel=1) relu))',
        '(= b2 (-> x (call conv (index c2 0) kernel=1) relu (call conv (index c2 1) kernel=3 padding=1) relu))',
        '(= b3 (-> x (call conv (index c3 0) kernel=1) relu (call conv (index c3 1) kernel=5 padding=2) relu))',
        '(= b4 (-> x (call maxpool 3 stride=1 padding=1) (call conv c4 kernel=1) relu))',
        '(-> (call concat b1 b2 b3 b4))',
      ],
    ]);
    expect(trainLines(program)).toEqual([
      '(train data=(call fashion_mnist resize=96) batch=128 epochs=10 optimizer=(call sgd lr=0.01) init=xavier_uniform)',
    ]);
  });
});

describe('errors', () => {
  it.each([
    [
      'an unclosed argument list',
      'model M {\n  conv(6 relu\n}',
      ["2:10 E0110 expected ')' to close the argument list, found 'relu'"],
    ],
    [
      'a missing argument value',
      'model M {\n  conv(6, kernel = ) relu\n}',
      ["2:20 E0110 expected an expression, found ')'"],
    ],
    [
      'a missing } at end of file',
      'block vgg_block(n, c) {\n  repeat n { conv(c, kernel = 3) relu }\n  maxpool(2, stride = 2)\n',
      ["3:25 E0110 unexpected end of file: expected '}' to close the body of block `vgg_block`"],
    ],
    [
      'a missing } of a nested body at end of file',
      'block b {\n  repeat 2 {\n    relu\n',
      ["3:9 E0110 unexpected end of file: expected '}' to close the `repeat` body in block `b`"],
    ],
    [
      'a missing } before the next definition',
      'block b {\n  repeat 2 {\n    relu\n}\nmodel M {}\n',
      ["5:1 E0110 expected a statement, found 'model' (is a '}' missing before it?)"],
    ],
    [
      'a stray }',
      'model M {\n  relu\n}\n}\nblock B {}',
      ["4:1 E0110 expected 'model', 'block', 'train' or 'import', found '}'"],
    ],
    [
      'a statement at top level',
      'relu\nmodel M {}',
      ["1:1 E0110 expected 'model', 'block', 'train' or 'import', found 'relu'"],
    ],
    [
      'junk after a statement',
      'model M {\n  conv(6) ) relu\n}',
      ["2:11 E0110 expected a new line or '}' after the statement, found ')'"],
    ],
    [
      'junk at the start of a body',
      'model M { ) }',
      ["1:11 E0110 expected a statement or '}' to close the body of model `M`, found ')'"],
    ],
    ['a missing name', 'model {\n}', ["1:7 E0110 expected a name after 'model', found '{'"]],
    ['a missing label', 'model M {\n  conv(6) as\n}', ["3:1 E0110 expected a name after 'as', found '}'"]],
    ['an unclosed index', 'model M {\n  x = a[0\n}', ["3:1 E0110 expected ']' to close the index, found '}'"]],
    [
      'an unclosed input shape',
      'model M {\n  input [1, 28, 28\n  relu\n}',
      ["3:3 E0110 expected ']' to close the input shape, found 'relu'"],
    ],
    ['a missing in', 'model M {\n  for i x { relu }\n}', ["2:9 E0110 expected 'in' after the loop pattern, found 'x'"]],
    [
      'a missing repeat body',
      'model M {\n  repeat 3 relu\n}',
      ["2:12 E0110 expected '{' to open the `repeat` body in model `M`, found 'relu'"],
    ],
    [
      'a bad else',
      'model M {\n  if a { b } else relu\n}',
      ["2:19 E0110 expected '{' or 'if' after 'else', found 'relu'"],
    ],
    [
      'an incomplete ternary',
      'model M {\n  e = c ? a\n}',
      ["3:1 E0110 expected ':' in the conditional `c ? a : b`, found '}'"],
    ],
    [
      'a chained comparison',
      'model M {\n  a < b < c\n}',
      [
        "2:9 E0110 expected a new line or '}' after the statement, found '<' (comparisons do not chain: write `a < b and b < c`)",
      ],
    ],
    [
      'a C-style comment',
      'model M {\n  relu\n  // note\n}',
      ["3:3 E0110 expected a statement, found '//' (comments start with '#')"],
    ],
    [
      'a bad train entry',
      'train { 5 }',
      ["1:9 E0110 expected a setting such as `epochs 10`, or '}' to close the train section, found '5'"],
    ],
    ['a train key without value', 'train { epochs }', ["1:16 E0110 expected an expression, found '}'"]],
    [
      'a parameter without default after one with',
      'block B(a = 1, b) { relu }',
      ['1:16 E0110 parameter `b` needs a default value: it follows `a`, which has one'],
    ],
    [
      'an unterminated string',
      'train {\n  data "fashion\n  epochs 10\n}',
      ["2:8 E0102 unterminated string: missing closing '\"' on this line"],
    ],
    ['an unknown escape', 'train { data "a\\nb" }', ["1:16 E0101 unknown escape '\\n' in a string"]],
    ['an unexpected character', 'model M {\n  y = x @ w\n}', ["2:9 E0101 unexpected character '@'"]],
    ['a run of unexpected characters', 'model M {\n  y = x @$ w\n}', ["2:9 E0101 unexpected characters '@$'"]],
    ['an import without a path', 'import vgg\nblock B { relu }', ["1:8 E0110 expected a string, found 'vgg'"]],
    [
      'an import inside a body',
      'model M {\n  import "a.cnn"\n}',
      [
        "2:3 E0110 expected a statement or '}' to close the body of model `M`, found 'import' (is a '}' missing before it?)",
        "3:1 E0110 expected 'model', 'block', 'train' or 'import', found '}'",
      ],
    ],
    [
      'single quotes',
      "train { data 'x' }",
      ["1:14 E0101 unexpected character '''", "1:16 E0101 unexpected character '''"],
    ],
  ])('%s', (_name, src, want) => {
    expect(errors(src)).toEqual(want);
  });

  it('reports several syntax errors in one run', () => {
    const src = [
      'model M {',
      '  input [1, 28, 28]',
      '  conv(6, kernel = ) sigmoid',
      '  x = = 3',
      '  avgpool(2, stride 2)',
      '  linear(10)',
      '}',
      'block B {',
      '  relu(',
      '}',
      'model N {',
      '  flatten',
      '}',
    ].join('\n');
    expect(errors(src)).toEqual([
      "3:20 E0110 expected an expression, found ')'",
      "4:7 E0110 expected an expression, found '='",
      "5:21 E0110 expected ')' to close the argument list, found '2'",
      "10:1 E0110 expected ')' to close the argument list, found '}'",
    ]);
  });

  it('keeps the rest of the file after an error', () => {
    const { program } = parse(
      new SourceFile('t.cnn', 'model M {\n  conv(6, kernel = ) relu\n  linear(10)\n}\nmodel N { flatten }'),
    );
    expect(outline(program)).toEqual([
      ['model M()', '(-> (call conv 6 kernel=) relu)', '(-> (call linear 10))'],
      ['model N()', '(-> flatten)'],
    ]);
  });

  it('never throws, whatever the input', () => {
    const pieces = [
      'model',
      'block',
      'M',
      '(',
      ')',
      '{',
      '}',
      '[',
      ']',
      ',',
      '=',
      '->',
      'if',
      'else',
      'repeat',
      'for',
      'in',
      'as',
      'train',
      'x',
      '3',
      '"s',
      '+',
      '?',
      ':',
      'not',
      '\n',
      '#',
      '@',
    ];
    let seed = 1;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const text = Array.from({ length: next() % 40 }, () => pieces[next() % pieces.length]).join(' ');
      expect(() => parse(new SourceFile('fuzz.cnn', text))).not.toThrow();
    }
  });
});
