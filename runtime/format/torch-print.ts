// Tensors printed as PyTorch 1.13 prints them (`print(t)`, `repr(t)`; torch/_tensor_str.py with the
// default options): `tensor([[19., 25.],\n        [37., 43.]])`. One formatter per tensor picks the
// style from the values shown (integer-valued floats as `19.`, fixed with 4 decimals, or scientific
// when the nonzero finite magnitudes span more than 1000x, exceed 1e8 or fall below 1e-4) and a
// common width; rows wrap at 80 columns; over 1000 elements every dimension longer than 6 shows
// its first and last 3 entries around `...`. Pure: no I/O, no GPU.
import { exponential, fixed } from './decimal.ts';

export type PrintDType = 'float32' | 'float64' | 'int32' | 'int64';

/** Values in row-major order; float32 data given as numbers is rounded to float32 first. */
export type TensorData = ArrayLike<number> | BigInt64Array;

export interface PrintOptions {
  /** Default float32; PyTorch names the dtype in a suffix unless it is float32 or int64. */
  readonly dtype?: PrintDType;
  readonly precision?: number;
  readonly threshold?: number;
  readonly edgeitems?: number;
  readonly linewidth?: number;
}

type Options = Required<PrintOptions>;
type Value = number | bigint;

const DEFAULTS: Options = { dtype: 'float32', precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80 };
const PREFIX = 'tensor(';

interface Formatter {
  readonly width: number;
  format(v: Value): string;
}

/** PyTorch's _Formatter: the style and width fixed by the values shown. */
function makeFormatter(values: readonly Value[], floating: boolean, precision: number): Formatter {
  if (!floating) {
    const width = values.reduce<number>((w, v) => Math.max(w, String(v).length), 1);
    return { width, format: (v) => String(v).padStart(width) };
  }
  const nums = values as readonly number[];
  const shown = nums.filter((v) => Number.isFinite(v) && v !== 0);
  const intMode = shown.every((v) => v === Math.ceil(v));
  let sci = false;
  let width = 1;
  if (shown.length > 0) {
    // Spread arguments would overflow the stack on a large tensor; these are loops.
    const min = shown.reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
    const max = shown.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    sci = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    const text = sci
      ? (v: number) => exponential(v, precision)
      : intMode
        ? (v: number) => `${fixed(v, 0)}.`
        : (v: number) => fixed(v, precision);
    width = shown.reduce((w, v) => Math.max(w, text(v).length), 1);
  }
  const format = (v: Value): string => {
    const x = v as number;
    if (sci) return exponential(x, precision).padStart(width);
    if (intMode) return (Number.isFinite(x) ? `${fixed(x, 0)}.` : fixed(x, 0)).padStart(width);
    return fixed(x, precision).padStart(width);
  };
  return { width, format };
}

