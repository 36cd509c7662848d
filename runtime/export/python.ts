// Runs the PyTorch side of `cnnc export` in a Python child process: only export needs Python, and
// only for what PyTorch itself must do (tracing a module to ONNX). The interpreter: `CNNC_PYTHON`,
// else python3 on PATH, else (when that one has no torch) /usr/bin/python3, where Debian's
// python3-torch (a set-up dependency) lives.
import { spawnSync } from 'node:child_process';
import { UserError } from '../errors.ts';

/** The script's exit status when `import torch` fails: the next interpreter is tried, or the message says what to install. */
export const NO_TORCH = 3;

const interpreters = (): string[] =>
  process.env.CNNC_PYTHON !== undefined ? [process.env.CNNC_PYTHON] : ['python3', '/usr/bin/python3'];

/**
 * Runs `script` with `args`; returns its stdout. A missing interpreter or PyTorch, or a failure of
 * the script, is a UserError naming `what` (the flag that needed Python) and the last line it printed.
 */
export function runPython(what: string, script: string, args: readonly string[]): string {
  const tried: string[] = [];
  for (const python of interpreters()) {
    const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.error) {
      tried.push(
        `cannot run ${python}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message}`,
      );
      continue;
    }
    if (r.status === NO_TORCH) {
      tried.push(`${python} cannot import torch`);
      continue;
    }
    if (r.status !== 0)
      throw new UserError(
        `${what}: PyTorch failed: ${r.stderr.trim().split('\n').at(-1) ?? `exit status ${r.status}`}`,
      );
    return r.stdout;
  }
  throw new UserError(
    `${what} needs Python 3 with PyTorch (Debian: apt install python3-torch; another interpreter: CNNC_PYTHON=/path/to/python): ${tried.join('; ')}`,
  );
}
