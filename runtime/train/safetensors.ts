// The safetensors format (huggingface/safetensors, docs "Format"): an 8-byte little-endian u64 N,
// an N-byte UTF-8 JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
// {string: string}}, then the tensors' raw little-endian bytes, offsets relative to the byte after
// the header. The reference writer pads the header with spaces to a multiple of 8 and orders the
// data by decreasing dtype, which keeps every tensor aligned to its element size; we do the same.
// The reference reader demands that the tensors tile the data exactly (no overlap, no hole, no
// trailing bytes), and so does decodeSafetensors, so whatever we accept PyTorch's loader accepts.
import { UserError } from '../errors.ts';
import { invariant } from '../../compiler/diagnostics/diagnostic.ts';

/** A malformed or mismatching checkpoint; a UserError so the CLI prints one line and exits 1. */
export class CheckpointError extends UserError {}

const DTYPES = {
  F32: { bytes: 4, array: Float32Array },
  F64: { bytes: 8, array: Float64Array },
  I32: { bytes: 4, array: Int32Array },
  I64: { bytes: 8, array: BigInt64Array },
} as const;
export type DType = keyof typeof DTYPES;
/** Dtypes of the format that we recognise but do not read (no use in cnnc's float32 training). */
const UNSUPPORTED = ['BOOL', 'U8', 'I8', 'U16', 'I16', 'F16', 'BF16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2'];

/** A tensor as stored: shape [] is a scalar (PyTorch's num_batches_tracked is I64 []). */
export type StoredTensor =
  | { readonly dtype: 'F32'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: 'F64'; readonly shape: readonly number[]; readonly data: Float64Array }
  | { readonly dtype: 'I32'; readonly shape: readonly number[]; readonly data: Int32Array }
  | { readonly dtype: 'I64'; readonly shape: readonly number[]; readonly data: BigInt64Array };

export interface Safetensors {
  readonly tensors: Map<string, StoredTensor>;
  readonly metadata: Record<string, string>;
}

// Typed arrays use the host's byte order; the format is little-endian, as is every host Node runs on
// in practice. Checked once rather than byte-swapping on every read.
const HOST_IS_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The file's bytes: header length, space-padded JSON header, tensors in decreasing dtype size then name order. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, StoredTensor>,
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  invariant(HOST_IS_LE, 'checkpoint', 'safetensors needs a little-endian host');
  const order = [...tensors].sort(
    ([a, x], [b, y]) => DTYPES[y.dtype].bytes - DTYPES[x.dtype].bytes || (a < b ? -1 : a > b ? 1 : 0),
  );
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  let size = 0;
  const placed = order.map(([name, t]) => {
    invariant(name !== '__metadata__', 'checkpoint', 'a tensor cannot be named __metadata__');
    invariant(
      t.data.length === numel(t.shape),
      'checkpoint',
      `tensor ${name}: ${t.data.length} values for shape ${formatShape(t.shape)}`,
    );
    const begin = size;
    size += t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [begin, size] };
    return { data: t.data, begin };
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = 8 + Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(dataStart + size);
  new DataView(out.buffer).setBigUint64(0, BigInt(dataStart - 8), true);
  out.fill(0x20, 8, dataStart);
  out.set(json, 8);
  for (const { data, begin } of placed)
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataStart + begin);
  return out;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

interface Entry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** One header entry, checked on its own: dtype, shape, and offsets spanning shape * dtype bytes. */
function parseEntry(file: string, name: string, value: unknown): Entry {
  const fail = (why: string): CheckpointError => new CheckpointError(`${file}: tensor ${name} ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail(`must be described by {dtype, shape, data_offsets}, got ${JSON.stringify(value)}`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPES)) {
    if (typeof dtype === 'string' && UNSUPPORTED.includes(dtype))
      throw fail(`has dtype ${dtype}; cnnc reads ${Object.keys(DTYPES).join(', ')}`);
    throw fail(`has unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount))
    throw fail(`has shape ${JSON.stringify(shape)}, expected a list of non-negative integers`);
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? (offsets as unknown[]) : [];
  if (!isCount(begin) || !isCount(end) || begin > end) {
    throw fail(`has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] with 0 <= begin <= end`);
  }
  const need = numel(shape) * DTYPES[dtype as DType].bytes;
  if (end - begin !== need) {
    throw fail(
      `has data_offsets [${begin}, ${end}] (${end - begin} bytes), but shape ${formatShape(shape)} of ${dtype} needs ${need} bytes`,
    );
  }
  return { name, dtype: dtype as DType, shape, begin, end };
}

