// IDX files read from disk under Node: the distributed files are gzipped; either form is accepted.
// The format itself is parsed by idx-format.ts (portable).
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { readInputFile } from '../input-file.ts';
import {
  DataError,
  type IdxBytes,
  type IdxImages,
  isGzip,
  namedBytes,
  parseIdxImages,
  parseIdxLabels,
} from './idx-format.ts';

export { DataError, IMAGES_MAGIC, type IdxImages, LABELS_MAGIC } from './idx-format.ts';

/** The file's bytes, gunzipped when they start with the gzip magic. */
function readIdxBytes(path: string): IdxBytes {
  const raw = readInputFile(path, { fail: (m) => new DataError(m) });
  if (!isGzip(raw)) return namedBytes(path, raw, false);
  // Deflate expands up to ~1000-fold: a small file could otherwise fill the memory before the
  // header's sizes are checked. The output stops at what the header describes.
  const described = describedLength(raw);
  try {
    return namedBytes(path, gunzipSync(raw, { maxOutputLength: described }), true);
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

/** Reads an image file (magic 0x00000803): u8 [count, height, width]. */
export const readIdxImages = (path: string): IdxImages => parseIdxImages(readIdxBytes(path));

/** Reads a label file (magic 0x00000801): u8 [count], each a class index below numClasses. */
export const readIdxLabels = (path: string, numClasses: number): Uint8Array =>
  parseIdxLabels(readIdxBytes(path), numClasses);
