// Pass: shape inference. Resolves every lazy dimension (in-channels, in-features), names every
// parameter, and refuses shapes PyTorch would refuse, pointing at the layer that made them.
import type { DiagnosticBag, Note } from '../diagnostics/diagnostic.ts';
import { formatShape, numel, type ElaboratedGraph, type Node, type ParamSpec, type Shape, type ShapedGraph, type ShapedNode } from '../ir/graph.ts';
import { shapeRules } from './rules.ts';

export interface ShapeOptions {
  readonly batch: number;
  /** Replaces the model's `input [C, H, W]` (the CLI's --input). */
  readonly inputShape?: readonly number[];
}

function inputNotes(node: Node, graph: ElaboratedGraph, shapes: readonly Shape[]): Note[] {
  const notes: Note[] = node.inputs.map((i) => {
    const from = graph.nodes[i]!;
    return { message: `input ${formatShape(shapes[i]!)} comes from \`${from.op}\``, span: from.span };
  });
  for (const c of node.callers.slice().reverse()) notes.push({ message: `in block \`${c.block}\` called here`, span: c.span });
  return notes;
}

export function inferShapes(graph: ElaboratedGraph, options: ShapeOptions, diags: DiagnosticBag): ShapedGraph | null {
  const shapes: Shape[] = [];
  const nodes: ShapedNode[] = [];
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => shapes[i]!);
    const n = node.op === 'input' && options.inputShape ? { ...node, attrs: { shape: options.inputShape } } : node;
    const r = (shapeRules[n.op] as (n: Node, i: readonly Shape[], b: number) => ReturnType<(typeof shapeRules)['input']>)(n, ins, options.batch);
    if (!r.ok) {
      diags.error(r.code, r.message, node.span, { notes: inputNotes(node, graph, shapes), ...(r.help !== undefined ? { help: r.help } : {}) });
      return null;
    }
    if (r.shape.some((d) => d < 1)) {
      diags.error('E0304', `\`${node.op}\` yields an empty tensor ${formatShape(r.shape)}`, node.span, { notes: inputNotes(node, graph, shapes) });
      return null;
    }
    shapes.push(r.shape);
    const params: ParamSpec[] = r.params.map((p) => ({
      name: `${node.path}.${p.role}`,
      role: p.role,
      shape: p.shape,
      learnable: p.role === 'weight' || p.role === 'bias',
    }));
    nodes.push({ ...n, shape: r.shape, params, flops: r.flops } as ShapedNode);
  }
  return { model: graph.model, nodes, output: graph.output, batch: options.batch };
}

export function totalParams(graph: ShapedGraph): number {
  return graph.nodes.reduce((t, n) => t + n.params.filter((p) => p.learnable).reduce((s, p) => s + numel(p.shape), 0), 0);
}
