// Elaboration: instantiates a model and the blocks it calls, runs repeat/for/if on parameters, and
// builds the (still lazy, shape-free) IR graph. Parameter paths are assigned here, PyTorch style.
import type { DiagnosticBag, Note, Span } from '../diagnostics/diagnostic.ts';
import type { DiagCode } from '../diagnostics/codes.ts';
import { nearest } from '../diagnostics/suggest.ts';
import type { BlockDef, Body, Expr, Ident, Param, Pattern, Pipeline, Program, Stage, Stmt } from '../syntax/ast.ts';
import type { ConstTensor, FixedParam } from '../ir/constant.ts';
import type { CallSite, ElaboratedGraph, Node, NodeId } from '../ir/graph.ts';
import type { OpAttrs, OpKind } from '../ir/ops.ts';
import { bindArgs, type ArgValue } from './args.ts';
import { convertArg, layers, MAX_INT_ARG, type LayerArgs } from './layers.ts';
import { evalBuiltin, builtinFunctions } from './builtins.ts';
import { Scope } from './scope.ts';
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
import { reportUnused, type ValueOrigin } from './unused.ts';

/** Raised after a diagnostic is recorded: elaboration of the model stops at its first error. */
class Abort extends Error {}

/** One block instance being expanded: where its layers are numbered and how it was reached. */
interface Frame {
  readonly prefix: string;
  readonly counter: { next: number };
  readonly callers: readonly CallSite[];
  /** A model's body: the one elaborated (no callers), or one called as a block, whose `input` is skipped. */
  readonly isModel: boolean;
  /** Parameter paths given out in this instance, and where: two layers may not share one. */
  readonly paths: Map<string, Span>;
}

const MAX_NODES = 200_000;
const MAX_LOOP = 10_000;
/** Loop iterations and block calls of one elaboration, all together: nested loops cannot run away. */
const MAX_STEPS = 250_000;
// Each level of block calls costs several stack frames of this elaborator; real models nest a
// few levels (ResNet: model -> stage -> residual block).
const MAX_BLOCK_DEPTH = 64;

export interface ElaborateOptions {
  /** Which model to elaborate; default: the last model in the file. */
  readonly model?: string;
  /** The files the program imports (compiler/imports.ts): their blocks and models are in scope. */
  readonly imports?: readonly { readonly program: Program; readonly importedAt: Span }[];
  /** The model's parameters set from outside the file (`--set NAME=VALUE`), replacing their defaults. */
  readonly settings?: readonly Param[];
}

/** `constants`: the file's constant tensors (constants.ts), visible in every body as globals. */
export function elaborate(
  program: Program,
  diags: DiagnosticBag,
  options: ElaborateOptions = {},
  constants: ReadonlyMap<string, ConstTensor> = new Map(),
): ElaboratedGraph | null {
  const defs = collectDefs([{ program, importedAt: null }, ...(options.imports ?? [])], diags);
  if (diags.hasErrors) return null;
  // The default is the file's own last model, never an imported one.
  const models = program.defs.filter((d) => d.kind === 'model');
  const model = options.model === undefined ? models.at(-1) : defs.get(options.model);
  if (model?.kind !== 'model') {
    const names = models.map((m) => m.name.name);
    const what = options.model === undefined ? 'this file defines no model' : `no model named \`${options.model}\``;
    diags.error(
      'E0208',
      `${what}${names.length ? ` (models: ${names.join(', ')})` : ''}`,
      program.span,
      options.model === undefined ? { help: 'add `model Name { input [C, H, W] ... }`' } : {},
    );
    return null;
  }
  try {
    return new Elaborator(defs, diags, constants).model(model, options.settings ?? []);
  } catch (e) {
    if (e instanceof Abort) return null;
    throw e;
  }
}

