// The shipped JavaScript: scripts/build.mjs bundles the CLI, the bundle runs `check` without loading
// dawn.node, and bin/cnnc.js runs the bundle only while no source it was built from has changed.
// Builds into a temp dir laid out like the repository (bin/ copied, sources and node_modules linked).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-bundle-'));
const dist = join(tmp, 'dist');
const lenet = join(root, 'dsl-examples', 'lenet.cnn');

function node(args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const env0 = { ...process.env };
  delete env0.CNNC_FROM_SOURCE;
  delete env0.CNNC_DIST;
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...env0, ...env } });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

/** Runs the CLI through `entry` (a module exporting main) and says whether dawn.node got loaded. */
function runMain(entry: string, ...args: string[]): { code: number; out: string; dawn: boolean } {
  const script = `const { main } = await import(${JSON.stringify(entry)});
const code = await main(${JSON.stringify(args)});
const dawn = process.report.getReport().sharedObjects.some((s) => s.endsWith('dawn.node'));
console.log('DAWN=' + dawn);
process.exitCode = code;`;
  const r = node(['--input-type=module', '-e', script]);
  return { ...r, dawn: r.out.includes('DAWN=true') };
}

const stampPath = join(dist, 'stamp.json');
const readStamp = () => JSON.parse(readFileSync(stampPath, 'utf8')) as { builtAt: number; inputs: string[] };

beforeAll(() => {
  const r = node([join(root, 'scripts', 'build.mjs'), '--outdir', dist]);
  expect(r.code, r.out).toBe(0);
  mkdirSync(join(tmp, 'bin'));
  copyFileSync(join(root, 'bin', 'cnnc.js'), join(tmp, 'bin', 'cnnc.js'));
  for (const dir of ['compiler', 'runtime', 'web', 'node_modules']) symlinkSync(join(root, dir), join(tmp, dir));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the bundle', () => {
  it('checks LeNet without loading dawn.node', () => {
    const r = runMain(join(dist, 'cnnc.mjs'), 'check', lenet);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('ok (model LeNet, 12 layers)');
    expect(r.dawn).toBe(false);
  });

  it('loads dawn.node for the commands that reach the runtime', () => {
    const r = runMain(join(dist, 'cnnc.mjs'), 'kernels', lenet, '--filter', 'k00');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('// kernel  k00_');
    expect(r.dawn).toBe(true);
  });

  it('records the sources it read, our own files only', () => {
    const { inputs } = readStamp();
    expect(inputs).toContain('runtime/cli/main.ts');
    expect(inputs).toContain('compiler/syntax/parser.ts');
    expect(
      inputs.filter((p) => p.startsWith('..') || (p.includes('node_modules/') && !p.endsWith('.package-lock.json'))),
    ).toEqual([]);
  });
});

describe('bin/cnnc.js', () => {
  const bin = join(tmp, 'bin', 'cnnc.js');
  // A bundle that fails loudly tells which of the two ran.
  const breakBundle = () => writeFileSync(join(dist, 'cnnc.mjs'), 'throw new Error("the bundle ran");\n');

  it('runs the bundle while it is fresh, and the sources once a source is newer', () => {
    const fresh = readStamp();
    breakBundle();
    const bundled = node([bin, 'check', lenet]);
    expect(bundled.code).not.toBe(0);
    expect(bundled.out).toContain('the bundle ran');

    writeFileSync(stampPath, JSON.stringify({ ...fresh, builtAt: 0 }));
    const sources = node([bin, 'check', lenet]);
    expect(sources.code, sources.out).toBe(0);
    expect(sources.out).toContain('ok (model LeNet, 12 layers)');

    writeFileSync(stampPath, JSON.stringify({ ...fresh, inputs: [...fresh.inputs, 'compiler/gone.ts'] }));
    expect(node([bin, 'check', lenet]).code).toBe(0);

    writeFileSync(stampPath, JSON.stringify(fresh));
    expect(node([bin, 'check', lenet], { CNNC_FROM_SOURCE: '1' }).code).toBe(0);
    rmSync(stampPath);
    expect(node([bin, 'check', lenet]).code).toBe(0);
  });
});
