// The file's constant tensors: its top-level `NAME = expr` and `NAME[...] = expr` definitions,
// evaluated in file order on the host (float32). docs/language.md, "Constant tensors".
import type { DiagCode } from '../diagnostics/codes.ts';
import type { DiagnosticBag, Span } from '../diagnostics/diagnostic.ts';
import { nearest } from '../diagnostics/suggest.ts';
import { f32Problem } from '../ir/f32.ts';
import type { ConstTensor } from '../ir/constant.ts';
import type { Arg, Expr, Program, TensorDef } from '../syntax/ast.ts';
import * as ops from './tensor-ops.ts';

/** What a definition's expression computes: numbers, tensors, and tuples of them (shapes, lists). */
type CValue =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'tensor'; readonly t: ConstTensor }
  | { readonly kind: 'seq'; readonly items: readonly CValue[] };

class Stop extends Error {}

/** The functions a definition may call (`tensor([[...]])`, `zeros(6, 8)`, ...). */
export const tensorFunctions: ReadonlySet<string> = new Set([
  'tensor',
  'zeros',
  'ones',
  'full',
  'arange',
  'reshape',
  'transpose',
  'stack',
  'cat',
  'matmul',
]);

/**
 * Every constant by name (the value after its last assignment), or null after the first error
 * (reported to `diags`): the definitions and models that read it would only repeat it.
 */
export function evaluateConstants(
  program: Program,
  diags: DiagnosticBag,
  reserved: ReadonlySet<string>,
): ReadonlyMap<string, ConstTensor> | null {
  const env = new Map<string, ConstTensor>();
  for (const def of program.tensors) {
    try {
      new Evaluator(env, diags, reserved).define(def);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      return null;
    }
  }
  return env;
}

class Evaluator {
  private readonly env: Map<string, ConstTensor>;
  private readonly diags: DiagnosticBag;
  private readonly reserved: ReadonlySet<string>;

  constructor(env: Map<string, ConstTensor>, diags: DiagnosticBag, reserved: ReadonlySet<string>) {
    this.env = env;
    this.diags = diags;
    this.reserved = reserved;
  }

  private fail(code: DiagCode, message: string, span: Span, help?: string): never {
    this.diags.error(code, message, span, help === undefined ? {} : { help });
    throw new Stop();
  }

  private check<T>(r: ops.Result<T>, span: Span): T {
    return r.ok ? r.value : this.fail(r.code, r.message, span);
  }

  define(def: TensorDef): void {
    const name = def.name.name;
    if (this.reserved.has(name))
      this.fail(
        'E0206',
        `\`${name}\` names a layer, block, model or function and cannot also name a tensor`,
        def.name.span,
      );
    if (def.index === null) {
      this.env.set(name, this.tensorOf(def.value));
      return;
    }
    const target =
      this.env.get(name) ??
      this.fail(
        'E0201',
        `\`${name}\` is not a tensor defined above, so it cannot be assigned in part`,
        def.name.span,
        `define it first: \`${name} = zeros(...)\``,
      );
    const subs = this.subscripts(def.index);
    const v = this.value(def.value);
    const value = v.kind === 'num' ? v.value : v.kind === 'tensor' ? v.t : this.literal(def.value);
    this.env.set(name, this.check(ops.assign(target, subs, value), def.span));
  }

  /** A definition's value as a tensor: a nested list is a literal. */
  private tensorOf(e: Expr): ConstTensor {
    if (e.kind === 'list' || e.kind === 'tuple') return this.literal(e);
    const v = this.value(e);
    if (v.kind === 'tensor') return v.t;
    if (v.kind === 'num') return { shape: [], data: Float32Array.of(v.value) };
    return this.literal(e);
  }

  /** `[[0.0, 1.0], [2.0, 3.0]]`: rectangular nested lists of numbers, checked where they are written. */
  private literal(e: Expr): ConstTensor {
    const values: number[] = [];
    const shape = this.literalShape(e, values);
    const r = ops.filled(shape, 0);
    const t = this.check(r, e.span);
    t.data.set(values);
    return t;
  }

