// Runs the PyTorch side of `cnnc export` in a Python child process: only export needs Python, and
// only for what PyTorch itself must do (tracing a module to ONNX). `CNNC_PYTHON` names the
// interpreter (default python3 on PATH).
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors.ts';

/** The script's exit status when `import torch` fails: the message then says what to install. */
export const NO_TORCH = 3;

const python = (): string => process.env.CNNC_PYTHON ?? 'python3';

/**
 * Runs `script` with `args`; returns its stdout. A missing interpreter or PyTorch, or a failure of
 * the script, is a UserError naming `what` (the flag that needed Python) and the last line it printed.
 */
export function runPython(what: string, script: string, args: readonly string[]): string {
  const r = spawnSync(python(), ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const needs = `${what} needs Python 3 with PyTorch (Debian: apt install python3-torch; another interpreter: CNNC_PYTHON=/path/to/python)`;
  if (r.error) throw new UserError(`${needs}: cannot run ${python()}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}`);
  if (r.status === NO_TORCH) throw new UserError(`${needs}: ${python()} cannot import torch`);
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').at(-1) ?? `exit status ${r.status}`;
    throw new UserError(`${what}: PyTorch failed: ${last}`);
  }
  return r.stdout;
}
