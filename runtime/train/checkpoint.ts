// Checkpoint files: a model's state_dict (parameters and batch-norm buffers, named as PyTorch names
// them) in safetensors format, so PyTorch can load what cnnc trains and the other way round.
// Writes are atomic: a crash or a full disk leaves the previous checkpoint, never half a file.
import fs from 'node:fs';
import { dirname } from 'node:path';
import { fsReason as why } from '../errors.ts';
import { CheckpointError, decodeSafetensors, encodeSafetensors, formatShape, type StoredTensor } from './safetensors.ts';

export { CheckpointError, type DType, type StoredTensor } from './safetensors.ts';

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

/**
 * Writes path.tmp-<pid> in the same directory, fsyncs it and renames it over path (rename is
 * atomic within a file system; the pid keeps two processes from sharing a temporary file). On
 * failure the temporary file is removed and path is untouched.
 */
export function writeCheckpoint(path: string, tensors: ReadonlyMap<string, StoredTensor>, metadata: Readonly<Record<string, string>> = {}): void {
  const bytes = encodeSafetensors(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw new CheckpointError(`cannot write ${path}: ${why(e)}`);
  }
  // Make the rename itself durable. Some file systems cannot fsync a directory; the file is
  // complete either way, so that failure is not the user's problem.
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

/** Reads and validates a safetensors checkpoint; every problem is a CheckpointError naming the file. */
export function readCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read ${path}: ${why(e)}`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  return { path, tensors, metadata };
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
    else if (formatShape(t.shape) !== formatShape(shape)) problems.push(`tensor ${name} has shape ${formatShape(t.shape)}, the model expects ${formatShape(shape)}`);
  }
  for (const [name, t] of ckpt.tensors) {
    if (!names.has(name)) problems.push(`tensor ${name} ${formatShape(t.shape)} is not in the model`);
  }
  if (problems.length === 0) return;
  if (problems.length === 1) throw new CheckpointError(`${ckpt.path}: ${problems[0]}`);
  const more = problems.length > LISTED ? `\n  ... and ${problems.length - LISTED} more` : '';
  throw new CheckpointError(`${ckpt.path} does not match the model (${problems.length} problems):\n  ${problems.slice(0, LISTED).join('\n  ')}${more}`);
}
