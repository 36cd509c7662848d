// Instantiation: the statements of a model's or block's body run on a frame (repeat, for, if,
// assignments), and pipeline stages become layer nodes or, for a block or model, its expanded body.
import type { Span } from '../diagnostics/diagnostic.ts';
import { nearest } from '../diagnostics/suggest.ts';
import type { Body, Expr, Ident, Pattern, Pipeline, Stage, Stmt } from '../syntax/ast.ts';
import type { NodeId } from '../ir/graph.ts';
import { bindArgs, type ArgValue } from './args.ts';
import type { Evaluator } from './evaluate.ts';
import { fixedArgs, layerArgs } from './layer-args.ts';
import { layers } from './layers.ts';
import { claimPath, warnImplicitInput } from './names.ts';
import { Scope } from './scope.ts';
import type { ElabState, Frame } from './state.ts';
import { isSeq, num, seqAt, seqLength, show, typeName, type Value } from './values.ts';

// Each level of block calls costs several stack frames of this elaborator; real models nest a
// few levels (ResNet: model -> stage -> residual block).
const MAX_BLOCK_DEPTH = 64;

/** How many of a call's first arguments are positional tensors: the layer's inputs. */
function leadingTensors(args: readonly ArgValue[]): number {
  let lead = 0;
  while (lead < args.length && args[lead]!.name === null && args[lead]!.value.kind === 'tensor') lead++;
  return lead;
}

export class Instantiator {
  private readonly st: ElabState;
  private readonly ev: Evaluator;

  constructor(st: ElabState, ev: Evaluator) {
    this.st = st;
    this.ev = ev;
  }

  // Loop and `if` bodies share their block's scope, as Python's do: d2l reassigns in loops
  // (`X = torch.cat((X, Y), dim=1)`, `num_channels += ...`) and reads the result afterwards.
  body(body: Body, scope: Scope, frame: Frame, current: NodeId | null): NodeId | null {
    let cur = current;
    for (const s of body.stmts) cur = this.stmt(s, scope, frame, cur);
    return cur;
  }

  private stmt(s: Stmt, scope: Scope, frame: Frame, cur: NodeId | null): NodeId | null {
    switch (s.kind) {
      case 'input': {
        // A model called as a stage takes the stage's input, whatever its own `input` declares.
        if (frame.isModel && frame.callers.length > 0) return cur;
        if (!frame.isModel)
          this.st.fail('E0207', '`input` is only allowed in a model, not in a block', s.span, {}, frame);
        if (this.st.nodes.some((n) => n.op === 'input'))
          this.st.fail('E0207', 'a model has one `input` statement', s.span, {}, frame);
        const dims = s.dims.map((d) =>
          this.ev.positiveInt(this.ev.expr(d, scope, frame, cur), 'input dimension', d.span, frame),
        );
        if (dims.length !== 1 && dims.length !== 3 && dims.length !== 4)
          this.st.fail(
            'E0203',
            `\`input\` takes [C, H, W], [C, D, H, W] or [F], got ${dims.length} dimensions`,
            s.span,
            {},
            frame,
          );
        const id = this.st.add('input', { shape: dims }, [], s.span, '', frame);
        scope.set('x', { kind: 'tensor', node: id });
        return id;
      }
      case 'assign': {
        const v = this.pipeline(s.value, scope, frame, cur, s.name);
        scope.set(s.name.name, v);
        if (v.kind === 'tensor')
          this.st.origins.set(v.node, { span: s.name.span, name: s.name.name, callers: frame.callers });
        return v.kind === 'tensor' ? v.node : cur;
      }
      case 'pipeline': {
        const v = this.pipeline(s.pipeline, scope, frame, cur);
        const only = s.pipeline.stages.length === 1 ? s.pipeline.stages[0]!.expr : null;
        if (v.kind !== 'tensor' && only?.kind === 'name') this.notALayer(only.name, v, only.span, frame);
        if (v.kind !== 'tensor')
          this.st.fail(
            'E0210',
            `this statement computes ${typeName(v)} ${show(v)} and does nothing with it`,
            s.span,
            { help: 'bind it to a name: `name = ...`' },
            frame,
          );
        return v.node;
      }
      case 'repeat': {
        const n = this.ev.count(this.ev.expr(s.count, scope, frame, cur), s.count.span, frame);
        for (let i = 0; i < n; i++) {
          this.st.step(s.span, frame);
          if (s.index) scope.set(s.index.name, num(i));
          cur = this.body(s.body, scope, frame, cur);
        }
        return cur;
      }
      case 'for': {
        const it = this.ev.expr(s.iterable, scope, frame, cur);
        if (!isSeq(it))
          this.st.fail(
            'E0204',
            `\`for\` needs a tuple or list to loop over, got ${typeName(it)}`,
            s.iterable.span,
            {},
            frame,
          );
        const n = this.ev.count(num(seqLength(it)), s.iterable.span, frame);
        for (let i = 0; i < n; i++) {
          this.st.step(s.span, frame);
          this.destructure(s.pattern, seqAt(it, i)!, scope, frame);
          cur = this.body(s.body, scope, frame, cur);
        }
        return cur;
      }
      case 'if': {
        const branch = this.branch(s, scope, frame, cur);
        return branch ? this.body(branch, scope, frame, cur) : cur;
      }
    }
  }

