// Operations on constant tensors (float32, row-major), as PyTorch defines them for the few that
// d2l's chapters 7.2-7.5 use to build their examples. Each returns the result or a message; the
// caller (constants.ts) reports it at the expression.
import type { DiagCode } from '../diagnostics/codes.ts';
import type { ConstTensor } from '../ir/constant.ts';

/** Failures are shape mismatches (E0234) unless they say otherwise: a bad index (E0235), too large (E0211). */
export type Result<T = ConstTensor> = { ok: true; value: T } | { ok: false; message: string; code: DiagCode };

/** The most elements one constant may hold (64 MiB of float32): a literal typo, not a data set. */
export const MAX_CONST_ELEMENTS = 2 ** 24;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const err = (message: string, code: DiagCode = 'E0234'): { ok: false; message: string; code: DiagCode } => ({
  ok: false,
  message,
  code,
});

export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

export function filled(shape: readonly number[], value: number): Result {
  const bad = shape.find((d) => !Number.isInteger(d) || d < 1);
  if (bad !== undefined) return err(`a tensor's dimensions are integers >= 1, got ${shapeText(shape)}`);
  const n = count(shape);
  if (n > MAX_CONST_ELEMENTS)
    return err(`a constant tensor holds at most ${MAX_CONST_ELEMENTS} values, ${shapeText(shape)} has ${n}`, 'E0211');
  return ok({ shape: [...shape], data: new Float32Array(n).fill(value) });
}

/** torch.arange(start, end, step) in float32: end excluded. */
export function arange(start: number, end: number, step: number): Result {
  if (step === 0) return err('`arange` step must not be 0');
  const n = Math.ceil((end - start) / step);
  if (!(n >= 1)) return err(`\`arange(${start}, ${end}, ${step})\` is empty`);
  if (n > MAX_CONST_ELEMENTS) return err(`\`arange\` would hold ${n} values, more than ${MAX_CONST_ELEMENTS}`, 'E0211');
  return ok({ shape: [n], data: Float32Array.from({ length: n }, (_, i) => start + i * step) });
}

/** torch.reshape: one dimension may be -1, inferred from the element count. */
export function reshape(t: ConstTensor, shape: readonly number[]): Result {
  const free = shape.filter((d) => d === -1).length;
  const known = count(shape.filter((d) => d !== -1));
  if (free > 1 || shape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)))
    return err(`\`reshape\` takes dimensions >= 1 and at most one -1, got ${shapeText(shape)}`);
  const resolved = shape.map((d) => (d === -1 ? t.data.length / known : d));
  if (count(resolved) !== t.data.length || !resolved.every(Number.isInteger)) {
    return err(
      `cannot reshape a tensor of shape ${shapeText(t.shape)} (${t.data.length} values) to ${shapeText(shape)}`,
    );
  }
  return ok({ shape: resolved, data: t.data });
}

/** torch.transpose(t, a, b): dimensions a and b swapped (negative ones count from the end). */
export function transpose(t: ConstTensor, a: number, b: number): Result {
  const r = t.shape.length;
  const [x, y] = [a < 0 ? a + r : a, b < 0 ? b + r : b];
  if (!(x >= 0 && x < r && y >= 0 && y < r))
    return err(`\`transpose\` dimensions ${a} and ${b} are out of range for a tensor of ${r} dimensions`);
  const shape = [...t.shape];
  [shape[x], shape[y]] = [shape[y]!, shape[x]!];
  const src = strides(t.shape);
  [src[x], src[y]] = [src[y]!, src[x]!];
  return ok({ shape, data: gather(shape, src, 0, t.data) });
}

/** Values of a strided view (`strides` into `data` from `offset`), in the row-major order of `shape`. */
function gather(shape: readonly number[], stride: readonly number[], offset: number, data: Float32Array): Float32Array {
  const out = new Float32Array(count(shape));
  const at = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += at[d]! * stride[d]!;
    out[i] = data[src]!;
    for (let d = shape.length - 1; d >= 0 && ++at[d]! === shape[d]!; d--) at[d] = 0;
  }
  return out;
}

/** torch.stack (new dimension `dim`) or torch.cat (along `dim`) of tensors of one shape. */
export function join(ts: readonly ConstTensor[], dim: number, how: 'stack' | 'cat'): Result {
  const first = ts[0];
  if (first === undefined) return err(`\`${how}\` needs at least one tensor`);
  const rank = first.shape.length + (how === 'stack' ? 1 : 0);
  const d = dim < 0 ? dim + rank : dim;
  if (!(d >= 0 && d < rank)) return err(`\`${how}\` dimension ${dim} is out of range for ${rank} dimensions`);
  for (const [i, t] of ts.entries()) {
    const same =
      t.shape.length === first.shape.length &&
      t.shape.every((s, j) => s === first.shape[j] || (how === 'cat' && j === d));
    if (!same)
      return err(
        `\`${how}\` tensor ${i} has shape ${shapeText(t.shape)}, tensor 0 ${shapeText(first.shape)}${how === 'cat' ? ` (they may differ only in dimension ${d})` : ''}`,
      );
  }
  const parts = ts.map((t) => (how === 'stack' ? [...t.shape.slice(0, d), 1, ...t.shape.slice(d)] : t.shape));
  const shape = [...parts[0]!];
  shape[d] = parts.reduce((a, p) => a + p[d]!, 0);
  if (count(shape) > MAX_CONST_ELEMENTS)
    return err(`\`${how}\` would hold ${count(shape)} values, more than ${MAX_CONST_ELEMENTS}`, 'E0211');
  // Row-major: the result is `outer` runs, each the tensors' blocks of their dimensions d.. one after another.
  const outer = count(shape.slice(0, d));
  const data = new Float32Array(count(shape));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    ts.forEach((t, k) => {
      const block = count(parts[k]!.slice(d));
      data.set(t.data.subarray(i * block, (i + 1) * block), o);
      o += block;
    });
  }
  return ok({ shape, data });
}