  private literalShape(e: Expr, out: number[]): number[] {
    if (e.kind !== 'list' && e.kind !== 'tuple') {
      const v = this.value(e);
      if (v.kind !== 'num')
        this.fail(
          'E0233',
          `a tensor literal holds numbers, found ${v.kind === 'tensor' ? 'a tensor' : 'a tuple'}`,
          e.span,
          'to join tensors use `stack((A, B), 0)` or `cat((A, B), 0)`',
        );
      const problem = f32Problem(v.value);
      if (problem !== null) this.fail('E0211', `this value ${problem} (tensors are float32)`, e.span);
      out.push(v.value);
      return [];
    }
    if (e.items.length === 0) this.fail('E0233', 'an empty list is not a tensor', e.span);
    const inner = this.literalShape(e.items[0]!, out);
    for (const item of e.items.slice(1)) {
      const s = this.literalShape(item, out);
      if (ops.shapeText(s) !== ops.shapeText(inner)) {
        this.fail(
          'E0233',
          `ragged tensor literal: this item has shape ${ops.shapeText(s)}, the first ${ops.shapeText(inner)}`,
          item.span,
          'every row of a tensor has the same length',
        );
      }
    }
    return [e.items.length, ...inner];
  }

  private value(e: Expr): CValue {
    switch (e.kind) {
      case 'num':
        return { kind: 'num', value: e.value };
      case 'list':
      case 'tuple':
        return { kind: 'seq', items: e.items.map((i) => this.value(i)) };
      case 'name': {
        const t = this.env.get(e.name);
        if (t !== undefined) return { kind: 'tensor', t };
        const near = nearest(e.name, [...this.env.keys()]);
        return this.fail(
          'E0201',
          `unknown tensor \`${e.name}\``,
          e.span,
          near ? `did you mean \`${near}\`?` : 'constant tensors are defined above their use, at the top level',
        );
      }
      case 'unary': {
        const v = this.value(e.operand);
        if (e.op === '-' && v.kind === 'num') return { kind: 'num', value: -v.value };
        if (e.op === '-' && v.kind === 'tensor')
          return {
            kind: 'tensor',
            t: this.check(
              ops.elementwise(v.t, -1, (x, y) => x * y),
              e.span,
            ),
          };
        return this.fail('E0204', `\`${e.op}\` does not apply here`, e.span);
      }
      case 'binary':
        return this.binary(e);
      case 'call':
        return this.call(e);
      case 'index': {
        const t = this.value(e.target);
        if (t.kind !== 'tensor') return this.fail('E0204', 'only a tensor can be indexed here', e.target.span);
        return { kind: 'tensor', t: this.check(ops.select(t.t, this.subscripts(e.index)), e.span) };
      }
      default:
        return this.fail(
          'E0210',
          'a tensor definition holds numbers, lists, tensors and the tensor functions (tensor, zeros, ones, full, arange, reshape, transpose, stack, cat, matmul)',
          e.span,
        );
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): CValue {
    const f = (
      {
        '+': (x: number, y: number) => x + y,
        '-': (x: number, y: number) => x - y,
        '*': (x: number, y: number) => x * y,
        '/': (x: number, y: number) => x / y,
      } as Record<string, (x: number, y: number) => number>
    )[e.op];
    if (f === undefined)
      return this.fail('E0204', `\`${e.op}\` does not apply to tensors (+, -, * and / do, elementwise)`, e.span);
    const [a, b] = [this.value(e.left), this.value(e.right)];
    const operand = (v: CValue, at: Expr): ConstTensor | number =>
      v.kind === 'num' ? v.value : v.kind === 'tensor' ? v.t : this.literal(at);
    if (a.kind === 'num' && b.kind === 'num') {
      if (e.op === '/' && b.value === 0) this.fail('E0211', 'division by zero', e.span);
      return { kind: 'num', value: f(a.value, b.value) };
    }
    return { kind: 'tensor', t: this.check(ops.elementwise(operand(a, e.left), operand(b, e.right), f), e.span) };
  }

  private call(e: Extract<Expr, { kind: 'call' }>): CValue {
    const name = e.callee.kind === 'name' ? e.callee.name : '';
    if (!tensorFunctions.has(name)) {
      return this.fail(
        'E0210',
        `\`${name || 'this expression'}\` is not a tensor function`,
        e.callee.span,
        `tensor functions: ${[...tensorFunctions].join(', ')}`,
      );
    }
    const positional = e.args.filter((a) => a.name === null);
    const keyword = (key: string): Arg | undefined => e.args.find((a) => a.name?.name === key);
    const stray = e.args.find(
      (a) => a.name !== null && !(a.name.name === 'dim' && (name === 'stack' || name === 'cat')),
    );
    if (stray) this.fail('E0203', `\`${name}\` has no parameter \`${stray.name!.name}\``, stray.span);
    const t = (i: number): ConstTensor => {
      const a = positional[i] ?? this.fail('E0203', `\`${name}\` needs a tensor as argument ${i + 1}`, e.span);
      return this.tensorOf(a.value);
    };
    const int = (a: Arg | undefined, fallback: number): number => {
      if (a === undefined) return fallback;
      const v = this.value(a.value);
      return v.kind === 'num' && Number.isInteger(v.value)
        ? v.value
        : this.fail('E0204', `\`${name}\` expects an integer here`, a.span);
    };
    const s = e.span;
    switch (name) {
      case 'tensor':
        if (positional.length !== 1 || e.args.length !== 1)
          this.fail('E0203', '`tensor` takes one nested list: tensor([[0.0, 1.0], [2.0, 3.0]])', s);
        return { kind: 'tensor', t: this.literal(positional[0]!.value) };
      case 'zeros':
      case 'ones':
        return {
          kind: 'tensor',
          t: this.check(ops.filled(this.shape(positional, s, name), name === 'ones' ? 1 : 0), s),
        };
      case 'full': {
        if (positional.length !== 2) this.fail('E0203', '`full` takes a shape and a value: full((2, 3), 7.0)', s);
        const v = this.value(positional[1]!.value);
        if (v.kind !== 'num') this.fail('E0204', '`full` fills with a number', positional[1]!.span);
        return { kind: 'tensor', t: this.check(ops.filled(this.shape(positional.slice(0, 1), s, name), v.value), s) };
      }
      case 'arange': {
        const ns = positional.map((a) => {
          const v = this.value(a.value);
          return v.kind === 'num' ? v.value : this.fail('E0204', '`arange` takes numbers', a.span);
        });
        if (ns.length < 1 || ns.length > 3)
          this.fail('E0203', '`arange` takes end, or start, end and optionally step', s);
        const [start, end, step] = ns.length === 1 ? [0, ns[0]!, 1] : [ns[0]!, ns[1]!, ns[2] ?? 1];
        return { kind: 'tensor', t: this.check(ops.arange(start, end, step), s) };
      }
      case 'reshape':
        return { kind: 'tensor', t: this.check(ops.reshape(t(0), this.shape(positional.slice(1), s, name, true)), s) };
      case 'transpose': {
        const x = t(0);
        if (positional.length === 1 && x.shape.length > 2)
          this.fail(
            'E0234',
            `\`transpose(X)\` swaps the two dimensions of a matrix; X is ${ops.shapeText(x.shape)}: name the dimensions, transpose(X, 0, 1)`,
            s,
          );
        return {
          kind: 'tensor',
          t: this.check(ops.transpose(x, int(positional[1], 0), int(positional[2], x.shape.length > 1 ? 1 : 0)), s),
        };
      }
      case 'stack':
      case 'cat': {
        const list = positional[0];
        if (
          positional.length > 2 ||
          list === undefined ||
          (list.value.kind !== 'tuple' && list.value.kind !== 'list')
        ) {
          this.fail('E0203', `\`${name}\` takes a tuple of tensors and a dimension: ${name}((A, B), 0)`, s);
        }
        const items = (list.value as { items: readonly Expr[] }).items.map((i) => this.tensorOf(i));
        return { kind: 'tensor', t: this.check(ops.join(items, int(positional[1] ?? keyword('dim'), 0), name), s) };
      }
      default:
        return { kind: 'tensor', t: this.check(ops.matmul(t(0), t(1)), s) };
    }
  }

  /** `zeros(6, 8)` or `zeros((6, 8))`: a shape of positive integers (-1 allowed for reshape). */
  private shape(args: readonly Arg[], span: Span, fn: string, allowFree = false): number[] {
    const one = args.length === 1 ? this.value(args[0]!.value) : null;
    const items = one?.kind === 'seq' ? one.items : args.map((a) => this.value(a.value));
    if (items.length === 0) this.fail('E0203', `\`${fn}\` needs a shape`, span);
    return items.map((v) => {
      if (v.kind === 'num' && Number.isInteger(v.value) && (v.value >= 1 || (allowFree && v.value === -1)))
        return v.value;
      return this.fail('E0204', `\`${fn}\` takes a shape of integers >= 1${allowFree ? ' (one may be -1)' : ''}`, span);
    });
  }

  /** `X[1, :, 2:6, ::2]`: integer positions and slices. */
  private subscripts(index: Expr): ops.Subscript[] {
    const items = index.kind === 'tuple' ? index.items : [index];
    return items.map((it) => {
      if (it.kind === 'slice') {
        const bound = (b: Expr | null): number | null => (b === null ? null : this.integer(b));
        return { kind: 'slice', start: bound(it.start), stop: bound(it.stop), step: bound(it.step) };
      }
      return { kind: 'at', index: this.integer(it) };
    });
  }

  private integer(e: Expr): number {
    const v = this.value(e);
    return v.kind === 'num' && Number.isInteger(v.value)
      ? v.value
      : this.fail('E0204', 'an index must be an integer', e.span);
  }
}
