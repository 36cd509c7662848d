// Time to the first finished training step with the driver's shader cache off: the whole process
// of `cnnc train FILE --steps 1 --val-limit 1`, timed end to end, as a user meets it on a fresh
// machine. Also the compile time the epoch line reports apart (`(+X.Xs compiling kernels)`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ColdStartRow {
  readonly name: string;
  readonly args: readonly string[];
  /** Whole process, seconds (null: the run failed, `error` says why). */
  readonly seconds: number | null;
  /** What the epoch line reports as compiling, seconds. */
  readonly compileSeconds: number | null;
  readonly error?: string;
}

/** The runs, with the target each has (issue 15: LeNet <= 4 s, ResNet-18 at batch 32 <= 15 s). */
export function coldStartJobs(quick: boolean): { name: string; args: string[]; targetSeconds: number | null }[] {
  return [
    { name: 'lenet', args: ['dsl-examples/lenet.cnn'], targetSeconds: 4 },
    quick
      ? {
          name: 'resnet18 b4 32x32',
          args: ['dsl-examples/resnet18.cnn', '--batch-size', '4', '--resize', '32'],
          targetSeconds: null,
        }
      : {
          name: 'resnet18 b32 96x96',
          args: ['dsl-examples/resnet18.cnn', '--batch-size', '32', '--resize', '96'],
          targetSeconds: 15,
        },
  ];
}

/** Runs the CLI as bundled from the sources at hand (what `npm run setup` leaves), never through tsx. */
export function coldStart(quick: boolean): ColdStartRow[] {
  const tmp = mkdtempSync(join(tmpdir(), 'cnnc-cold-'));
  try {
    // The bundle imports webgpu (left external) as a package: found from the bundle's folder up.
    symlinkSync(resolve('node_modules'), join(tmp, 'node_modules'));
    const dist = join(tmp, 'dist');
    execFileSync(process.execPath, ['scripts/build.mjs', '--outdir', dist], { stdio: 'ignore' });
    return coldStartJobs(quick).map(({ name, args }) => run(name, args, dist));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function run(name: string, args: readonly string[], dist: string): ColdStartRow {
  const start = performance.now();
  const r = spawnSync(process.execPath, ['bin/cnnc.js', 'train', ...args, '--steps', '1', '--val-limit', '1'], {
    env: { ...process.env, MESA_SHADER_CACHE_DISABLE: 'true', CNNC_DIST: dist, CNNC_FROM_SOURCE: '0' },
    encoding: 'utf8',
    timeout: 900_000,
  });
  const seconds = (performance.now() - start) / 1000;
  const compiling = /\(\+([\d.]+)s compiling kernels\)/.exec(r.stdout);
  const row = { name, args, compileSeconds: compiling ? Number(compiling[1]) : null };
  if (r.status !== 0)
    return {
      ...row,
      seconds: null,
      error: `exit ${r.signal ?? r.status}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`,
    };
  console.log(`cold start ${name}: ${seconds.toFixed(1)} s (${row.compileSeconds ?? '?'} s compiling)`);
  return { ...row, seconds };
}
