// Runs the cnnc CLI as a user would: a child process through bin/cnnc.js, from the repository root.
// Always on the TypeScript sources (CNNC_FROM_SOURCE), never on a build in dist/: the tests check the
// code as it is, whatever was last built; tests/cli/bundle.test.ts checks the bundle.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');

/**
 * Dawn's Vulkan backend prints these two lines when lavapipe reports unbounded dynamic-offset
 * limits; they come from native code, appear on lavapipe only, and are not cnnc's output.
 */
const dawnLavapipeNoise = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced.*\n?/gm;

export function cnnc(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'cnnc.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CNNC_FROM_SOURCE: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(dawnLavapipeNoise, '') };
}
