// Every input file (a model, a checkpoint, a data file) is read whole through here. Only regular
// files are read, checked on the open descriptor: reading a FIFO blocks until a writer comes (forever,
// for a careless `--data`), and a device such as /dev/zero never ends. O_NONBLOCK lets the open
// itself return at once on a FIFO without a writer; it changes nothing for a regular file.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { fsReason, UserError } from './errors.ts';

/** Node reads at most this many bytes into one buffer (its kIoMaxLength, 2 GiB - 1). */
const READ_MAX = 2 ** 31 - 1;

export interface InputFileOptions {
  /** Makes the error thrown for `message` (default: a UserError), so each reader keeps its class. */
  readonly fail?: (message: string) => Error;
  /** Refuse files over `bytes`, saying `message` (`model files over 16 MiB are not supported`). */
  readonly limit?: { readonly bytes: number; readonly message: string };
}

/** Without a smaller limit: what Node reads into one buffer at most. */
const DEFAULT_LIMIT = { bytes: READ_MAX, message: 'files over 2 GiB are not supported' };

/** What a non-regular file is, for `it is a FIFO, not a file`. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The bytes of the regular file at `path`; anything else is an error `cannot read PATH: <why>`. */
export function readInputFile(path: string, options: InputFileOptions = {}): Buffer {
  const fail = (why: string): Error =>
    (options.fail ?? ((m: string) => new UserError(m)))(`cannot read ${path}: ${why}`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fail(fsReason(e));
  }
  try {
    const st = fstatSync(fd);
    // Worded as the EISDIR a plain read gives.
    if (st.isDirectory()) throw fail('it is a directory');
    if (!st.isFile()) throw fail(`it is ${kindOf(st)}, not a file`);
    const limit = options.limit && options.limit.bytes < READ_MAX ? options.limit : DEFAULT_LIMIT;
    if (st.size > limit.bytes) throw fail(`it has ${st.size} bytes; ${limit.message}`);
    try {
      return readFileSync(fd);
    } catch (e) {
      throw fail(fsReason(e));
    }
  } finally {
    closeSync(fd);
  }
}
