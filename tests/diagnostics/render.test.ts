// The rendered form users see: location, source line, carets, notes and help.
import { expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';

const render = (src: string): string => renderDiagnostics(analyze('net.cnn', src).diagnostics.all);

it('renders a shape error with the input note and block chain', () => {
  expect(
    render('block B(c) {\n  conv(c, kernel = 5)\n}\nmodel M {\n  input [1, 4, 4]\n  B(6)\n}\n'),
  ).toMatchInlineSnapshot(`
    "net.cnn:2:3: error[E0302]: conv window 5 (kernel 5) is larger than its padded input 4x4 (input [1, 1, 4, 4], padding 0)
      |
    2 |   conv(c, kernel = 5)
      |   ^^^^^^^^^^^^^^^^^^^
      = note: input [1, 1, 4, 4] comes from \`input\` (net.cnn:5:3)
      = note: in block \`B\` called here (net.cnn:6:3)"
  `);
});

it('suggests the nearest layer name', () => {
  expect(render('model M {\n  input [1, 4, 4]\n  maxpol(2)\n}\n')).toMatchInlineSnapshot(`
    "net.cnn:3:3: error[E0202]: unknown layer or block \`maxpol\`
      |
    3 |   maxpol(2)
      |   ^^^^^^^^^
      = help: did you mean \`maxpool\`?"
  `);
});

it('shows both shapes of a mismatched residual add', () => {
  expect(render('model M {\n  input [3, 8, 8]\n  y = x -> conv(4, kernel = 1)\n  y + x\n}\n')).toMatchInlineSnapshot(`
    "net.cnn:4:3: error[E0303]: cannot add tensors of different shapes: [1, 4, 8, 8] + [1, 3, 8, 8]
      |
    4 |   y + x
      |   ^^^^^
      = note: input [1, 4, 8, 8] comes from \`conv2d\` (net.cnn:3:12)
      = note: input [1, 3, 8, 8] comes from \`input\` (net.cnn:2:3)
      = help: a 1x1 conv on the shortcut (with the same stride) can match channels and size"
  `);
});
