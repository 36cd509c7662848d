// WGSL printing of the scalar expression language (compiler/ir/expr.ts): the bodies of elementwise
// kernels and fused epilogues, and the module-scope helpers they call.
import { exprType, lit, type BinaryOp, type ScalarExpr } from '../ir/expr.ts';
import { f32Lit, wgsl } from './writer.ts';

export interface PrintOptions {
  /** WGSL text for an input: a binding element, a local, an accumulator. */
  readonly input: (name: string) => string;
  /** 4 prints the expression over vec4<f32> lanes (constants splatted); default 1. */
  readonly width?: 1 | 4;
}

// WGSL precedence levels used here: relational < additive < multiplicative < unary < primary.
// A child is parenthesised when it binds looser than its slot requires; right operands need one
// level more, so the printed text keeps the tree's evaluation order exactly (f32 is not associative).
const REL = 0,
  ADD = 1,
  MUL = 2,
  UNARY = 3,
  PRIMARY = 4;
const infix: Partial<Record<BinaryOp, [string, number]>> = {
  add: ['+', ADD],
  sub: ['-', ADD],
  mul: ['*', MUL],
  div: ['/', MUL],
  gt: ['>', REL],
  ge: ['>=', REL],
};

/** The expression as WGSL text; needs `exprHelpers` of it at module scope when it uses sigmoid. */
export function printExpr(e: ScalarExpr, opts: PrintOptions): string {
  const ty = opts.width === 4 ? 'vec4<f32>' : 'f32';
  const go = (e: ScalarExpr, want: 'f32' | 'bool'): [string, number] => {
    const have = exprType(e);
    if (have !== want)
      return want === 'f32' ? [`${ty}(${go(e, have)[0]})`, PRIMARY] : [`${operand(e, ADD)} != ${ty}(0.0)`, REL];
    switch (e.kind) {
      case 'input':
        return [opts.input(e.name), PRIMARY];
      case 'const':
        return ty === 'f32' ? [f32Lit(e.value), e.value < 0 ? UNARY : PRIMARY] : [`${ty}(${f32Lit(e.value)})`, PRIMARY];
      case 'unary': {
        if (e.op === 'neg') {
          const x = operand(e.x, UNARY);
          return [`-${x.startsWith('-') ? `(${x})` : x}`, UNARY];
        }
        if (e.op === 'recip') return go({ kind: 'binary', op: 'div', a: lit(1), b: e.x }, 'f32');
        // exp, log, sqrt and tanh are WGSL builtins of the same name; sigmoid is exprHelpers' function.
        return [`${e.op === 'sigmoid' ? sigmoidFn(ty) : e.op}(${operand(e.x, REL)})`, PRIMARY];
      }
      case 'binary': {
        const op = infix[e.op];
        if (!op) return [`${e.op}(${operand(e.a, REL)}, ${operand(e.b, REL)})`, PRIMARY];
        const [sym, p] = op;
        const side = p === REL ? ADD : p; // relational operands must be additive-level (no `a > b > c`)
        return [`${operand(e.a, side)} ${sym} ${operand(e.b, side === p ? p + 1 : side)}`, p];
      }
      case 'select':
        return [`select(${operand(e.b, REL)}, ${operand(e.a, REL)}, ${go(e.cond, 'bool')[0]})`, PRIMARY];
    }
  };
  const operand = (e: ScalarExpr, min: number): string => paren(...go(e, 'f32'), min);
  return go(e, 'f32')[0];
}

function paren(text: string, prec: number, min: number): string {
  return prec < min ? `(${text})` : text;
}

const sigmoidFn = (ty: string): string => (ty === 'f32' ? 'sigmoid_f32' : 'sigmoid_v4');

function usesSigmoid(e: ScalarExpr): boolean {
  switch (e.kind) {
    case 'input':
    case 'const':
      return false;
    case 'unary':
      return e.op === 'sigmoid' || usesSigmoid(e.x);
    case 'binary':
      return usesSigmoid(e.a) || usesSigmoid(e.b);
    case 'select':
      return usesSigmoid(e.cond) || usesSigmoid(e.a) || usesSigmoid(e.b);
  }
}

/**
 * Module-scope helper functions the printed expressions call. sigmoid is 1 / (1 + e^-x) for x >= 0
 * and e^x / (1 + e^x) below, both from e = exp(-|x|) <= 1, so no exp overflows for any finite x.
 */
export function exprHelpers(exprs: readonly ScalarExpr[], width: 1 | 4 = 1): string {
  if (!exprs.some(usesSigmoid)) return '';
  const t = width === 4 ? 'vec4<f32>' : 'f32';
  return wgsl`
    fn ${sigmoidFn(t)}(x: ${t}) -> ${t} {
      let e = exp(-abs(x));
      return select(e, ${t}(1.0), x >= ${t}(0.0)) / (1.0 + e);
    }`;
}
