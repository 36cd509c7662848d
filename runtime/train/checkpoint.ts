// Checkpoint files: a model's state_dict (parameters and batch-norm buffers, named as PyTorch names
// them) in safetensors format, so PyTorch can load what cnnc trains and the other way round.
// Writes are atomic: a crash or a full disk leaves the previous checkpoint, never half a file; two
// files that must change together go through pair.ts.
import fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsReason as why } from '../errors.ts';
import { readInputFile } from '../input-file.ts';
import {
  type Checkpoint,
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  type StoredTensor,
} from './safetensors.ts';

export {
  type Checkpoint,
  CheckpointError,
  type DType,
  type ExpectedTensor,
  expectTensors,
  type StoredTensor,
} from './safetensors.ts';

/** A point of a save, for tests that stop the process there (see writePair in pair.ts). */
export type SaveHook = (point: string) => void;

/** path.tmp-<pid>: the pid keeps two processes from sharing a temporary file. */
const tempOf = (path: string): string => `${path}.tmp-${process.pid}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The temporaries of `path` that no save is writing any more: left by a process that died (killed,
 * out of power) or by this one (its saves of one file run one after the other). Another live
 * process's temporary is its business.
 */
export function staleTemporaries(path: string): string[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .filter((n) => {
      const pid = Number(n.slice(prefix.length));
      return pid === process.pid || !alive(pid);
    })
    .map((n) => join(dir, n));
}

export function removeStaleTemporaries(path: string): void {
  for (const t of staleTemporaries(path)) fs.rmSync(t, { force: true });
}

/**
 * Writes path's temporary (path.tmp-<pid>, same directory) and fsyncs it; returns its name. On
 * failure the temporary is removed and path is untouched.
 */
export function stageCheckpoint(
  path: string,
  tensors: ReadonlyMap<string, StoredTensor>,
  metadata: Readonly<Record<string, string>>,
  hook?: SaveHook,
): string {
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = tempOf(path);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    hook?.(`${basename(path)}: temporary opened`);
    const half = bytes.length >> 1;
    for (let done = 0; done < bytes.length; ) {
      done += fs.writeSync(fd, bytes, done, (done < half ? half : bytes.length) - done);
      if (done === half) hook?.(`${basename(path)}: temporary half written`);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    hook?.(`${basename(path)}: temporary synced`);
    return tmp;
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw new CheckpointError(`cannot write ${path}: ${why(e)}`);
  }
}

/** Renames a complete temporary over path (atomic within a file system) and makes that durable. */
export function commitStaged(tmp: string, path: string): void {
  try {
    fs.renameSync(tmp, path);
  } catch (e) {
    throw new CheckpointError(`cannot write ${path}: ${why(e)}`);
  }
  // Some file systems cannot fsync a directory; the file is complete either way, so that failure
  // is not the user's problem.
  try {
    const dir = fs.openSync(dirname(path), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  } catch {
    // best effort, see above
  }
}

/**
 * Writes path atomically: a fsynced temporary renamed over it, so a crash or a full disk leaves the
 * previous file, never half a file. Temporaries an earlier, interrupted save of path left are
 * removed first.
 */
export function writeCheckpoint(
  path: string,
  tensors: ReadonlyMap<string, StoredTensor>,
  metadata: Readonly<Record<string, string>> = {},
): void {
  removeStaleTemporaries(path);
  const tmp = stageCheckpoint(path, tensors, metadata);
  try {
    commitStaged(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Reads and validates a safetensors checkpoint; every problem is a CheckpointError naming the file. */
export function readCheckpoint(path: string): Checkpoint {
  const bytes = readInputFile(path, { fail: (m) => new CheckpointError(m) });
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  return { path, tensors, metadata };
}
