// NumPy .npy arrays (format 1.0-3.0, C order): the tensor data source for `data npy(...)` and
// raw prediction batches. Errors name the file and byte offset.
import { UserError } from '../errors.ts';
import { readInputFile } from '../input-file.ts';

export class NpyError extends UserError {}

export interface NpyArray {
  readonly shape: readonly number[];
  /** Values as float64 (every supported dtype converts exactly). */
  readonly data: Float64Array;
  readonly dtype: string;
}

const readers: Record<string, { size: number; get: (v: DataView, o: number) => number }> = {
  '<f4': { size: 4, get: (v, o) => v.getFloat32(o, true) },
  '<f8': { size: 8, get: (v, o) => v.getFloat64(o, true) },
  '|u1': { size: 1, get: (v, o) => v.getUint8(o) },
  '|i1': { size: 1, get: (v, o) => v.getInt8(o) },
  '<i4': { size: 4, get: (v, o) => v.getInt32(o, true) },
  '<i8': { size: 8, get: (v, o) => Number(v.getBigInt64(o, true)) },
  '<u4': { size: 4, get: (v, o) => v.getUint32(o, true) },
};

export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  const fail = (offset: number, what: string): never => {
    throw new NpyError(`${path} @ byte ${offset}: ${what}`);
  };
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b))
    fail(0, 'not a .npy file (expected the magic \\x93NUMPY)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(6, `unsupported .npy version ${major}.${bytes[7]}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length)
    fail(8, `header of ${headerLen} bytes runs past the end of the file (${bytes.length} bytes)`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(start, `malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail(start, 'Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  const reader = readers[descr!];
  if (!reader) fail(start, `unsupported dtype '${descr}' (supported: ${Object.keys(readers).join(', ')})`);
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(start, `bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = count * reader!.size;
  if (bytes.length - dataStart < need)
    fail(dataStart, `expected ${count} values of ${descr} (${need} bytes), the file has ${bytes.length - dataStart}`);
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = reader!.get(view, dataStart + i * reader!.size);
  return { shape, data, dtype: descr! };
}

/** A float32 array as a .npy file (format 1.0, little-endian '<f4', C order), as numpy.save writes it. */
export function encodeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // The magic, version and length (10 bytes), the header and its newline end on a multiple of 64.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readInputFile(path, { fail: (m) => new NpyError(m) }), path);
}

/**
 * Names the samples (indices along the first axis) holding NaN or infinities as float32, or null when
 * every value is finite: `path: samples 3, 7 (and 2 more) have non-finite values (NaN or infinite)`.
 */
export function nonFiniteSamples(a: NpyArray, path: string): string | null {
  const n = a.shape[0] ?? 0;
  const per = a.data.length / (n || 1);
  const bad: number[] = [];
  for (let sample = 0; sample < n; sample++) {
    for (let i = sample * per; i < (sample + 1) * per; i++) {
      // As float32, the type the model computes in: float64 data can overflow it.
      if (!Number.isFinite(Math.fround(a.data[i]!))) {
        bad.push(sample);
        break;
      }
    }
  }
  if (bad.length === 0) return null;
  const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? ` (and ${bad.length - 5} more)` : '');
  return `${path}: ${bad.length === 1 ? 'sample' : 'samples'} ${shown} ${bad.length === 1 ? 'has' : 'have'} non-finite values (NaN or infinite)`;
}
