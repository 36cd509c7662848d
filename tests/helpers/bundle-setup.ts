// Vitest global setup: bundles the CLI once per run into a temp dir, which tests/helpers/cli.ts
// hands to bin/cnnc.js (CNNC_DIST), so CLI tests start in ~0.2 s instead of ~1 s through tsx.
// bin/cnnc.js still runs the sources whenever one is newer than this build (say, under watch mode).
// The run also gets an empty cache folder (XDG_CACHE_HOME, inherited by the test processes and the
// CLIs they start): `train`, `eval` and `predict` read the tuning cache by default, and the
// developer's own (tuned choices, or a corrupt file's warning) must not reach the tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    cnncDist: string;
  }
}

export default function setup(project: TestProject): () => void {
  const root = join(import.meta.dirname, '..', '..');
  const tmp = mkdtempSync(join(tmpdir(), 'cnnc-test-dist-'));
  // The bundle imports webgpu (left external) as a package: found from the bundle's folder up.
  symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
  const dist = join(tmp, 'dist');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--outdir', dist], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed:\n${r.stdout}${r.stderr}`);
  project.provide('cnncDist', dist);
  // Mesa keeps its shader cache under XDG_CACHE_HOME as well: pinned where it was, so that the run
  // still finds the driver's compiled kernels (with a cold one the suite takes nearly twice as long).
  process.env['MESA_SHADER_CACHE_DIR'] ??= process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  process.env['XDG_CACHE_HOME'] = join(tmp, 'cache');
  return () => rmSync(tmp, { recursive: true, force: true });
}
