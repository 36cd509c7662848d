// Runs the cnnc CLI as a user would: a child process through bin/cnnc.js, from the repository root.
// On the bundle that bundle-setup.ts built from the sources at the start of the run (CNNC_DIST),
// never on whatever was last built into dist/; bin/cnnc.js falls back to the sources if one has
// changed since.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';

export const root = join(import.meta.dirname, '..', '..');

/**
 * Dawn's Vulkan backend prints these two lines when lavapipe reports unbounded dynamic-offset
 * limits; they come from native code, appear on lavapipe only, and are not cnnc's output.
 */
const dawnLavapipeNoise = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced.*\n?/gm;

export function cnnc(...args: string[]): { code: number; stdout: string; stderr: string } {
  return cnncWithin(undefined, ...args);
}

/** As cnnc, killed after `timeoutMs` (code -1, `signal` SIGTERM): for cases whose regression is a hang. */
export function cnncWithin(
  timeoutMs: number | undefined,
  ...args: string[]
): { code: number; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'cnnc.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CNNC_DIST: inject('cnncDist') },
    ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
  });
  return { code: r.status ?? -1, signal: r.signal, stdout: r.stdout, stderr: r.stderr.replace(dawnLavapipeNoise, '') };
}

/** The CLI's main() in this process, its output captured: for checks that end before any GPU work. */
export async function cnncInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../runtime/cli/main.ts');
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}
