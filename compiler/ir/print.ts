// Stable text form of a graph: one line per node, for golden tests and `cnnc compile --emit ir`.
import { formatShape, type ElaboratedGraph, type Node, type ShapedGraph, type ShapedNode } from './graph.ts';

function attrText(value: unknown): string {
  if (Array.isArray(value))
    return value[0] === value[1] && value.length === 2 ? String(value[0]) : `(${value.join(', ')})`;
  return String(value);
}

function nodeLine(n: Node | ShapedNode): string {
  const attrs = Object.entries(n.attrs)
    .map(([k, v]) => `${k}=${attrText(v)}`)
    .join(' ');
  const shape = 'shape' in n ? ` : ${formatShape(n.shape)}` : '';
  const path = n.path === '' ? '' : `  @${n.path}`;
  const ins = n.inputs.map((i) => `%${i}`).join(', ');
  const { line, col } = n.span.file.position(n.span.start);
  return `%${n.id} = ${n.op}(${ins})${attrs ? ' ' + attrs : ''}${shape}${path}  # ${line}:${col}`;
}

export function printGraph(g: ElaboratedGraph | ShapedGraph): string {
  return [`graph ${g.model} {`, ...g.nodes.map((n) => `  ${nodeLine(n)}`), `  return %${g.output}`, '}'].join('\n');
}
