// The state one elaboration shares between its parts (instantiate.ts, evaluate.ts, layer-args.ts):
// the nodes built so far, the global scope, the definitions, and how errors stop the expansion.
import type { DiagnosticBag, Note, Span } from '../diagnostics/diagnostic.ts';
import type { DiagCode } from '../diagnostics/codes.ts';
import type { BlockDef } from '../syntax/ast.ts';
import type { ConstTensor, FixedParam } from '../ir/constant.ts';
import type { CallSite, Node, NodeId } from '../ir/graph.ts';
import type { OpAttrs, OpKind } from '../ir/ops.ts';
import { Scope } from './scope.ts';
import type { ValueOrigin } from './unused.ts';

/** Raised after a diagnostic is recorded: elaboration of the model stops at its first error. */
export class Abort extends Error {}

/** One block instance being expanded: where its layers are numbered and how it was reached. */
export interface Frame {
  readonly prefix: string;
  readonly counter: { next: number };
  readonly callers: readonly CallSite[];
  /** A model's body: the one elaborated (no callers), or one called as a block, whose `input` is skipped. */
  readonly isModel: boolean;
  /** Parameter paths given out in this instance, and where: two layers may not share one. */
  readonly paths: Map<string, Span>;
}

const MAX_NODES = 200_000;
/** Loop iterations and block calls of one elaboration, all together: nested loops cannot run away. */
const MAX_STEPS = 250_000;

/** One elaboration's graph under construction and its bookkeeping, shared by the modules that expand it. */
export class ElabState {
  readonly nodes: Node[] = [];
  readonly globals = new Scope(null);
  readonly defs: ReadonlyMap<string, BlockDef>;
  readonly diags: DiagnosticBag;
  private steps = 0;
  /**
   * Where each value was last given a face in the source: the name it was bound to (`y = ...`) or
   * the block call that returned it. Later (outer) ones overwrite, so warnings point outermost.
   */
  readonly origins = new Map<NodeId, ValueOrigin>();
  /** Source positions already warned about: a block called ten times warns once. */
  readonly warned = new Set<number>();

  /** Parameters given by constants (`conv(1, kernel = (1, 2), weight = K)`), by state_dict name. */
  readonly fixed = new Map<string, FixedParam>();

  constructor(defs: ReadonlyMap<string, BlockDef>, diags: DiagnosticBag, constants: ReadonlyMap<string, ConstTensor>) {
    this.defs = defs;
    this.diags = diags;
    for (const [name, value] of constants) this.globals.set(name, { kind: 'const', name, value });
  }

  // ---- errors ----

  fail(
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

  add<K extends OpKind>(
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

  /** Counts one loop iteration or block call against MAX_STEPS. */
  step(span: Span, frame: Frame): void {
    if (++this.steps > MAX_STEPS)
      this.fail(
        'E0211',
        `elaboration runs more than ${MAX_STEPS} loop iterations and block calls in all`,
        span,
        { help: 'nested loops multiply: check the loop counts' },
        frame,
      );
  }
}