function collectDefs(
  sources: readonly { program: Program; importedAt: Span | null }[],
  diags: DiagnosticBag,
): Map<string, BlockDef> {
  const defs = new Map<string, BlockDef>();
  for (const { program, importedAt } of sources) {
    for (const d of program.defs) {
      const name = d.name.name;
      const prev = defs.get(name);
      if (layers.has(name) || builtinFunctions.has(name)) {
        diags.error(
          'E0206',
          `\`${name}\` is a built-in ${layers.has(name) ? 'layer' : 'function'} and cannot be redefined`,
          d.name.span,
        );
      } else if (prev && prev.span.file !== d.span.file && importedAt !== null) {
        // Two files define one name: the error is at the import that brought the second one in.
        diags.error(
          'E0206',
          `\`${name}\` is defined in both ${prev.span.file.path} and ${d.span.file.path}`,
          importedAt,
          {
            notes: [
              { message: 'one definition', span: prev.name.span },
              { message: 'the other', span: d.name.span },
            ],
            help: 'rename one of them',
          },
        );
      } else if (prev) {
        diags.error('E0206', `\`${name}\` is defined twice`, d.name.span, {
          notes: [{ message: 'first defined here', span: prev.name.span }],
        });
      } else {
        defs.set(name, d);
      }
    }
  }
  return defs;
}

/** How many of a call's first arguments are positional tensors: the layer's inputs. */
function leadingTensors(args: readonly ArgValue[]): number {
  let lead = 0;
  while (lead < args.length && args[lead]!.name === null && args[lead]!.value.kind === 'tensor') lead++;
  return lead;
}

class Elaborator {
  private readonly nodes: Node[] = [];
  private readonly globals = new Scope(null);
  private readonly defs: ReadonlyMap<string, BlockDef>;
  private readonly diags: DiagnosticBag;
  private steps = 0;
  /**
   * Where each value was last given a face in the source: the name it was bound to (`y = ...`) or
   * the block call that returned it. Later (outer) ones overwrite, so warnings point outermost.
   */
  private readonly origins = new Map<NodeId, ValueOrigin>();
  /** Source positions already warned about: a block called ten times warns once. */
  private readonly warned = new Set<number>();

  /** Parameters given by constants (`conv(1, kernel = (1, 2), weight = K)`), by state_dict name. */
  private readonly fixed = new Map<string, FixedParam>();

  constructor(defs: ReadonlyMap<string, BlockDef>, diags: DiagnosticBag, constants: ReadonlyMap<string, ConstTensor>) {
    this.defs = defs;
    this.diags = diags;
    for (const [name, value] of constants) this.globals.set(name, { kind: 'const', name, value });
  }

  model(def: BlockDef, settings: readonly Param[]): ElaboratedGraph {
    const scope = new Scope(this.globals);
    const set = this.settings(def, settings);
    for (const p of def.params) {
      if (!p.default) this.fail('E0203', `model parameter \`${p.name.name}\` needs a default value`, p.span);
      const dflt = this.expr(p.default, this.globals, null, null);
      const given = set.get(p.name.name);
      if (given)
        this.checkSetting(
          p.name.name,
          dflt,
          given.value,
          settings.find((q) => q.name.name === p.name.name)!.default!.span,
        );
      scope.set(p.name.name, given ? given.value : dflt);
    }
    const frame: Frame = { prefix: '', counter: { next: 0 }, callers: [], isModel: true, paths: new Map() };
    const out = this.body(def.body, scope, frame, null);
    const input = this.nodes.find((n) => n.op === 'input');
    if (out === null || !input) {
      this.fail('E0207', `model \`${def.name.name}\` has no \`input [C, H, W]\` statement`, def.name.span);
    }
    if (out === input.id) {
      this.fail('E0213', `model \`${def.name.name}\` has no layers: its output is its input`, def.name.span, {
        notes: [{ message: 'the input is declared here', span: input.span }],
        help: 'add layers after `input`, ending in `linear(num_classes)` for a classifier',
      });
    }
    reportUnused(this.nodes, out, this.origins, this.diags);
    return {
      model: def.name.name,
      nodes: this.nodes,
      output: out,
      ...(this.fixed.size > 0 ? { fixed: this.fixed } : {}),
    };
  }

