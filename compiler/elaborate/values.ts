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

// Loops can nest a value as deep as they run (`repeat 10000 { t = [t] }`): messages show the
// outer levels only, and `equal` walks with a stack of its own rather than recursing.
const shownDepth = 8;

export function show(v: Value, depth = 0): string {
  switch (v.kind) {
    case 'num': return String(v.value);
    case 'bool': return String(v.value);
    case 'str': return JSON.stringify(v.value);
    case 'seq': return depth >= shownDepth ? '(...)' : `(${v.items.map((x) => show(x, depth + 1)).join(', ')})`;
    case 'tensor': return `tensor %${v.node}`;
    case 'ref': return v.name;
  }
}

export function equal(a: Value, b: Value): boolean {
  const pending: [Value, Value][] = [[a, b]];
  for (let pair = pending.pop(); pair !== undefined; pair = pending.pop()) {
    const [x, y] = pair;
    if (x.kind === 'seq' && y.kind === 'seq') {
      if (x.items.length !== y.items.length) return false;
      x.items.forEach((item, i) => pending.push([item, y.items[i]!]));
    } else if (!equalLeaf(x, y)) return false;
  }
  return true;
}

function equalLeaf(a: Value, b: Value): boolean {
  if (a.kind === 'tensor' && b.kind === 'tensor') return a.node === b.node;
  return a.kind === b.kind && 'value' in a && 'value' in b ? a.value === b.value : a.kind === 'ref' && b.kind === 'ref' && a.name === b.name;
}