/** Row-major strides; a view of the tensor is (offset, dimension). */
function stridesOf(shape: readonly number[]): number[] {
  const strides = shape.map(() => 1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  return strides;
}

class Printer {
  private readonly shape: readonly number[];
  private readonly value: (i: number) => Value;
  private readonly o: Options;
  private readonly strides: number[];
  private readonly summarize: boolean;

  constructor(shape: readonly number[], value: (i: number) => Value, o: Options) {
    this.shape = shape;
    this.value = value;
    this.o = o;
    this.strides = stridesOf(shape);
    this.summarize = shape.reduce((a, b) => a * b, 1) > o.threshold;
  }

  /** Which indices of dimension `d` are shown, with null where `...` stands. */
  private indices(d: number): (number | null)[] {
    const n = this.shape[d]!;
    const e = this.o.edgeitems;
    const all = Array.from({ length: n }, (_, i) => i);
    return this.summarize && n > 2 * e ? [...all.slice(0, e), null, ...all.slice(n - e)] : all;
  }

  /** The values PyTorch's get_summarized_data keeps: the ones printed. */
  shownValues(offset = 0, d = 0, out: Value[] = []): Value[] {
    if (d === this.shape.length) {
      out.push(this.value(offset));
      return out;
    }
    for (const i of this.indices(d)) if (i !== null) this.shownValues(offset + i * this.strides[d]!, d + 1, out);
    return out;
  }

  /** _tensor_str_with_formatter: nested brackets, rows joined by `,` and dim-1 newlines. */
  body(f: Formatter, indent: number, offset = 0, d = 0): string {
    const rank = this.shape.length;
    if (d === rank) return f.format(this.value(offset));
    if (d === rank - 1) return this.vector(f, indent, offset, d);
    const slices = this.indices(d).map((i) =>
      i === null ? '...' : this.body(f, indent + 1, offset + i * this.strides[d]!, d + 1),
    );
    return `[${slices.join(`,${'\n'.repeat(rank - d - 1)}${' '.repeat(indent + 1)}`)}]`;
  }

  /** _vector_str: as many elements a line as fit in linewidth - indent, each width + 2 wide. */
  private vector(f: Formatter, indent: number, offset: number, d: number): string {
    const perLine = Math.max(1, Math.floor((this.o.linewidth - indent) / (f.width + 2)));
    const items = this.indices(d).map((i) =>
      i === null ? ' ...' : f.format(this.value(offset + i * this.strides[d]!)),
    );
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
  }
}

/** _add_suffixes: `, suffix` on the last line while it fits in linewidth, else on a new line. */
function addSuffixes(text: string, suffixes: readonly string[], linewidth: number): string {
  let out = text;
  let last = text.length - text.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (last + s.length + 2 > linewidth) {
      out += `,\n${' '.repeat(PREFIX.length)}${s}`;
      last = PREFIX.length + s.length;
    } else {
      out += `, ${s}`;
      last += s.length + 2;
    }
  }
  return `${out})`;
}

/** Python's tuple repr: (0,) for one element. */
const tuple = (shape: readonly number[]): string => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`);

function reader(data: TensorData, dtype: PrintDType): (i: number) => Value {
  if (data instanceof BigInt64Array) return dtype === 'int64' ? (i) => data[i]! : (i) => Number(data[i]!);
  if (dtype === 'float32' && !(data instanceof Float32Array)) return (i) => Math.fround(data[i]!);
  return (i) => data[i]!;
}

/** `repr(tensor)` of a strided CPU tensor with no autograd state, as PyTorch 1.13 prints it. */
export function formatTensor(shape: readonly number[], data: TensorData, options: PrintOptions = {}): string {
  const o: Options = { ...DEFAULTS, ...options };
  const numel = shape.reduce((a, b) => a * b, 1);
  if (data.length !== numel)
    throw new RangeError(`formatTensor: ${data.length} values for shape [${shape.join(', ')}]`);
  const suffixes: string[] = [];
  let body: string;
  if (numel === 0) {
    // As NumPy: the size unless it is (0,), and the dtype, which no value shows, unless it is the default.
    if (shape.length !== 1) suffixes.push(`size=${tuple(shape)}`);
    if (o.dtype !== 'float32') suffixes.push(`dtype=torch.${o.dtype}`);
    body = '[]';
  } else {
    if (o.dtype !== 'float32' && o.dtype !== 'int64') suffixes.push(`dtype=torch.${o.dtype}`);
    const printer = new Printer(shape, reader(data, o.dtype), o);
    const formatter = makeFormatter(printer.shownValues(), o.dtype.startsWith('float'), o.precision);
    body = printer.body(formatter, PREFIX.length);
  }
  return addSuffixes(PREFIX + body, suffixes, o.linewidth);
}

/** One value as PyTorch prints a 0-d tensor of it, without `tensor(...)`: `3.`, `0.2500`, `1.0000e-05`. */
export function formatScalar(x: number, dtype: PrintDType = 'float32'): string {
  const v = dtype === 'float32' ? Math.fround(x) : x;
  return makeFormatter([v], dtype.startsWith('float'), DEFAULTS.precision).format(v);
}
