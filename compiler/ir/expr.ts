// Scalar expressions: the body language of elementwise kernels and fused epilogues, and the one
// definition of every activation's forward and vector-Jacobian product. Fusion asks it which
// gradients an activation's output determines; codegen/expr.ts prints it as WGSL.
import type { OpAttrs } from './ops.ts';

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'recip' | 'tanh' | 'sigmoid';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'gt' | 'ge';

export type ScalarExpr =
  | { readonly kind: 'input'; readonly name: string }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly x: ScalarExpr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly a: ScalarExpr; readonly b: ScalarExpr }
  /** `cond ? a : b`. */
  | { readonly kind: 'select'; readonly cond: ScalarExpr; readonly a: ScalarExpr; readonly b: ScalarExpr };

/** Builders take plain numbers for constants: `mul(dy, sub(1, t))`. */
export type Operand = ScalarExpr | number;

const wrap = (e: Operand): ScalarExpr => (typeof e === 'number' ? { kind: 'const', value: e } : e);
const unary =
  (op: UnaryOp) =>
  (x: Operand): ScalarExpr => ({ kind: 'unary', op, x: wrap(x) });
const binary =
  (op: BinaryOp) =>
  (a: Operand, b: Operand): ScalarExpr => ({ kind: 'binary', op, a: wrap(a), b: wrap(b) });

export const input = (name: string): ScalarExpr => ({ kind: 'input', name });
export const lit = (value: number): ScalarExpr => ({ kind: 'const', value });
export const neg = unary('neg'),
  exp = unary('exp'),
  log = unary('log'),
  sqrt = unary('sqrt');
export const recip = unary('recip'),
  tanh = unary('tanh'),
  sigmoid = unary('sigmoid');
export const add = binary('add'),
  sub = binary('sub'),
  mul = binary('mul'),
  div = binary('div');
export const max = binary('max'),
  min = binary('min'),
  gt = binary('gt'),
  ge = binary('ge');
export const select = (cond: ScalarExpr, a: Operand, b: Operand): ScalarExpr => ({
  kind: 'select',
  cond,
  a: wrap(a),
  b: wrap(b),
});

/** Comparisons are boolean; everything else is f32 (a boolean used as a number converts to 0 or 1). */
export function exprType(e: ScalarExpr): 'f32' | 'bool' {
  return e.kind === 'binary' && (e.op === 'gt' || e.op === 'ge') ? 'bool' : 'f32';
}

/** Names of the inputs an expression reads, in first-use order. */
export function exprInputs(e: ScalarExpr, into: string[] = []): string[] {
  switch (e.kind) {
    case 'input':
      if (!into.includes(e.name)) into.push(e.name);
      break;
    case 'const':
      break;
    case 'unary':
      exprInputs(e.x, into);
      break;
    case 'binary':
      exprInputs(e.a, into);
      exprInputs(e.b, into);
      break;
    case 'select':
      exprInputs(e.cond, into);
      exprInputs(e.a, into);
      exprInputs(e.b, into);
      break;
  }
  return into;
}

/** `e` with every `input(name)` replaced by `by`: composes an epilogue onto an elementwise body. */
export function substitute(e: ScalarExpr, name: string, by: ScalarExpr): ScalarExpr {
  switch (e.kind) {
    case 'input':
      return e.name === name ? by : e;
    case 'const':
      return e;
    case 'unary':
      return { ...e, x: substitute(e.x, name, by) };
    case 'binary':
      return { ...e, a: substitute(e.a, name, by), b: substitute(e.b, name, by) };
    case 'select':
      return { ...e, cond: substitute(e.cond, name, by), a: substitute(e.a, name, by), b: substitute(e.b, name, by) };
  }
}

export type ActivationKind = 'relu' | 'sigmoid' | 'tanh' | 'identity' | 'leaky_relu';

export interface Activation<A> {
  readonly forward: (x: ScalarExpr, attrs: A) => ScalarExpr;
  /** dL/dx from the activation's input x and the incoming gradient dy. */
  readonly backward: (x: ScalarExpr, dy: ScalarExpr, attrs: A) => ScalarExpr;
  /**
   * dL/dx from the activation's output y instead, as PyTorch computes relu, sigmoid and tanh
   * gradients: what lets fusion drop the input. Exact for leaky_relu only with slope >= 0 (see
   * `gradFromOutputExact`).
   */
  readonly backwardFromOutput: (y: ScalarExpr, dy: ScalarExpr, attrs: A) => ScalarExpr;
}

/** Whether an activation's gradient follows from its output alone: a negative slope folds x < 0 onto y > 0. */
export const gradFromOutputExact = (fn: ActivationKind, slope: number): boolean => fn !== 'leaky_relu' || slope >= 0;

/** PyTorch semantics: relu'(0) = 0 (threshold_backward), leaky_relu'(0) = slope (x > 0 ? dy : dy * slope). */
export const activations: { readonly [K in ActivationKind]: Activation<OpAttrs[K]> } = {
  relu: {
    forward: (x) => max(x, 0),
    backward: (x, dy) => select(gt(x, 0), dy, 0),
    backwardFromOutput: (y, dy) => select(gt(y, 0), dy, 0),
  },
  sigmoid: {
    forward: (x) => sigmoid(x),
    backward: (x, dy) => mul(dy, mul(sigmoid(x), sub(1, sigmoid(x)))),
    backwardFromOutput: (y, dy) => mul(dy, mul(y, sub(1, y))),
  },
  tanh: {
    forward: (x) => tanh(x),
    backward: (x, dy) => mul(dy, sub(1, mul(tanh(x), tanh(x)))),
    backwardFromOutput: (y, dy) => mul(dy, sub(1, mul(y, y))),
  },
  identity: { forward: (x) => x, backward: (_x, dy) => dy, backwardFromOutput: (_y, dy) => dy },
  leaky_relu: {
    forward: (x, a) => select(gt(x, 0), x, mul(x, a.slope)),
    backward: (x, dy, a) => select(gt(x, 0), dy, mul(dy, a.slope)),
    backwardFromOutput: (y, dy, a) => select(gt(y, 0), dy, mul(dy, a.slope)),
  },
};

// One attrs object serves every activation: only leaky_relu reads `slope`.
const activation = (fn: ActivationKind) => activations[fn] as (typeof activations)['leaky_relu'];

/** An activation of the step IR (its kind and slope) applied to `x`. */
export function activationForward(fn: ActivationKind, slope: number, x: ScalarExpr): ScalarExpr {
  return activation(fn).forward(x, { slope });
}

/** dL/dx of an activation from dy and `at`: its input, or its output where `from` says so. */
export function activationGrad(
  fn: ActivationKind,
  slope: number,
  from: 'input' | 'output',
  at: ScalarExpr,
  dy: ScalarExpr,
): ScalarExpr {
  const f = activation(fn);
  return from === 'output' ? f.backwardFromOutput(at, dy, { slope }) : f.backward(at, dy, { slope });
}