  /** `--set NAME=VALUE`: bound to the model's parameters as keyword arguments, evaluated as defaults are. */
  private settings(def: BlockDef, settings: readonly Param[]): ReadonlyMap<string, ArgValue> {
    const args = settings.map((s) => ({
      name: s.name.name,
      value: this.expr(s.default!, this.globals, null, null),
      span: s.name.span,
    }));
    const bound = bindArgs(
      `model ${def.name.name}`,
      def.params.map((p) => ({ name: p.name.name, required: false })),
      args,
    );
    if (!bound.ok)
      this.fail(
        'E0203',
        bound.message,
        bound.span ?? def.name.span,
        bound.help !== undefined ? { help: bound.help } : {},
      );
    return bound.bound;
  }

  /**
   * A set value has its default's kind (a number, a tuple, a bool, a string, a layer), as the model
   * was written for it. Whether a number fits (an int for channels) is checked where it is used.
   */
  private checkSetting(name: string, dflt: Value, given: Value, span: Span): void {
    const kind = (v: Value): string => (v.kind === 'range' ? 'seq' : v.kind);
    if (kind(dflt) === kind(given)) return;
    const want = dflt.kind === 'num' ? 'a number' : typeName(dflt);
    this.fail(
      'E0204',
      `\`--set ${name}\` expects ${want} like its default \`${show(dflt)}\`, got ${typeName(given)} \`${show(given)}\``,
      span,
    );
  }

  // ---- errors ----

  private fail(
    code: DiagCode,
    message: string,
    span: Span,
    extra: { notes?: readonly Note[]; help?: string } = {},
    frame?: Frame | null,
  ): never {
    const chain = (frame?.callers ?? [])
      .slice()
      .reverse()
      .map((c) => ({ message: `in block \`${c.block}\` called here`, span: c.span }));
    this.diags.error(code, message, span, { ...extra, notes: [...(extra.notes ?? []), ...chain] });
    throw new Abort();
  }

  // ---- graph building ----

  private add<K extends OpKind>(
    op: K,
    attrs: OpAttrs[K],
    inputs: readonly NodeId[],
    span: Span,
    path: string,
    frame: Frame,
  ): NodeId {
    if (this.nodes.length >= MAX_NODES) this.fail('E0211', `the model grows past ${MAX_NODES} layers`, span, {}, frame);
    const id = this.nodes.length;
    this.nodes.push({ id, op, attrs, inputs, span, path, callers: frame.callers } as Node);
    return id;
  }

  // ---- statements ----

  // Loop and `if` bodies share their block's scope, as Python's do: d2l reassigns in loops
  // (`X = torch.cat((X, Y), dim=1)`, `num_channels += ...`) and reads the result afterwards.
  private body(body: Body, scope: Scope, frame: Frame, current: NodeId | null): NodeId | null {
    let cur = current;
    for (const s of body.stmts) cur = this.stmt(s, scope, frame, cur);
    return cur;
  }