  /** The body an `if` runs; an `else if` chain is followed in a loop, not one call per link. */
  private branch(
    s: { cond: Expr; then: Body; else: Body | null },
    scope: Scope,
    frame: Frame,
    cur: NodeId | null,
  ): Body | null {
    for (let link = s; ; ) {
      const branch = this.ev.cond(link.cond, scope, frame, cur) ? link.then : link.else;
      const only = branch?.stmts.length === 1 ? branch.stmts[0] : undefined;
      if (only?.kind !== 'if') return branch;
      link = only;
    }
  }

  private destructure(p: Pattern, v: Value, scope: Scope, frame: Frame): void {
    if (p.kind === 'bind') {
      scope.set(p.name.name, v);
      return;
    }
    if (!isSeq(v) || seqLength(v) !== p.items.length) {
      this.st.fail('E0204', `cannot unpack ${typeName(v)} ${show(v)} into ${p.items.length} names`, p.span, {}, frame);
    }
    p.items.forEach((q, i) => this.destructure(q, seqAt(v, i)!, scope, frame));
  }

  // ---- pipelines and layer calls ----

  /** `assignedTo`: the name of `name = pipeline`, whose implicit input may deserve a warning. */
  private pipeline(
    p: Pipeline,
    scope: Scope,
    frame: Frame,
    cur: NodeId | null,
    assignedTo: Ident | null = null,
  ): Value {
    let acc: Value | null = null;
    for (const st of p.stages) {
      const input = acc === null ? cur : acc.kind === 'tensor' ? acc.node : null;
      acc = this.stage(st, scope, frame, input, acc === null, acc === null ? assignedTo : null);
    }
    return acc!;
  }

  private stage(
    st: Stage,
    scope: Scope,
    frame: Frame,
    input: NodeId | null,
    first: boolean,
    assignedTo: Ident | null,
  ): Value {
    const e = st.expr;
    const callee = this.ev.callee(e, scope);
    if (callee !== null) {
      const own = e.kind === 'call' ? this.args(e.args, scope, frame, input) : [];
      // A layer value's kept arguments follow the stage's leading tensor inputs: `act(y)`.
      const lead = leadingTensors(own);
      const args = [...own.slice(0, lead), ...callee.args, ...own.slice(lead)];
      const explicit = args[0]?.name === null && args[0].value.kind === 'tensor';
      if (assignedTo !== null && input !== null && !explicit) warnImplicitInput(this.st, assignedTo, st, scope, input);
      return { kind: 'tensor', node: this.call(callee.name, args, st, input, frame) };
    }
    if (st.label) this.st.fail('E0210', '`as` names a layer, and this is not a layer call', st.label.span, {}, frame);
    if (e.kind === 'if') {
      const branch = this.branch(e, scope, frame, input);
      const out = branch ? this.body(branch, scope, frame, input) : input;
      if (out === null) this.st.fail('E0207', 'this `if` has no tensor to work on', e.span, {}, frame);
      return { kind: 'tensor', node: out };
    }
    const v = this.ev.expr(e, scope, frame, input);
    if (!first) {
      if (e.kind === 'name' && v.kind !== 'tensor') this.notALayer(e.name, v, e.span, frame);
      this.st.fail(
        'E0210',
        `expected a layer here, found ${typeName(v)}`,
        e.span,
        { help: 'only the first stage of a pipeline may be a tensor or value' },
        frame,
      );
    }
    return v;
  }

