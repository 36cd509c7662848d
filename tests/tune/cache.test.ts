// The tuning cache: a round trip, other devices' records kept, atomic writes, and every way a
// file can be wrong (not JSON, another format, malformed entries, another kernel or webgpu
// version for this adapter) ignored with one warning; `--tune cached` gives lowering its choices.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KERNEL_VERSION } from '../../compiler/codegen/tuning/choice.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import type { Gpu } from '../../runtime/gpu/device.ts';
import { cachePath, deviceIdentity, readCache, type TunedEntry, writeCache } from '../../runtime/tune/cache.ts';
import { choicesFor, tuneMode } from '../../runtime/tune/choices.ts';

const adapter = {
  vendor: 'mesa',
  architecture: 'llvmpipe',
  device: '',
  description: 'test adapter',
  subgroupSizes: [8, 8] as const,
  features: ['subgroups', 'timestamp-query'],
  limits: { maxBufferSize: 2 ** 28 },
};
const identity = deviceIdentity(adapter);
const entry: TunedEntry = {
  choice: { tile: { rowsPerLane: 4, cols: 8, lanes: 16, shareU: true }, runs: false },
  rulesMs: 2,
  tunedMs: 1.5,
};
const tmp = mkdtempSync(join(tmpdir(), 'cnnc-tune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fresh = () => join(mkdtempSync(join(tmp, 'c-')), 'cnnc', 'tune.json');
const warnings = () => {
  const lines: string[] = [];
  return { lines, warn: (l: string) => lines.push(l) };
};

describe('the tuning cache', () => {
  it('lives under $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc', () => {
    expect(cachePath({ XDG_CACHE_HOME: '/x' })).toBe('/x/cnnc/tune.json');
    expect(cachePath({})).toMatch(/\/\.cache\/cnnc\/tune\.json$/);
  });

  it("is, in the tests and the CLIs they start, the run's own empty folder, never the developer's", () => {
    expect(cachePath()).toMatch(/cnnc-test-dist-[^/]+\/cache\/cnnc\/tune\.json$/);
  });

  it('reads back what it wrote, keeps other devices, leaves no temporary file', () => {
    const path = fresh();
    const other = deviceIdentity({ ...adapter, description: 'another adapter' });
    writeCache(path, other, new Map([['k1', entry]]));
    writeCache(path, identity, new Map([['k1', entry]]));
    writeCache(path, identity, new Map([['k2', { ...entry, tunedMs: 1 }]]));
    const w = warnings();
    expect([...readCache(path, identity, w.warn)]).toEqual([
      ['k1', entry],
      ['k2', { ...entry, tunedMs: 1 }],
    ]);
    expect([...readCache(path, other, w.warn).keys()]).toEqual(['k1']);
    expect(w.lines).toEqual([]);
    expect(readdirSync(join(path, '..'))).toEqual(['tune.json']);
  });

  it.each([
    ['not JSON', '{"format": 1, "devi'],
    ['another format', JSON.stringify({ format: 99, devices: [] })],
    ['records without kernels', JSON.stringify({ format: 1, devices: [{ identity }] })],
  ])('ignores a file that is %s with one warning, and tuning replaces it', (_what, text) => {
    const path = fresh();
    writeCache(path, identity, new Map());
    writeFileSync(path, text);
    const w = warnings();
    expect(readCache(path, identity, w.warn).size).toBe(0);
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]).toContain('ignoring the tuning cache');
    writeCache(path, identity, new Map([['k', entry]]));
    expect(readCache(path, identity, w.warn).get('k')).toEqual(entry);
  });

  it("ignores another kernel version's or webgpu version's tunings for this adapter, with one warning", () => {
    const path = fresh();
    writeCache(path, { ...identity, kernelVersion: KERNEL_VERSION + 1 }, new Map([['k', entry]]));
    writeCache(path, { ...identity, webgpu: '0.0.1' }, new Map([['k', entry]]));
    const w = warnings();
    expect(readCache(path, identity, w.warn).size).toBe(0);
    expect(w.lines).toHaveLength(1);
    expect(w.lines[0]).toContain('another webgpu or cnnc kernel version');
    // Another adapter's records are simply not this one's: no warning.
    const quiet = warnings();
    expect(readCache(path, deviceIdentity({ ...adapter, device: 'x' }), quiet.warn).size).toBe(0);
    expect(quiet.lines).toEqual([]);
  });

  it('leaves out malformed entries with a warning', () => {
    const path = fresh();
    writeCache(
      path,
      identity,
      new Map<string, TunedEntry>([
        ['good', entry],
        ['bad tile', { ...entry, choice: { tile: { rowsPerLane: -1, cols: 8, lanes: 16 } } }],
        ['bad order', { ...entry, choice: { order: 'sideways' as never } }],
      ]),
    );
    const w = warnings();
    expect([...readCache(path, identity, w.warn).keys()]).toEqual(['good']);
    expect(w.lines).toHaveLength(1);
  });
});

describe('--tune', () => {
  const gpu = { adapter, limits: defaultLimits } as unknown as Gpu;

  it('off makes no choices; a bad mode is a user error', () => {
    expect(
      choicesFor(
        'off',
        () => {},
        () => {},
      ),
    ).toBeUndefined();
    expect(tuneMode(undefined)).toBe('cached');
    expect(() => tuneMode('fast')).toThrow(/--tune must be off, cached or search, got 'fast'/);
  });

  it("cached hands lowering the cache's choices for this device", async () => {
    const path = fresh();
    writeCache(path, identity, new Map([['k', entry]]));
    const saved = process.env['XDG_CACHE_HOME'];
    process.env['XDG_CACHE_HOME'] = join(path, '..', '..');
    try {
      const choices = await choicesFor(
        'cached',
        () => {},
        () => {},
      )!(
        gpu,
        () => {
          throw new Error('cached mode compiles nothing');
        },
        defaultLimits,
      );
      expect([...choices]).toEqual([['k', entry.choice]]);
    } finally {
      if (saved === undefined) delete process.env['XDG_CACHE_HOME'];
      else process.env['XDG_CACHE_HOME'] = saved;
    }
  });
});