  private stmt(s: Stmt, scope: Scope, frame: Frame, cur: NodeId | null): NodeId | null {
    switch (s.kind) {
      case 'input': {
        // A model called as a stage takes the stage's input, whatever its own `input` declares.
        if (frame.isModel && frame.callers.length > 0) return cur;
        if (!frame.isModel) this.fail('E0207', '`input` is only allowed in a model, not in a block', s.span, {}, frame);
        if (this.nodes.some((n) => n.op === 'input'))
          this.fail('E0207', 'a model has one `input` statement', s.span, {}, frame);
        const dims = s.dims.map((d) =>
          this.positiveInt(this.expr(d, scope, frame, cur), 'input dimension', d.span, frame),
        );
        if (dims.length !== 1 && dims.length !== 3 && dims.length !== 4)
          this.fail(
            'E0203',
            `\`input\` takes [C, H, W], [C, D, H, W] or [F], got ${dims.length} dimensions`,
            s.span,
            {},
            frame,
          );
        const id = this.add('input', { shape: dims }, [], s.span, '', frame);
        scope.set('x', { kind: 'tensor', node: id });
        return id;
      }
      case 'assign': {
        const v = this.pipeline(s.value, scope, frame, cur, s.name);
        scope.set(s.name.name, v);
        if (v.kind === 'tensor')
          this.origins.set(v.node, { span: s.name.span, name: s.name.name, callers: frame.callers });
        return v.kind === 'tensor' ? v.node : cur;
      }
      case 'pipeline': {
        const v = this.pipeline(s.pipeline, scope, frame, cur);
        const only = s.pipeline.stages.length === 1 ? s.pipeline.stages[0]!.expr : null;
        if (v.kind !== 'tensor' && only?.kind === 'name') this.notALayer(only.name, v, only.span, frame);
        if (v.kind !== 'tensor')
          this.fail(
            'E0210',
            `this statement computes ${typeName(v)} ${show(v)} and does nothing with it`,
            s.span,
            { help: 'bind it to a name: `name = ...`' },
            frame,
          );
        return v.node;
      }
      case 'repeat': {
        const n = this.count(this.expr(s.count, scope, frame, cur), s.count.span, frame);
        for (let i = 0; i < n; i++) {
          this.step(s.span, frame);
          if (s.index) scope.set(s.index.name, num(i));
          cur = this.body(s.body, scope, frame, cur);
        }
        return cur;
      }
      case 'for': {
        const it = this.expr(s.iterable, scope, frame, cur);
        if (!isSeq(it))
          this.fail(
            'E0204',
            `\`for\` needs a tuple or list to loop over, got ${typeName(it)}`,
            s.iterable.span,
            {},
            frame,
          );
        const n = this.count(num(seqLength(it)), s.iterable.span, frame);
        for (let i = 0; i < n; i++) {
          this.step(s.span, frame);
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
      const branch = this.cond(link.cond, scope, frame, cur) ? link.then : link.else;
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
      this.fail('E0204', `cannot unpack ${typeName(v)} ${show(v)} into ${p.items.length} names`, p.span, {}, frame);
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
    const callee = this.callee(e, scope);
    if (callee !== null) {
      const own = e.kind === 'call' ? this.args(e.args, scope, frame, input) : [];
      // A layer value's kept arguments follow the stage's leading tensor inputs: `act(y)`.
      const lead = leadingTensors(own);
      const args = [...own.slice(0, lead), ...callee.args, ...own.slice(lead)];
      const explicit = args[0]?.name === null && args[0].value.kind === 'tensor';
      if (assignedTo !== null && input !== null && !explicit) this.warnImplicitInput(assignedTo, st, scope, input);
      return { kind: 'tensor', node: this.call(callee.name, args, st, input, frame) };
    }
    if (st.label) this.fail('E0210', '`as` names a layer, and this is not a layer call', st.label.span, {}, frame);
    if (e.kind === 'if') {
      const branch = this.branch(e, scope, frame, input);
      const out = branch ? this.body(branch, scope, frame, input) : input;
      if (out === null) this.fail('E0207', 'this `if` has no tensor to work on', e.span, {}, frame);
      return { kind: 'tensor', node: out };
    }
    const v = this.expr(e, scope, frame, input);
    if (!first) {
      if (e.kind === 'name' && v.kind !== 'tensor') this.notALayer(e.name, v, e.span, frame);
      this.fail(
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
    return this.fail(
      'E0210',
      `\`${name}\` is ${typeName(v)} (${show(v)}), not a layer`,
      span,
      {
        help: 'a layer passed as an argument is written `act = relu` or `act = leaky_relu(0.1)`',
      },
      frame,
    );
  }

  /**
   * The layer, block or model a stage calls with the arguments it already holds, or null when the
   * stage is an ordinary expression. A name bound to a layer value (a block's `act` parameter)
   * calls that layer.
   */
  private callee(e: Expr, scope: Scope): { name: string; args: readonly ArgValue[] } | null {
    const name = e.kind === 'name' ? e.name : e.kind === 'call' && e.callee.kind === 'name' ? e.callee.name : null;
    if (name === null) return null;
    const bound = scope.lookup(name);
    if (bound !== undefined) return bound.kind === 'ref' ? { name: bound.name, args: bound.args ?? [] } : null;
    const known = layers.has(name) || this.defs.has(name) || (e.kind === 'call' && !builtinFunctions.has(name));
    return known ? { name, args: [] } : null;
  }

  private args(
    args: readonly { name: { name: string } | null; value: Expr; span: Span }[],
    scope: Scope,
    frame: Frame,
    cur: NodeId | null,
  ): ArgValue[] {
    return args.map((a) => ({
      name: a.name?.name ?? null,
      value: this.expr(a.value, scope, frame, cur),
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
      this.fail('E0207', `\`${name}\` has no input: put \`input [C, H, W]\` before the first layer`, span, {}, frame);
    }
    // A label still uses up its index, so labelling one layer never renames its siblings.
    const position = frame.counter.next++;
    const index = st.label?.name ?? String(position);
    const path = frame.prefix + index;
    this.claimPath(path, st.label?.span ?? span, frame);
    const layer = layers.get(name);
    if (layer) {
      if (layer.inputs === 1 && inputs.length > 1)
        this.fail('E0203', `\`${name}\` takes one tensor input, got ${inputs.length}`, span, {}, frame);
      const { op, attrs } = layer.build(
        this.layerArgs(name, this.fixedArgs(name, rest, path, span, frame), span, frame),
      );
      return this.add(op, attrs, inputs, span, path, frame);
    }
    const def = this.defs.get(name);
    if (!def) {
      const near = nearest(name, [...layers.keys(), ...this.defs.keys()]);
      this.fail(
        'E0202',
        `unknown layer or block \`${name}\``,
        span,
        near ? { help: `did you mean \`${near}\`?` } : {},
        frame,
      );
    }
    // A model used as a stage is a block, as a PyTorch module is inside another (its `input` is skipped).
    if (inputs.length > 1)
      this.fail('E0203', `${def.kind} \`${name}\` takes one tensor input, got ${inputs.length}`, span, {}, frame);
    const active = frame.callers.find((c) => c.block === name);
    if (active) {
      this.fail(
        'E0205',
        `block \`${name}\` calls itself`,
        span,
        { help: 'blocks are expanded at compile time, so recursion would never end; use `repeat` instead' },
        frame,
      );
    }
    if (frame.callers.length >= MAX_BLOCK_DEPTH) {
      this.fail(
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
      this.fail(
        'E0203',
        bound.message,
        bound.span ?? span,
        bound.help !== undefined ? { help: bound.help } : {},
        frame,
      );
    const inner = new Scope(this.globals);
    for (const p of def.params) {
      const a = bound.bound.get(p.name.name);
      inner.set(p.name.name, a ? a.value : this.expr(p.default!, this.globals, null, null));
    }
    inner.set('x', { kind: 'tensor', node: inputs[0]! });
    this.step(span, frame);
    const innerFrame: Frame = {
      prefix: `${path}.`,
      counter: { next: 0 },
      callers: [...frame.callers, { block: name, span }],
      isModel: def.kind === 'model',
      paths: new Map(),
    };
    const out = this.body(def.body, inner, innerFrame, inputs[0]!)!;
    this.origins.set(out, { span, name: null, callers: frame.callers });
    return out;
  }

  /**
   * `weight = K`, `bias = B` (constants) and `trainable = true` of conv and linear: recorded as the
   * layer's fixed parameters (shapes checks them against the layer's); what remains goes to
   * layerArgs, a constant bias as `bias = true`.
   */
  private fixedArgs(name: string, args: readonly ArgValue[], path: string, span: Span, frame: Frame): ArgValue[] {
    if (name !== 'conv' && name !== 'linear') return [...args];
    const trainableArg = args.find((a) => a.name === 'trainable');
    let trainable = false;
    if (trainableArg !== undefined) {
      if (trainableArg.value.kind !== 'bool')
        this.fail(
          'E0204',
          `\`${name}\` argument \`trainable\` must be true or false, got ${typeName(trainableArg.value)}`,
          trainableArg.span,
          {},
          frame,
        );
      trainable = trainableArg.value.value;
    }
    const rest: ArgValue[] = [];
    let given = 0;
    for (const a of args) {
      if (a === trainableArg) continue;
      if (a.name === 'weight' || (a.name === 'bias' && a.value.kind === 'const')) {
        if (a.value.kind !== 'const')
          this.fail(
            'E0204',
            `\`${name}\` argument \`weight\` must be a constant tensor of the file, got ${typeName(a.value)}`,
            a.span,
            { help: 'define it at the top level: `K = [[1.0, -1.0]]`' },
            frame,
          );
        this.fixed.set(`${path}.${a.name}`, { tensor: a.value.value, trainable, span: a.span });
        given++;
        if (a.name === 'bias') rest.push({ ...a, value: bool(true) });
        continue;
      }
      rest.push(a);
    }
    if (trainableArg !== undefined && given === 0)
      this.fail(
        'E0203',
        '`trainable` applies to a weight or bias given by a constant (`weight = K`)',
        trainableArg.span ?? span,
        {},
        frame,
      );
    return rest;
  }

  private layerArgs(name: string, args: readonly ArgValue[], span: Span, frame: Frame): LayerArgs {
    const layer = layers.get(name)!;
    const bound = bindArgs(
      name,
      layer.params.map((p) => ({ name: p.name, required: p.default === undefined })),
      args,
    );
    if (!bound.ok)
      this.fail('E0203', bound.message, bound.span ?? span, { help: bound.help ?? `usage: ${layer.doc}` }, frame);
    const out = new Map<string, LayerArgs extends ReadonlyMap<string, infer V> ? V : never>();
    for (const sig of layer.params) {
      const a = bound.bound.get(sig.name);
      if (!a) {
        out.set(
          sig.name,
          sig.default === null
            ? null
            : sig.type === 'pair'
              ? [sig.default as number, sig.default as number]
              : sig.type === 'triple'
                ? [sig.default as number, sig.default as number, sig.default as number]
                : sig.default!,
        );
        continue;
      }
      if (a.value.kind === 'tensor')
        this.fail('E0204', `\`${name}\` takes its tensor input first, before other arguments`, a.span, {}, frame);
      const c = convertArg(name, sig, a.value);
      if (!c.ok) this.fail(c.code, c.message, a.span, { help: `usage: ${layer.doc}` }, frame);
      out.set(sig.name, c.value);
    }
    return out;
  }

  // ---- expressions ----

  private cond(e: Expr, scope: Scope, frame: Frame, cur: NodeId | null): boolean {
    return this.truth(this.expr(e, scope, frame, cur), e.span, frame);
  }

  private truth(v: Value, span: Span, frame: Frame): boolean {
    if (v.kind !== 'bool')
      this.fail('E0204', `a condition must be true or false, got ${typeName(v)} ${show(v)}`, span, {}, frame);
    return v.value;
  }

  private count(v: Value, span: Span, frame: Frame): number {
    if (v.kind !== 'num' || !Number.isInteger(v.value) || v.value < 0)
      this.fail('E0204', `a repeat count must be an integer >= 0, got ${typeName(v)} ${show(v)}`, span, {}, frame);
    if (v.value > MAX_LOOP)
      this.fail('E0211', `a loop of ${v.value} iterations is more than the limit of ${MAX_LOOP}`, span, {}, frame);
    return v.value;
  }

  private positiveInt(v: Value, what: string, span: Span, frame: Frame): number {
    if (v.kind !== 'num' || !Number.isInteger(v.value) || v.value < 1)
      this.fail('E0204', `${what} must be an integer >= 1, got ${typeName(v)} ${show(v)}`, span, {}, frame);
    if (v.value > MAX_INT_ARG)
      this.fail('E0211', `${what} must be at most ${MAX_INT_ARG}, got ${show(v)}`, span, {}, frame);
    return v.value;
  }

  /** Counts one loop iteration or block call against MAX_STEPS. */
  private step(span: Span, frame: Frame): void {
    if (++this.steps > MAX_STEPS)
      this.fail(
        'E0211',
        `elaboration runs more than ${MAX_STEPS} loop iterations and block calls in all`,
        span,
        { help: 'nested loops multiply: check the loop counts' },
        frame,
      );
  }

  /** Two layers of one block instance may not share a parameter path (`as` labels). */
  private claimPath(path: string, span: Span, frame: Frame): void {
    const first = frame.paths.get(path);
    if (first !== undefined) {
      const again = first.start === span.start && first.file === span.file;
      this.fail(
        'E0212',
        `two layers are named \`${path}\`: parameter names such as \`${path}.weight\` must be unique`,
        span,
        {
          notes: again ? [] : [{ message: 'first named here', span: first }],
          help: again
            ? "this label is inside a loop, so every iteration's layer gets it; drop `as` or move the layer out of the loop"
            : 'give each layer its own label',
        },
        frame,
      );
    }
    frame.paths.set(path, span);
  }

  /**
   * `b2 = conv(...)` after `b1 = x -> ...` chains onto b1, not onto x: the Inception-branch slip.
   * Warned where a named value starts implicitly from a previous named value other than `x`.
   */
  private warnImplicitInput(name: Ident, first: Stage, scope: Scope, cur: NodeId): void {
    const prev = this.origins.get(cur)?.name ?? null;
    const x = scope.lookup('x');
    if (prev === null || (x?.kind === 'tensor' && x.node === cur) || this.warned.has(first.span.start)) return;
    this.warned.add(first.span.start);
    this.diags.report(
      'warning',
      'W0202',
      `\`${name.name}\` continues from \`${prev}\`, the previous statement's value, not from \`x\``,
      first.span,
      {
        help: `write \`${name.name} = x -> ...\` for a branch from the input, or \`${name.name} = ${prev} -> ...\` to keep the chain and silence this`,
      },
    );
  }

  private expr(e: Expr, scope: Scope, frame: Frame | null, cur: NodeId | null): Value {
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
        if (layers.has(e.name) || this.defs.has(e.name)) return { kind: 'ref', name: e.name };
        const near = nearest(e.name, [...scope.names(), ...layers.keys(), ...this.defs.keys()]);
        return this.fail(
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
          else return this.fail('E0204', `\`${u.op}\` does not apply to ${typeName(v)}`, u.span, {}, frame);
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
        if (layer !== null && (layers.has(layer.name) || this.defs.has(layer.name)))
          return this.layerValue(e, layer, scope, frame, cur);
        if (name === null || !builtinFunctions.has(name) || scope.lookup(name) !== undefined) {
          return this.fail('E0210', `\`${name ?? 'this expression'}\` is not a function`, e.span, {}, frame);
        }
        const args = e.args.map((a) => {
          if (a.name) this.fail('E0203', `\`${name}\` takes no keyword arguments`, a.span, {}, frame);
          return this.expr(a.value, scope, frame, cur);
        });
        const r = evalBuiltin(name, args);
        return r.ok ? r.value : this.fail(r.code ?? 'E0204', r.message, e.span, {}, frame);
      }
      case 'slice':
        return this.fail(
          'E0210',
          'a slice `a:b` indexes a constant tensor, in a top-level definition (`Y = X[:, 1:3]`)',
          e.span,
          {},
          frame,
        );
      case 'if':
        return this.fail(
          'E0210',
          '`if { } else { }` as a value must be a pipeline stage; use `cond ? a : b` for numbers',
          e.span,
          {},
          frame,
        );
    }
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
      return this.fail(
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
    if (!isSeq(t)) return this.fail('E0204', `cannot index ${typeName(t)}`, e.target.span, {}, frame);
    if (i.kind !== 'num' || !Number.isInteger(i.value))
      return this.fail('E0204', `an index must be an integer, got ${typeName(i)}`, e.index.span, {}, frame);
    const item = seqAt(t, i.value < 0 ? seqLength(t) + i.value : i.value);
    if (!item)
      return this.fail(
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
        node: this.add('add', {}, [a.node, b.node], e.span, frame.prefix.replace(/\.$/, ''), frame),
      };
    }
    if (e.op === '+' && isSeq(a) && isSeq(b)) {
      const [x, y] = [seqItems(a), seqItems(b)];
      if (x === null || y === null || x.length + y.length > MAX_ITEMS)
        return this.fail(
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
      return this.fail('E0204', `\`${e.op}\` does not apply to ${typeName(a)} and ${typeName(b)}`, e.span, help, frame);
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
        if (y === 0) return this.fail('E0211', 'division by zero', e.span, {}, frame);
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