/** torch.matmul of two 2-D tensors. */
export function matmul(a: ConstTensor, b: ConstTensor): Result {
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (a.shape.length !== 2 || b.shape.length !== 2 || k !== k2)
    return err(`\`matmul\` needs [m, k] and [k, n] tensors, got ${shapeText(a.shape)} and ${shapeText(b.shape)}`);
  const out = new Float32Array(m! * n!);
  for (let i = 0; i < m!; i++) {
    for (let j = 0; j < n!; j++) {
      let s = 0;
      for (let q = 0; q < k!; q++) s += a.data[i * k! + q]! * b.data[q * n! + j]!;
      out[i * n! + j] = s;
    }
  }
  return ok({ shape: [m!, n!], data: out });
}

/** Elementwise `f` of a tensor and a number or a tensor of the same shape (no other broadcasting). */
export function elementwise(
  a: ConstTensor | number,
  b: ConstTensor | number,
  f: (x: number, y: number) => number,
): Result {
  if (typeof a === 'number' && typeof b === 'number') return err('no tensor');
  const shapeOf = typeof a === 'number' ? (b as ConstTensor) : a;
  if (typeof a !== 'number' && typeof b !== 'number' && shapeText(a.shape) !== shapeText(b.shape)) {
    return err(
      `the shapes ${shapeText(a.shape)} and ${shapeText(b.shape)} differ (constants combine with a number or a tensor of the same shape)`,
    );
  }
  const at = (v: ConstTensor | number, i: number) => (typeof v === 'number' ? v : v.data[i]!);
  return ok({ shape: shapeOf.shape, data: Float32Array.from(shapeOf.data, (_, i) => f(at(a, i), at(b, i))) });
}

/** One dimension's part of an index: a single position (the dimension is dropped) or a range. */
export type Subscript =
  | { kind: 'at'; index: number }
  | { kind: 'slice'; start: number | null; stop: number | null; step: number | null };

interface View {
  readonly shape: number[];
  readonly stride: number[];
  readonly offset: number;
}

/**
 * The strided view `t[subs]` selects. Negative positions count from the end; positions and slice
 * bounds outside the dimension are errors (PyTorch clamps slice bounds, but in a literal's index
 * a bound past the end is a typo), and so is a slice that selects nothing.
 */
function view(t: ConstTensor, subs: readonly Subscript[]): Result<View> {
  if (subs.length > t.shape.length)
    return err(`${subs.length} indices for a tensor of ${t.shape.length} dimensions ${shapeText(t.shape)}`, 'E0235');
  const full = strides(t.shape);
  const shape: number[] = [];
  const stride: number[] = [];
  let offset = 0;
  for (let d = 0; d < t.shape.length; d++) {
    const n = t.shape[d]!;
    const s = subs[d] ?? { kind: 'slice', start: null, stop: null, step: null };
    const norm = (i: number) => (i < 0 ? i + n : i);
    if (s.kind === 'at') {
      const i = norm(s.index);
      if (!(i >= 0 && i < n)) return err(`index ${s.index} is out of range for dimension ${d} of size ${n}`, 'E0235');
      offset += i * full[d]!;
      continue;
    }
    const step = s.step ?? 1;
    if (step < 1) return err(`a slice step must be >= 1, got ${step}`, 'E0235');
    const [start, stop] = [norm(s.start ?? 0), norm(s.stop ?? n)];
    if (!(start >= 0 && start <= n) || !(stop >= 0 && stop <= n)) {
      return err(
        `slice ${s.start ?? ''}:${s.stop ?? ''} is out of range for dimension ${d} of size ${n} (bounds from ${-n} to ${n})`,
        'E0235',
      );
    }
    const len = Math.ceil((stop - start) / step);
    if (len < 1)
      return err(`slice ${s.start ?? ''}:${s.stop ?? ''} selects nothing of dimension ${d} (size ${n})`, 'E0235');
    shape.push(len);
    stride.push(full[d]! * step);
    offset += start * full[d]!;
  }
  return ok({ shape, stride, offset });
}

/** `t[subs]`: a copy of the selected values; a single value is a tensor of shape []. */
export function select(t: ConstTensor, subs: readonly Subscript[]): Result {
  const v = view(t, subs);
  if (!v.ok) return v;
  return ok({ shape: v.value.shape, data: gather(v.value.shape, v.value.stride, v.value.offset, t.data) });
}

/** `t[subs] = value`: a new tensor; `value` is a number or a tensor of exactly the selection's shape. */
export function assign(t: ConstTensor, subs: readonly Subscript[], value: ConstTensor | number): Result {
  const v = view(t, subs);
  if (!v.ok) return v;
  const { shape, stride, offset } = v.value;
  if (typeof value !== 'number' && shapeText(value.shape) !== shapeText(shape)) {
    return err(`cannot assign a tensor of shape ${shapeText(value.shape)} to a selection of shape ${shapeText(shape)}`);
  }
  const data = Float32Array.from(t.data);
  const at = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count(shape); i++) {
    let dst = offset;
    for (let d = 0; d < shape.length; d++) dst += at[d]! * stride[d]!;
    data[dst] = typeof value === 'number' ? value : value.data[i]!;
    for (let d = shape.length - 1; d >= 0 && ++at[d]! === shape[d]!; d--) at[d] = 0;
  }
  return ok({ shape: t.shape, data });
}
