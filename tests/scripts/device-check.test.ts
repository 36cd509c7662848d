// The device check's driver bundle (scripts/device-check.sh bundle: what `pack` carries to a GPU
// machine) parses and runs: its `cli` entry prints LeNet's summary. A bundle that declared one
// name twice once failed only on arrival.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-device-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/device-check.sh bundle', () => {
  it('writes an ES module whose cnnc CLI runs', () => {
    const bundle = join(dir, 'device-check.mjs');
    execFileSync('bash', ['scripts/device-check.sh', 'bundle', bundle], { stdio: 'pipe' });
    // webgpu stays external, found from the bundle's folder up, as in the pack.
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    const out = execFileSync(process.execPath, [bundle, 'cli', 'summary', 'dsl-examples/lenet.cnn'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/Linear.*\[1, 10\]/);
  }, 60_000);
});
