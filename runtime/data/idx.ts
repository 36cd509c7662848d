// IDX files, the format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a big-endian magic
// 0x0000 08 NN (08 = unsigned bytes, NN = number of dimensions), NN big-endian u32 sizes, then the
// values in row-major order. The distributed files are gzipped; either form is accepted.
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { UserError } from '../errors.ts';
import { readInputFile } from '../input-file.ts';

/** A problem with a data file; a UserError so the CLI prints its one-line message and exits 1. */
export class DataError extends UserError {}

export const IMAGES_MAGIC = 0x00000803;
export const LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** count * height * width bytes, row-major [n, rows, cols], 0 = background. */
  readonly pixels: Uint8Array;
}

/** A file's IDX bytes and how to name an offset in them for messages. */
interface IdxBytes {
  readonly bytes: Uint8Array;
  /** `path @ byte N`; offsets of a gzipped file count in its decompressed data. */
  at(offset: number): string;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** The file's bytes, gunzipped when they start with the gzip magic 1f 8b (RFC 1952). */
function readIdxBytes(path: string): IdxBytes {
  const raw = readInputFile(path, { fail: (m) => new DataError(m) });
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b)
    return { bytes: raw, at: (offset) => `${path} @ byte ${offset}` };
  // Deflate expands up to ~1000-fold: a small file could otherwise fill the memory before the
  // header's sizes are checked. The output stops at what the header describes.
  const described = describedLength(raw);
  try {
    return {
      bytes: gunzipSync(raw, { maxOutputLength: described }),
      at: (offset) => `${path} @ byte ${offset} (after gunzip)`,
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(`${path}: the gunzipped data is longer than the ${described} bytes its IDX header describes`);
    }
    throw new DataError(`${path}: gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}

/** The most bytes one file's data may gunzip to: a buffer's limit in Node, 2 GiB - 1. */
const GUNZIP_MAX = 2 ** 31 - 1;

/**
 * The length of the IDX data a gzipped file's header describes (header and values), from the first
 * bytes of the stream alone; GUNZIP_MAX when they cannot tell (the full read then reports why).
 */
function describedLength(raw: Uint8Array): number {
  let head: Uint8Array;
  try {
    // Z_SYNC_FLUSH: the first 4 KiB of the stream gunzip without the rest (to 4 MiB at most).
    head = gunzipSync(raw.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return GUNZIP_MAX;
  }
  const rank = head[3] ?? 0;
  const start = 4 + 4 * rank;
  if (head.length < start || head[2] !== 0x08) return GUNZIP_MAX;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let length = 1;
  for (let i = 0; i < rank; i++) length *= view.getUint32(4 + 4 * i, false);
  return Math.min(start + length, GUNZIP_MAX);
}

/** Checks the magic and reads the `rank` dimension sizes; returns them and the header size. */
function readHeader(file: IdxBytes, magic: number, rank: number): { dims: number[]; start: number } {
  const { bytes } = file;
  const what = magic === IMAGES_MAGIC ? 'an image file' : 'a label file';
  const start = 4 + 4 * rank;
  const tooShort = (): DataError =>
    new DataError(
      `${file.at(0)}: expected the ${start}-byte IDX header of ${what}, the file has ${bytes.length} bytes`,
    );
  if (bytes.length < 4) throw tooShort();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const other =
      found === IMAGES_MAGIC ? ', which is an image file' : found === LABELS_MAGIC ? ', which is a label file' : '';
    throw new DataError(`${file.at(0)}: bad magic ${hex(found)}${other} (expected ${hex(magic)} for ${what})`);
  }
  if (bytes.length < start) throw tooShort();
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dims, start };
}

/** The `need` bytes of `unit` after the header; anything shorter or longer is an error. */
function payload(file: IdxBytes, start: number, need: number, what: string, unit: string): Uint8Array {
  const have = file.bytes.length - start;
  const expected = `expected ${what} (${need} bytes of ${unit})`;
  if (have < need) throw new DataError(`${file.at(start)}: ${expected}, file is truncated at ${file.bytes.length}`);
  if (have > need) throw new DataError(`${file.at(start + need)}: ${expected}, the file has ${have - need} bytes more`);
  return file.bytes.subarray(start);
}

/** Reads an image file (magic 0x00000803): u8 [count, height, width]. */
export function readIdxImages(path: string): IdxImages {
  const file = readIdxBytes(path);
  const { dims, start } = readHeader(file, IMAGES_MAGIC, 3);
  const [count, height, width] = dims as [number, number, number];
  if (height === 0 || width === 0) throw new DataError(`${file.at(8)}: images of ${height}x${width} pixels are empty`);
  const pixels = payload(file, start, count * height * width, `${count} images of ${height}x${width}`, 'pixels');
  return { count, height, width, pixels };
}

/** Reads a label file (magic 0x00000801): u8 [count], each a class index below numClasses. */
export function readIdxLabels(path: string, numClasses: number): Uint8Array {
  const file = readIdxBytes(path);
  const { dims, start } = readHeader(file, LABELS_MAGIC, 1);
  const count = dims[0] as number;
  const labels = payload(file, start, count, `${count} labels`, 'labels');
  const bad = labels.findIndex((l) => l >= numClasses);
  if (bad >= 0)
    throw new DataError(
      `${file.at(start + bad)}: label ${labels[bad]} of sample ${bad} is not a class 0..${numClasses - 1}`,
    );
  return labels;
}
