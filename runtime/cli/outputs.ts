// Where a command writes. Every output path is checked before any work starts (a missing directory
// found after an epoch of training throws that epoch away), and no output may be an input of the
// same command or another output: `train m.cnn --save m.cnn` would overwrite the model.
import {
  accessSync,
  appendFileSync,
  constants,
  mkdirSync,
  realpathSync,
  statfsSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsReason, UserError } from '../errors.ts';

export interface OutputPath {
  /** How messages name it: '--save', "--save's optimizer file". */
  readonly what: string;
  readonly path: string;
  /** A directory that files are written into (compile --out), created with its parents if missing. */
  readonly directory?: boolean;
  /** Written to a temporary file renamed over path, so its directory must be writable even when path is. */
  readonly replaced?: boolean;
}

export interface InputPath {
  /** 'the model', '--init', 'the data'. */
  readonly what: string;
  readonly path: string;
  /** The output allowed to replace it: `--resume W --save W` continues a run in place (W is read whole first). */
  readonly replacedBy?: string;
}

/**
 * statfs f_type of the kernel's pseudo file systems (linux/magic.h): their "files" are kernel
 * switches, and creating a directory under /proc makes Node's recursive mkdir loop forever.
 */
const PSEUDO_FS = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0xcafe4a11, 'bpf'],
  [0x1cd1, 'devpts'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
]);

/** Checks one output; throws a UserError naming it and what is wrong. */
function checkOutput(o: OutputPath): void {
  const fail = (why: string): UserError => new UserError(`${o.what} ${o.path}: ${why}`);
  const stat = (path: string): Stats | null => {
    try {
      return statSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw fail(fsReason(e));
    }
  };
  /** dir: the directory files are created in, or undefined for the file itself. */
  const writable = (path: string, dir?: string): void => {
    const fs = PSEUDO_FS.get(Number(statfsSync(path).type));
    if (fs !== undefined) throw fail(`${dir ?? 'it'} is on the kernel's ${fs} file system; cnnc writes no files there`);
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw fail(dir === undefined ? fsReason(e) : `cannot create files in ${dir}: ${fsReason(e)}`);
    }
  };
  const full = resolve(o.path);
  if (o.directory) {
    // The nearest existing ancestor receives the missing directories.
    let at = full;
    let st = stat(at);
    for (; st === null; st = stat(at)) at = dirname(at);
    if (!st.isDirectory()) throw fail(at === full ? 'it is not a directory' : `${at} is not a directory`);
    writable(at, at === full ? undefined : at);
    return;
  }
  const st = stat(full);
  if (st?.isDirectory()) throw fail('it is a directory');
  if (st && !st.isFile()) throw fail('not a regular file (cnnc writes files, not FIFOs, devices or sockets)');
  const dir = dirname(full);
  const dirStat = stat(dir);
  if (!dirStat) throw fail(`directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw fail(`${dir} is not a directory`);
  if (st) writable(full);
  if (!st || o.replaced) writable(dir, dir);
}

/** One key per file: device and inode where it exists (hard links, symlinks), else its real directory and name. */
function identity(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st) return `${st.dev}:${st.ino}`;
  try {
    return join(realpathSync(dirname(resolve(path))), basename(path));
  } catch {
    return resolve(path);
  }
}

/**
 * Checks every output of a command before it starts: each can be written (its directory exists and
 * is writable, it is not a directory, FIFO or device, it is not under /proc or /sys) and none is an
 * input or another output. Throws a UserError naming the flag.
 */
export function checkOutputs(outputs: readonly OutputPath[], inputs: readonly InputPath[]): void {
  for (const o of outputs) checkOutput(o);
  const written = new Map<string, OutputPath>();
  for (const o of outputs) {
    const key = identity(o.path);
    const other = written.get(key);
    if (other)
      throw new UserError(
        `${other.what} ${other.path} and ${o.what} ${o.path} are the same file: give each output its own path`,
      );
    written.set(key, o);
  }
  for (const i of inputs) {
    const o = written.get(identity(i.path));
    if (o && i.replacedBy !== o.what)
      throw new UserError(`${o.what} ${o.path} would overwrite ${i.what} ${i.path}: write it elsewhere`);
  }
}

/** Creates the missing directories of a checked directory output one level at a time. */
export function makeDirectory(o: OutputPath): void {
  const full = resolve(o.path);
  const missing: string[] = [];
  for (let at = full; statSync(at, { throwIfNoEntry: false }) === undefined; at = dirname(at)) missing.unshift(at);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new UserError(`${o.what} ${o.path}: cannot create ${dir}: ${fsReason(e)}`);
    }
  }
}

/** Writes, or appends to, a checked output file; what can still fail (a full disk) is a UserError. */
export function writeOutput(path: string, data: string | Uint8Array, append = false): void {
  try {
    if (append) appendFileSync(path, data);
    else writeFileSync(path, data);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${fsReason(e)}`);
  }
}
