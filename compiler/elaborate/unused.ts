// Unused values: a layer output that nothing reads and that is not the model's output, like an
// unused variable. Its parameters stay (PyTorch counts an unused module's too), so this is a warning.
import type { DiagnosticBag, Span } from '../diagnostics/diagnostic.ts';
import type { CallSite, Node, NodeId } from '../ir/graph.ts';
import { opDisplayNames } from '../ir/ops.ts';

/** What the user wrote for a value: `name = ...` (the name's span) or a block call (name null). */
export interface ValueOrigin {
  readonly span: Span;
  readonly name: string | null;
  /** The block calls that lead to `span`, outermost first. */
  readonly callers: readonly CallSite[];
}

/**
 * Warns (W0201) once per source position for every node whose value is never read: the tail of
 * an unused chain (the layers before it are read by it). A block called many times warns once.
 */
export function reportUnused(
  nodes: readonly Node[],
  output: NodeId,
  origins: ReadonlyMap<NodeId, ValueOrigin>,
  diags: DiagnosticBag,
): void {
  const read = new Set<NodeId>([output]);
  for (const n of nodes) for (const i of n.inputs) read.add(i);
  const seen = new Set<string>();
  for (const n of nodes) {
    if (read.has(n.id) || n.op === 'input') continue;
    const origin = origins.get(n.id);
    const span = origin?.span ?? n.span;
    const key = `${span.start}:${span.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const what =
      origin === undefined
        ? `the output of this \`${opDisplayNames[n.op]}\``
        : origin.name === null
          ? 'the output of this block'
          : `\`${origin.name}\``;
    diags.report('warning', 'W0201', `${what} is computed but never used`, span, {
      notes: (origin?.callers ?? n.callers)
        .slice(-1)
        .map((c) => ({ message: `in block \`${c.block}\` called here`, span: c.span })),
      help: "use it or remove it; any parameters it has still count (as an unused PyTorch module's do) but get no gradient",
    });
  }
}
