// Values of the .cnn language during elaboration: parameters are plain data, tensors are graph nodes.
import type { Span } from '../diagnostics/diagnostic.ts';
import type { ConstTensor } from '../ir/constant.ts';
import type { NodeId } from '../ir/graph.ts';

/** An argument a layer value carries (`leaky_relu(0.1)`), bound when the layer is used as a stage. */
export interface HeldArg {
  readonly name: string | null;
  readonly value: Value;
  readonly span: Span;
}

export type Value =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'seq'; readonly items: readonly Value[] }
  /**
   * `range(start, end)`, kept lazy: `len(range(10 ** 9))` is O(1), and a loop over it is refused
   * by its length before any item exists. end >= start, both safe integers.
   */
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  | { readonly kind: 'tensor'; readonly node: NodeId }
  /** A constant tensor of the file (`K = [[1.0, -1.0]]`): a layer's fixed weight or bias. */
  | { readonly kind: 'const'; readonly name: string; readonly value: ConstTensor }
  /**
   * A layer, block or model as a value: named without a call (`sigmoid`, `flatten`, a bare word in
   * `train { }`), or called outside a stage with the arguments it keeps (`act = leaky_relu(0.1)`).
   */
  | { readonly kind: 'ref'; readonly name: string; readonly args?: readonly HeldArg[] };

export type SeqValue = Extract<Value, { kind: 'seq' | 'range' }>;

/** The longest tuple elaboration builds (a range longer than this stays lazy and cannot be listed). */
export const MAX_ITEMS = 100_000;

export const num = (value: number): Value => ({ kind: 'num', value });
export const bool = (value: boolean): Value => ({ kind: 'bool', value });
export const seq = (items: readonly Value[]): Value => ({ kind: 'seq', items });

export const isSeq = (v: Value): v is SeqValue => v.kind === 'seq' || v.kind === 'range';

export function seqLength(v: SeqValue): number {
  return v.kind === 'seq' ? v.items.length : v.end - v.start;
}

/** Item `i` (0 <= i < length), without listing a range. */
export function seqAt(v: SeqValue, i: number): Value | undefined {
  if (v.kind === 'seq') return v.items[i];
  return i >= 0 && i < v.end - v.start ? num(v.start + i) : undefined;
}

/** Every item, or null for a range longer than MAX_ITEMS (the caller reports it). */
export function seqItems(v: SeqValue): readonly Value[] | null {
  if (v.kind === 'seq') return v.items;
  const n = v.end - v.start;
  return n > MAX_ITEMS ? null : Array.from({ length: n }, (_, i) => num(v.start + i));
}

export function typeName(v: Value): string {
  switch (v.kind) {
    case 'num':
      return Number.isInteger(v.value) ? 'an int' : 'a float';
    case 'bool':
      return 'a bool';
    case 'str':
      return 'a string';
    case 'seq':
      return 'a tuple';
    case 'range':
      return 'a range';
    case 'tensor':
      return 'a tensor';
    case 'const':
      return 'a constant tensor';
    case 'ref':
      return `\`${v.name}\``;
  }
}

// Loops can nest a value as deep as they run (`repeat 10000 { t = [t] }`): messages show the
// outer levels only, and `equal` walks with a stack of its own rather than recursing.
const shownDepth = 8;

export function show(v: Value, depth = 0): string {
  switch (v.kind) {
    case 'num':
      return String(v.value);
    case 'bool':
      return String(v.value);
    case 'str':
      return JSON.stringify(v.value);
    case 'seq':
      return depth >= shownDepth ? '(...)' : `(${v.items.map((x) => show(x, depth + 1)).join(', ')})`;
    case 'range':
      return `range(${v.start}, ${v.end})`;
    case 'tensor':
      return `tensor %${v.node}`;
    case 'const':
      return `${v.name} [${v.value.shape.join(', ')}]`;
    case 'ref':
      return v.args === undefined
        ? v.name
        : `${v.name}(${v.args.map((a) => `${a.name === null ? '' : `${a.name} = `}${show(a.value, depth + 1)}`).join(', ')})`;
  }
}

/** Python's ==: a range equals a range with the same items, never a tuple. */
export function equal(a: Value, b: Value): boolean {
  // Its own stack: values nested by loops (`repeat 10000 { t = [t] }`) would overflow the call stack.
  const pending: [Value, Value][] = [[a, b]];
  for (let pair = pending.pop(); pair !== undefined; pair = pending.pop()) {
    const [x, y] = pair;
    if (x.kind === 'seq' && y.kind === 'seq') {
      if (x.items.length !== y.items.length) return false;
      x.items.forEach((item, i) => pending.push([item, y.items[i]!]));
    } else if (x.kind === 'range' && y.kind === 'range') {
      if (seqLength(x) !== seqLength(y) || (seqLength(x) !== 0 && x.start !== y.start)) return false;
    } else if (!equalLeaf(x, y)) return false;
  }
  return true;
}

function equalLeaf(a: Value, b: Value): boolean {
  if (a.kind === 'tensor' && b.kind === 'tensor') return a.node === b.node;
  if (a.kind === 'const' && b.kind === 'const') return a.value === b.value;
  return a.kind === b.kind && 'value' in a && 'value' in b
    ? a.value === b.value
    : a.kind === 'ref' && b.kind === 'ref' && show(a) === show(b);
}
