// Unused values: a layer output that nothing reads and that is not the model's output, like an
// unused variable. Its parameters stay (PyTorch counts an unused module's too), so this is a warning.
import type { DiagnosticBag, Span } from '../diagnostics/diagnostic.ts';
import type { Node, NodeId } from '../ir/graph.ts';
import { opDisplayNames } from '../ir/ops.ts';
import type { Ident } from '../syntax/ast.ts';

/**
 * Warns (W0201) once per source position for every node whose value is never read: the tail of
 * an unused chain (the layers before it are read by it). A block called many times warns once.
 */
export function reportUnused(nodes: readonly Node[], output: NodeId, names: ReadonlyMap<NodeId, Ident>, diags: DiagnosticBag): void {
  const read = new Set<NodeId>([output]);
  for (const n of nodes) for (const i of n.inputs) read.add(i);
  const seen = new Set<string>();
  for (const n of nodes) {
    if (read.has(n.id) || n.op === 'input') continue;
    const name = names.get(n.id);
    const span: Span = name?.span ?? n.span;
    const key = `${span.start}:${span.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const what = name ? `\`${name.name}\` is computed but never used` : `the output of this \`${opDisplayNames[n.op]}\` is computed but never used`;
    diags.report('warning', 'W0201', what, span, {
      notes: n.callers.slice(-1).map((c) => ({ message: `in block \`${c.block}\` called here`, span: c.span })),
      help: 'use it or remove it; its parameters still exist and count (as an unused PyTorch module\'s do) but get no gradient',
    });
  }
}