/** The tensors must tile [0, dataLength) exactly, as the reference reader requires. */
function checkLayout(file: string, entries: readonly Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: Entry | null = null;
  for (const e of sorted) {
    const prevEnd = prev?.end ?? 0;
    if (e.end > dataLength) {
      throw new CheckpointError(
        `${file}: file is truncated: tensor ${e.name} needs data bytes [${e.begin}, ${e.end}) but only ${dataLength} bytes follow the header`,
      );
    }
    if (prev && e.begin < prevEnd) {
      throw new CheckpointError(
        `${file}: tensors ${prev.name} [${prev.begin}, ${prev.end}) and ${e.name} [${e.begin}, ${e.end}) overlap`,
      );
    }
    if (e.begin > prevEnd) {
      throw new CheckpointError(
        `${file}: data bytes [${prevEnd}, ${e.begin}) before tensor ${e.name} belong to no tensor (safetensors data must be contiguous)`,
      );
    }
    prev = e;
  }
  const used = prev?.end ?? 0;
  if (used < dataLength)
    throw new CheckpointError(`${file}: ${dataLength - used} bytes after the last tensor belong to no tensor`);
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CheckpointError(`${file}: __metadata__ must be an object of strings`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      throw new CheckpointError(
        `${file}: __metadata__ must map names to strings, but ${JSON.stringify(k)} is ${JSON.stringify(v)}`,
      );
  }
  return value as Record<string, string>;
}

/** Parses and fully validates a safetensors file's bytes; `file` names it in error messages. */
export function decodeSafetensors(bytes: Uint8Array, file: string): Safetensors {
  invariant(HOST_IS_LE, 'checkpoint', 'safetensors needs a little-endian host');
  if (bytes.length < 8)
    throw new CheckpointError(
      `${file}: ${bytes.length} bytes is too short for a safetensors file (it starts with an 8-byte header length)`,
    );
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw new CheckpointError(
      `${file} @ byte 0: header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    throw new CheckpointError(
      `${file}: the header (bytes 8 to ${dataStart}) is not valid JSON: ${(e as Error).message}`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new CheckpointError(`${file}: the header must be a JSON object`);
  const { __metadata__: meta, ...described } = header as Record<string, unknown>;
  const metadata = meta === undefined ? {} : parseMetadata(file, meta);
  const entries = Object.entries(described).map(([name, value]) => parseEntry(file, name, value));
  checkLayout(file, entries, bytes.length - dataStart);
  const tensors = new Map<string, StoredTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    // Copied: the file's buffer need not be aligned for the typed array, and a copy lets it go.
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)).buffer;
    tensors.set(name, { dtype, shape, data: new DTYPES[dtype].array(copy) } as StoredTensor);
  }
  return { tensors, metadata };
}

export interface Checkpoint {
  /** The file as the user named it; every message about the checkpoint starts with it. */
  readonly path: string;
  readonly tensors: ReadonlyMap<string, StoredTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

const LISTED = 10;

/**
 * Checks the checkpoint holds exactly the model's tensors with the model's shapes (as PyTorch's
 * load_state_dict(strict=True) does); throws one CheckpointError listing every difference.
 */
export function expectTensors(ckpt: Checkpoint, expected: readonly ExpectedTensor[]): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const { name, shape } of expected) {
    names.add(name);
    const t = ckpt.tensors.get(name);
    if (!t) problems.push(`tensor ${name} is missing (the model expects shape ${formatShape(shape)})`);
    else if (formatShape(t.shape) !== formatShape(shape))
      problems.push(`tensor ${name} has shape ${formatShape(t.shape)}, the model expects ${formatShape(shape)}`);
  }
  for (const [name, t] of ckpt.tensors) {
    if (!names.has(name)) problems.push(`tensor ${name} ${formatShape(t.shape)} is not in the model`);
  }
  if (problems.length === 0) return;
  if (problems.length === 1) throw new CheckpointError(`${ckpt.path}: ${problems[0]}`);
  const more = problems.length > LISTED ? `\n  ... and ${problems.length - LISTED} more` : '';
  throw new CheckpointError(
    `${ckpt.path} does not match the model (${problems.length} problems):\n  ${problems.slice(0, LISTED).join('\n  ')}${more}`,
  );
}