  /** `act` of `block b(act = relu)` given a number, used as a stage: say which name holds it. */
  private notALayer(name: string, v: Value, span: Span, frame: Frame): never {
    return this.st.fail(
      'E0210',
      `\`${name}\` is ${typeName(v)} (${show(v)}), not a layer`,
      span,
      {
        help: 'a layer passed as an argument is written `act = relu` or `act = leaky_relu(0.1)`',
      },
      frame,
    );
  }

  private args(
    args: readonly { name: { name: string } | null; value: Expr; span: Span }[],
    scope: Scope,
    frame: Frame,
    cur: NodeId | null,
  ): ArgValue[] {
    return args.map((a) => ({
      name: a.name?.name ?? null,
      value: this.ev.expr(a.value, scope, frame, cur),
      span: a.span,
    }));
  }

  private call(name: string, args: readonly ArgValue[], st: Stage, current: NodeId | null, frame: Frame): NodeId {
    const span = st.span;
    const lead = leadingTensors(args);
    const tensorArgs = args.slice(0, lead).map((a) => (a.value as { node: NodeId }).node);
    const rest = args.slice(lead);
    const inputs = tensorArgs.length > 0 ? tensorArgs : current === null ? [] : [current];
    if (inputs.length === 0) {
      this.st.fail(
        'E0207',
        `\`${name}\` has no input: put \`input [C, H, W]\` before the first layer`,
        span,
        {},
        frame,
      );
    }
    // A label still uses up its index, so labelling one layer never renames its siblings.
    const position = frame.counter.next++;
    const index = st.label?.name ?? String(position);
    const path = frame.prefix + index;
    claimPath(this.st, path, st.label?.span ?? span, frame);
    const layer = layers.get(name);
    if (layer) {
      if (layer.inputs === 1 && inputs.length > 1)
        this.st.fail('E0203', `\`${name}\` takes one tensor input, got ${inputs.length}`, span, {}, frame);
      const { op, attrs } = layer.build(
        layerArgs(this.st, name, fixedArgs(this.st, name, rest, path, span, frame), span, frame),
      );
      return this.st.add(op, attrs, inputs, span, path, frame);
    }
    const def = this.st.defs.get(name);
    if (!def) {
      const near = nearest(name, [...layers.keys(), ...this.st.defs.keys()]);
      this.st.fail(
        'E0202',
        `unknown layer or block \`${name}\``,
        span,
        near ? { help: `did you mean \`${near}\`?` } : {},
        frame,
      );
    }
    // A model used as a stage is a block, as a PyTorch module is inside another (its `input` is skipped).
    if (inputs.length > 1)
      this.st.fail('E0203', `${def.kind} \`${name}\` takes one tensor input, got ${inputs.length}`, span, {}, frame);
    const active = frame.callers.find((c) => c.block === name);
    if (active) {
      this.st.fail(
        'E0205',
        `block \`${name}\` calls itself`,
        span,
        { help: 'blocks are expanded at compile time, so recursion would never end; use `repeat` instead' },
        frame,
      );
    }
    if (frame.callers.length >= MAX_BLOCK_DEPTH) {
      this.st.fail(
        'E0219',
        `block calls nested more than ${MAX_BLOCK_DEPTH} deep`,
        span,
        { help: 'call blocks one after another instead of each from the previous one' },
        frame,
      );
    }
    const bound = bindArgs(
      name,
      def.params.map((p) => ({ name: p.name.name, required: p.default === null })),
      rest,
    );
    if (!bound.ok)
      this.st.fail(
        'E0203',
        bound.message,
        bound.span ?? span,
        bound.help !== undefined ? { help: bound.help } : {},
        frame,
      );
    const inner = new Scope(this.st.globals);
    for (const p of def.params) {
      const a = bound.bound.get(p.name.name);
      inner.set(p.name.name, a ? a.value : this.ev.expr(p.default!, this.st.globals, null, null));
    }
    inner.set('x', { kind: 'tensor', node: inputs[0]! });
    this.st.step(span, frame);
    const innerFrame: Frame = {
      prefix: `${path}.`,
      counter: { next: 0 },
      callers: [...frame.callers, { block: name, span }],
      isModel: def.kind === 'model',
      paths: new Map(),
    };
    const out = this.body(def.body, inner, innerFrame, inputs[0]!)!;
    this.st.origins.set(out, { span, name: null, callers: frame.callers });
    return out;
  }
}
