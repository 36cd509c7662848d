// The tuner on the GPU: `cnnc tune --json` on a tiny model (every GEMM kernel reported, never
// slower than the rules, the cache written and read back by `--tune cached`), and the winner's
// check: a candidate that is fast but computes garbage is refused and the rules' choice kept.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GemmChoice } from '../../compiler/codegen/tuning/choice.ts';
import { type GemmSite, gemmSites, siteKernels, siteKey } from '../../compiler/codegen/tuning/site.ts';
import { buildModule } from '../../compiler/codegen/module.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { tuneSites } from '../../runtime/tune/tuner.ts';
import { choicesFor } from '../../runtime/tune/choices.ts';
import { cachePath, deviceIdentity, readCache } from '../../runtime/tune/cache.ts';
import { compile } from '../../runtime/model.ts';
import { cnnc } from '../helpers/cli.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());
const tmp = mkdtempSync(join(tmpdir(), 'cnnc-tune-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tiny = `model Tiny {
  input [1, 8, 8]
  conv(4, kernel = 3, padding = 1) relu
  flatten
  linear(10)
}
train {
  batch 8
  loss cross_entropy
}
`;

it('cnnc tune --json reports every GEMM kernel, none slower than the rules, and fills the cache', () => {
  const dir = mkdtempSync(join(tmp, 't-'));
  const file = join(dir, 'tiny.cnn');
  writeFileSync(file, tiny);
  process.env['XDG_CACHE_HOME'] = join(dir, 'cache');
  const r = cnnc('tune', file, '--batch-size', '4', '--candidates', '3', '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as {
    batch: number;
    cache: string;
    kernels: { key: string; from: string; rules: { ms: number }; tuned: { ms: number }; candidates: number }[];
  };
  expect(out.batch).toBe(4);
  // conv forward, input and weight gradients are 3; linear forward, input and weight gradients 3.
  expect(out.kernels.map((k) => k.key.split(' ')[0]).sort()).toEqual([
    'conv2d',
    'conv2d_dw',
    'linear',
    'linear_dw',
    'linear_dx',
  ]);
  for (const k of out.kernels) {
    expect(k.from).toBe('tuned');
    expect(k.candidates).toBe(3);
    expect(k.rules.ms).toBeGreaterThan(0);
    expect(k.tuned.ms).toBeLessThanOrEqual(k.rules.ms);
  }
  const cache = JSON.parse(readFileSync(out.cache, 'utf8')) as { devices: { kernels: Record<string, unknown> }[] };
  expect(Object.keys(cache.devices[0]!.kernels).sort()).toEqual(out.kernels.map((k) => k.key).sort());
  // --tune cached then finds them all: nothing tuned again.
  const again = cnnc('tune', file, '--batch-size', '4', '--tune', 'cached', '--json');
  expect(again.code).toBe(0);
  expect((JSON.parse(again.stdout) as typeof out).kernels.every((k) => k.from === 'cache')).toBe(true);
});

it('--tune search tunes the kernels the cache lacks, saves them, and compiles with them', async () => {
  process.env['XDG_CACHE_HOME'] = mkdtempSync(join(tmp, 't-'));
  const lines: string[] = [];
  const search = choicesFor(
    'search',
    (l) => lines.push(`warning: ${l}`),
    (l) => lines.push(l),
    { candidates: 2 },
  );
  const model = await compile(tiny, { gpu, batch: 2, choices: search! });
  await model.dispose();
  const keys = gemmSites(model.compiled.program, gpu.limits).map((s) => s.key);
  expect(lines.filter((l) => l.startsWith('tuned '))).toHaveLength(keys.length);
  expect(lines.some((l) => l.startsWith('warning'))).toBe(false);
  const cached = readCache(cachePath(), deviceIdentity(gpu.adapter), () => {});
  expect([...cached.keys()].sort()).toEqual([...keys].sort());
  // A second search finds them all in the cache: nothing tuned, the same kernels.
  lines.length = 0;
  const again = await compile(tiny, {
    gpu,
    batch: 2,
    choices: choicesFor(
      'search',
      () => {},
      (l) => lines.push(l),
    )!,
  });
  await again.dispose();
  expect(lines).toEqual([]);
  const code = (m: typeof model) => m.compiled.kernels.train.map((c) => c.kernel.wgsl);
  expect(code(again)).toEqual(code(model));
});

it('refuses a fast candidate whose results differ from the float64 reference', async () => {
  // Large enough (4M multiply-adds) that the garbage candidate wins every timing round by far: at
  // 16 x 64 x 32 both kernels took a few microseconds and the machine's noise could keep the
  // garbage from ever winning, and so from being checked.
  const site: GemmSite = {
    family: 'linear',
    batch: 128,
    inFeatures: 256,
    outFeatures: 128,
    bias: true,
    epilogue: null,
    subgroups: gpu.limits.subgroupMinSize >= 8,
  };
  const garbage: GemmChoice = { tile: { rowsPerLane: 1, cols: 1, lanes: 8 } };
  const results = await tuneSites(
    gpu,
    [{ key: siteKey(site), site, origin: { phase: 'forward', sources: [], ops: [] } }],
    {
      enumerate: () => [{}, garbage],
      // The garbage candidate binds what the real kernel binds and stores 1 in one element only: far faster, wrong.
      build: (s, frame, choice) => {
        const real = siteKernels(s, frame);
        if (choice !== garbage) return real;
        return [
          buildModule({
            ...frame,
            bindings: real[0]!.bindings,
            lanes: 8,
            groups: 1,
            main: (w) => w.line('y[lid.x] = x[0] + w[0] + b[0];'),
          }),
        ];
      },
    },
  );
  const [r] = results;
  expect(r!.refused.map((x) => x.choice)).toEqual([garbage]);
  expect(r!.refused[0]!.why).toContain('the float64 reference says');
  expect(r!.tuned.choice).toEqual({});
});
