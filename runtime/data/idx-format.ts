// IDX files, the format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a big-endian magic
// 0x0000 08 NN (08 = unsigned bytes, NN = number of dimensions), NN big-endian u32 sizes, then the
// values in row-major order. Parsing from bytes, portable (the page decompresses the gzipped files
// itself); idx.ts reads and gunzips files under Node.
import { UserError } from '../errors.ts';

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
export interface IdxBytes {
  readonly bytes: Uint8Array;
  /** `path @ byte N`; offsets of a gzipped file count in its decompressed data. */
  at(offset: number): string;
}

/** Whether the bytes start with the gzip magic 1f 8b (RFC 1952): the distributed files are gzipped. */
export const isGzip = (raw: Uint8Array): boolean => raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;

/** A file's IDX bytes, offsets named `path @ byte N`, counted after gunzip when it was gzipped. */
export function namedBytes(path: string, bytes: Uint8Array, gunzipped: boolean): IdxBytes {
  return { bytes, at: (offset) => `${path} @ byte ${offset}${gunzipped ? ' (after gunzip)' : ''}` };
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

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

/** Parses an image file (magic 0x00000803): u8 [count, height, width]. */
export function parseIdxImages(file: IdxBytes): IdxImages {
  const { dims, start } = readHeader(file, IMAGES_MAGIC, 3);
  const [count, height, width] = dims as [number, number, number];
  if (height === 0 || width === 0) throw new DataError(`${file.at(8)}: images of ${height}x${width} pixels are empty`);
  const pixels = payload(file, start, count * height * width, `${count} images of ${height}x${width}`, 'pixels');
  return { count, height, width, pixels };
}

/** Parses a label file (magic 0x00000801): u8 [count], each a class index below numClasses. */
export function parseIdxLabels(file: IdxBytes, numClasses: number): Uint8Array {
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
