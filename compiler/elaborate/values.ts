// Values of the .cnn language during elaboration: parameters are plain data, tensors are graph nodes.
import type { NodeId } from '../ir/graph.ts';

export type Value =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'seq'; readonly items: readonly Value[] }
  | { readonly kind: 'tensor'; readonly node: NodeId }
  /** A layer or block named without a call (`sigmoid`, `flatten`), or a bare word in `train { }`. */
  | { readonly kind: 'ref'; readonly name: string };

export const num = (value: number): Value => ({ kind: 'num', value });
export const bool = (value: boolean): Value => ({ kind: 'bool', value });
export const seq = (items: readonly Value[]): Value => ({ kind: 'seq', items });

export function typeName(v: Value): string {
  switch (v.kind) {
    case 'num': return Number.isInteger(v.value) ? 'an int' : 'a float';
    case 'bool': return 'a bool';
    case 'str': return 'a string';
    case 'seq': return 'a tuple';
    case 'tensor': return 'a tensor';
    case 'ref': return `\`${v.name}\``;
  }
}

export function show(v: Value): string {
  switch (v.kind) {
    case 'num': return String(v.value);
    case 'bool': return String(v.value);
    case 'str': return JSON.stringify(v.value);
    case 'seq': return `(${v.items.map(show).join(', ')})`;
    case 'tensor': return `tensor %${v.node}`;
    case 'ref': return v.name;
  }
}

export function equal(a: Value, b: Value): boolean {
  if (a.kind === 'seq' && b.kind === 'seq') return a.items.length === b.items.length && a.items.every((x, i) => equal(x, b.items[i]!));
  if (a.kind === 'tensor' && b.kind === 'tensor') return a.node === b.node;
  return a.kind === b.kind && 'value' in a && 'value' in b ? a.value === b.value : a.kind === 'ref' && b.kind === 'ref' && a.name === b.name;
}
