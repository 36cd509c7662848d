// Evaluation of expressions on elaboration-time values: names, unary and binary chains, ternaries,
// indexing, calls to built-in functions, and layer values. A tensor `+` adds a node to the graph.
import type { Span } from '../diagnostics/diagnostic.ts';
import { nearest } from '../diagnostics/suggest.ts';
import type { Expr } from '../syntax/ast.ts';
import type { NodeId } from '../ir/graph.ts';
import type { ArgValue } from './args.ts';
import { layers, MAX_INT_ARG } from './layers.ts';
import { evalBuiltin, builtinFunctions } from './builtins.ts';
import type { Scope } from './scope.ts';
import type { ElabState, Frame } from './state.ts';
import {
  bool,
  isSeq,
  MAX_ITEMS,
  num,
  seq,
  seqAt,
  seqItems,
  seqLength,
  show,
  typeName,
  equal,
  type Value,
} from './values.ts';

const MAX_LOOP = 10_000;

export class Evaluator {
  private readonly st: ElabState;

  constructor(st: ElabState) {
    this.st = st;
  }

  cond(e: Expr, scope: Scope, frame: Frame, cur: NodeId | null): boolean {
    return this.truth(this.expr(e, scope, frame, cur), e.span, frame);
  }

  private truth(v: Value, span: Span, frame: Frame): boolean {
    if (v.kind !== 'bool')
      this.st.fail('E0204', `a condition must be true or false, got ${typeName(v)} ${show(v)}`, span, {}, frame);
    return v.value;
  }

  count(v: Value, span: Span, frame: Frame): number {
    if (v.kind !== 'num' || !Number.isInteger(v.value) || v.value < 0)
      this.st.fail('E0204', `a repeat count must be an integer >= 0, got ${typeName(v)} ${show(v)}`, span, {}, frame);
    if (v.value > MAX_LOOP)
      this.st.fail('E0211', `a loop of ${v.value} iterations is more than the limit of ${MAX_LOOP}`, span, {}, frame);
    return v.value;
  }

  positiveInt(v: Value, what: string, span: Span, frame: Frame): number {
    if (v.kind !== 'num' || !Number.isInteger(v.value) || v.value < 1)
      this.st.fail('E0204', `${what} must be an integer >= 1, got ${typeName(v)} ${show(v)}`, span, {}, frame);
    if (v.value > MAX_INT_ARG)
      this.st.fail('E0211', `${what} must be at most ${MAX_INT_ARG}, got ${show(v)}`, span, {}, frame);
    return v.value;
  }

