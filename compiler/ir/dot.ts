// The graph as Graphviz DOT (`cnnc compile --emit graph`): one box per layer with its output shape.
import { formatShape, type ShapedGraph } from './graph.ts';

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function graphToDot(g: ShapedGraph): string {
  const lines = [`digraph ${quote(g.model)} {`, '  rankdir=TB;', '  node [shape=box, fontname="monospace"];'];
  for (const n of g.nodes) {
    const label = `${n.path === '' ? '' : n.path + ' '}${n.op}\\n${formatShape(n.shape)}`;
    lines.push(`  n${n.id} [label=${quote(label).replace(/\\\\n/g, '\\n')}];`);
    for (const i of n.inputs) lines.push(`  n${i} -> n${n.id};`);
  }
  lines.push('}');
  return lines.join('\n');
}
