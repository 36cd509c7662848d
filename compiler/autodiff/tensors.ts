// The step program's tensor table, and the kernel origin (source line, op) of a graph node.
import type { Shape, ShapedNode } from '../ir/graph.ts';
import { location } from '../diagnostics/render.ts';
import type { KernelOrigin, ScalarType } from '../ir/kernel-facts.ts';
import type { Arena, TensorId, TensorInfo } from './step-ir.ts';

/** Every tensor of a step program; the forward, train and evaluate op lists share it. */
export class TensorTable {
  readonly tensors: TensorInfo[] = [];

  add(name: string, shape: Shape, arena: Arena, type: ScalarType = 'f32'): TensorId {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape, type, arena, aliasOf: null });
    return id;
  }

  /** A view of `of` with another shape (flatten, identity): no copy, no kernel. */
  alias(of: TensorId, name: string, shape: Shape): TensorId {
    const base = this.tensors[of]!;
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape, type: base.type, arena: base.arena, aliasOf: base.aliasOf ?? of });
    return id;
  }

  shape(id: TensorId): Shape {
    return this.tensors[id]!.shape;
  }
}

export function originOf(node: ShapedNode, phase: KernelOrigin['phase']): KernelOrigin {
  const text = node.span.file.text.slice(node.span.start, node.span.end).replace(/\s+/g, ' ');
  return { phase, sources: [`${location(node.span)}  ${text}`], ops: [`${node.op}#${node.id}`] };
}