  expr(e: Expr, scope: Scope, frame: Frame | null, cur: NodeId | null): Value {
    const fr = frame ?? { prefix: '', counter: { next: 0 }, callers: [], isModel: false, paths: new Map() };
    switch (e.kind) {
      case 'num':
        return num(e.value);
      case 'str':
        return { kind: 'str', value: e.value };
      case 'bool':
        return bool(e.value);
      case 'tuple':
      case 'list':
        return seq(e.items.map((i) => this.expr(i, scope, frame, cur)));
      case 'name': {
        const v = scope.lookup(e.name);
        if (v !== undefined) return v;
        if (layers.has(e.name) || this.st.defs.has(e.name)) return { kind: 'ref', name: e.name };
        const near = nearest(e.name, [...scope.names(), ...layers.keys(), ...this.st.defs.keys()]);
        return this.st.fail(
          'E0201',
          `unknown name \`${e.name}\``,
          e.span,
          near ? { help: `did you mean \`${near}\`?` } : {},
          frame,
        );
      }
      case 'unary': {
        // `- - - x` is a chain as long as the file, so it is walked in loops, not recursively.
        const chain: Extract<Expr, { kind: 'unary' }>[] = [];
        let operand: Expr = e;
        for (; operand.kind === 'unary'; operand = operand.operand) chain.push(operand);
        let v = this.expr(operand, scope, frame, cur);
        for (const u of chain.reverse()) {
          if (u.op === '-' && v.kind === 'num') v = num(-v.value);
          else if (u.op === 'not' && v.kind === 'bool') v = bool(!v.value);
          else return this.st.fail('E0204', `\`${u.op}\` does not apply to ${typeName(v)}`, u.span, {}, frame);
        }
        return v;
      }
      case 'binary':
        return this.binaryChain(e, scope, fr, cur);
      case 'ternary': {
        let chosen: Expr = e;
        while (chosen.kind === 'ternary') chosen = this.cond(chosen.cond, scope, fr, cur) ? chosen.then : chosen.else;
        return this.expr(chosen, scope, frame, cur);
      }
      case 'index': {
        // `t[0][0]...` nests its targets to the left: the innermost target is evaluated first.
        const chain: Extract<Expr, { kind: 'index' }>[] = [];
        let target: Expr = e;
        for (; target.kind === 'index'; target = target.target) chain.push(target);
        let v = this.expr(target, scope, frame, cur);
        for (const ix of chain.reverse()) v = this.index(ix, v, scope, frame, cur);
        return v;
      }
      case 'call': {
        const name = e.callee.kind === 'name' ? e.callee.name : null;
        const layer = this.callee(e, scope);
        if (layer !== null && (layers.has(layer.name) || this.st.defs.has(layer.name)))
          return this.layerValue(e, layer, scope, frame, cur);
        if (name === null || !builtinFunctions.has(name) || scope.lookup(name) !== undefined) {
          return this.st.fail('E0210', `\`${name ?? 'this expression'}\` is not a function`, e.span, {}, frame);
        }
        const args = e.args.map((a) => {
          if (a.name) this.st.fail('E0203', `\`${name}\` takes no keyword arguments`, a.span, {}, frame);
          return this.expr(a.value, scope, frame, cur);
        });
        const r = evalBuiltin(name, args);
        return r.ok ? r.value : this.st.fail(r.code ?? 'E0204', r.message, e.span, {}, frame);
      }
      case 'slice':
        return this.st.fail(
          'E0210',
          'a slice `a:b` indexes a constant tensor, in a top-level definition (`Y = X[:, 1:3]`)',
          e.span,
          {},
          frame,
        );
      case 'if':
        return this.st.fail(
          'E0210',
          '`if { } else { }` as a value must be a pipeline stage; use `cond ? a : b` for numbers',
          e.span,
          {},
          frame,
        );
    }
  }

  /**
   * The layer, block or model a stage calls with the arguments it already holds, or null when the
   * stage is an ordinary expression. A name bound to a layer value (a block's `act` parameter)
   * calls that layer.
   */
  callee(e: Expr, scope: Scope): { name: string; args: readonly ArgValue[] } | null {
    const name = e.kind === 'name' ? e.name : e.kind === 'call' && e.callee.kind === 'name' ? e.callee.name : null;
    if (name === null) return null;
    const bound = scope.lookup(name);
    if (bound !== undefined) return bound.kind === 'ref' ? { name: bound.name, args: bound.args ?? [] } : null;
    const known = layers.has(name) || this.st.defs.has(name) || (e.kind === 'call' && !builtinFunctions.has(name));
    return known ? { name, args: [] } : null;
  }

  /**
   * `leaky_relu(0.1)` outside a stage (a block argument, a default): the layer with the arguments it
   * keeps, called when a stage uses it. Its arguments are checked then, against the layer's own.
   */
  private layerValue(
    e: Extract<Expr, { kind: 'call' }>,
    layer: { name: string; args: readonly ArgValue[] },
    scope: Scope,
    frame: Frame | null,
    cur: NodeId | null,
  ): Value {
    const own = e.args.map((a) => ({
      name: a.name?.name ?? null,
      value: this.expr(a.value, scope, frame, cur),
      span: a.span,
    }));
    const tensor = own.find((a) => a.value.kind === 'tensor');
    if (tensor) {
      return this.st.fail(
        'E0210',
        `\`${layer.name}\` given a tensor here would be a layer's output, not a layer value`,
        tensor.span,
        {
          help: 'apply the layer as a pipeline stage (`y = x -> relu`), or pass it without its input (`act = relu`)',
        },
        frame,
      );
    }
    return { kind: 'ref', name: layer.name, args: [...layer.args, ...own] };
  }

