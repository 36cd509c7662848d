// Errors caused by the user's input (a flag, a data file, a checkpoint): the CLI prints the message
// alone and exits 1. Any other exception is a cnnc bug.
export class UserError extends Error {}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EEXIST: 'it already exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENXIO: 'no reader on the other end (a FIFO or device)',
  EIO: 'input/output error',
};

/** A failed file operation's errno in words, for `cannot read/write PATH: <reason>` messages. */
export function fsReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  return (code !== undefined ? REASONS[code] : undefined) ?? (e as Error).message;
}