  private index(
    e: Extract<Expr, { kind: 'index' }>,
    t: Value,
    scope: Scope,
    frame: Frame | null,
    cur: NodeId | null,
  ): Value {
    const i = this.expr(e.index, scope, frame, cur);
    if (!isSeq(t)) return this.st.fail('E0204', `cannot index ${typeName(t)}`, e.target.span, {}, frame);
    if (i.kind !== 'num' || !Number.isInteger(i.value))
      return this.st.fail('E0204', `an index must be an integer, got ${typeName(i)}`, e.index.span, {}, frame);
    const item = seqAt(t, i.value < 0 ? seqLength(t) + i.value : i.value);
    if (!item)
      return this.st.fail(
        'E0211',
        `index ${i.value} is out of range for ${show(t)} (length ${seqLength(t)})`,
        e.span,
        {},
        frame,
      );
    return item;
  }

  // A left-associative chain (`1 + 2 + ... + n`, as long as the file) nests to the left: it is
  // walked down to its first operand and folded back up in a loop, not one call per operator.
  private binaryChain(e: Extract<Expr, { kind: 'binary' }>, scope: Scope, frame: Frame, cur: NodeId | null): Value {
    const chain: Extract<Expr, { kind: 'binary' }>[] = [];
    let left: Expr = e;
    for (; left.kind === 'binary'; left = left.left) chain.push(left);
    let v = this.expr(left, scope, frame, cur);
    for (const b of chain.reverse()) v = this.binary(b, v, scope, frame, cur);
    return v;
  }

  /** `e` applied to its left operand's value `a`. */
  private binary(
    e: Extract<Expr, { kind: 'binary' }>,
    a: Value,
    scope: Scope,
    frame: Frame,
    cur: NodeId | null,
  ): Value {
    if (e.op === 'and' || e.op === 'or') {
      const l = this.truth(a, e.left.span, frame);
      if (e.op === 'and' ? !l : l) return bool(l);
      return bool(this.cond(e.right, scope, frame, cur));
    }
    const b = this.expr(e.right, scope, frame, cur);
    if (e.op === '==') return bool(equal(a, b));
    if (e.op === '!=') return bool(!equal(a, b));
    if (e.op === '+' && a.kind === 'tensor' && b.kind === 'tensor') {
      return {
        kind: 'tensor',
        node: this.st.add('add', {}, [a.node, b.node], e.span, frame.prefix.replace(/\.$/, ''), frame),
      };
    }
    if (e.op === '+' && isSeq(a) && isSeq(b)) {
      const [x, y] = [seqItems(a), seqItems(b)];
      if (x === null || y === null || x.length + y.length > MAX_ITEMS)
        return this.st.fail(
          'E0211',
          `this tuple would have ${seqLength(a) + seqLength(b)} items, more than ${MAX_ITEMS}`,
          e.span,
          {},
          frame,
        );
      return seq([...x, ...y]);
    }
    if (a.kind !== 'num' || b.kind !== 'num') {
      const help =
        a.kind === 'tensor' || b.kind === 'tensor'
          ? { help: 'tensors support only `+` (residual add) with another tensor' }
          : {};
      return this.st.fail(
        'E0204',
        `\`${e.op}\` does not apply to ${typeName(a)} and ${typeName(b)}`,
        e.span,
        help,
        frame,
      );
    }
    const x = a.value;
    const y = b.value;
    switch (e.op) {
      case '+':
        return num(x + y);
      case '-':
        return num(x - y);
      case '*':
        return num(x * y);
      case '/':
      case '//':
      case '%':
        if (y === 0) return this.st.fail('E0211', 'division by zero', e.span, {}, frame);
        return num(e.op === '/' ? x / y : e.op === '//' ? Math.floor(x / y) : x - y * Math.floor(x / y));
      case '<':
        return bool(x < y);
      case '<=':
        return bool(x <= y);
      case '>':
        return bool(x > y);
      case '>=':
        return bool(x >= y);
    }
  }
}
