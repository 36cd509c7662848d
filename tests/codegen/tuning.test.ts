// Tuned choices through the compiler: stable kernel keys, the rules' choice spelled out builds the
// rules' very kernels, a choice changes its kernel only, and no choices (or `--tune off`) change
// nothing; a choice that does not build falls back to the rules with a warning.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { candidates } from '../../compiler/codegen/tuning/candidates.ts';
import { gemmSites, rulesChoice, siteKernels } from '../../compiler/codegen/tuning/site.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { type Compiled, compileModel } from '../../compiler/index.ts';
import type { KernelChoices } from '../../compiler/codegen/tuning/choice.ts';

const limits = (subgroups: boolean) => ({
  ...defaultLimits,
  subgroupMinSize: subgroups ? 8 : 0,
  maxStorageBufferBindingSize: 2 ** 31,
  maxBufferSize: 2 ** 32,
});
const compile = (file: string, subgroups: boolean, choices?: KernelChoices, batch = 16): Compiled =>
  compileModel(readFileSync(file, 'utf8'), {
    path: file,
    batch,
    limits: limits(subgroups),
    ...(choices ? { choices } : {}),
  });
const wgsl = (c: Compiled): string[] =>
  (['forward', 'evaluate', 'train'] as const).flatMap((p) => c.kernels[p].map((k) => k.kernel.wgsl));

describe('kernel keys', () => {
  it('name the family, every shape and attribute, the epilogue and subgroups', () => {
    const keys = gemmSites(compile('dsl-examples/lenet.cnn', true).program, limits(true)).map((s) => s.key);
    expect(keys).toContain('conv2d x16x1x28x28 o6 k5x5 s1x1 p2x2 d1x1 g1 bias sigmoid sg');
    expect(keys).toContain('conv2d_dx x16x6x14x14 o16 k5x5 s1x1 p0x0 d1x1 g1 bias sg');
    expect(keys).toContain('linear_dx n16 in120 out84 sigmoid_grad(output) sg');
    expect(keys).toContain('linear_dw n16 in400 out120 bias sg');
    const bn = gemmSites(compile('dsl-examples/batchnorm-lenet.cnn', false).program, limits(false)).map((s) => s.key);
    expect(bn.some((k) => /^conv2d .* bn\(0.00001\)\+sigmoid$/.test(k))).toBe(true);
  });
});

describe.each([
  ['dsl-examples/lenet.cnn', true],
  ['dsl-examples/resnet18.cnn', true],
  ['dsl-examples/nin.cnn', false],
] as const)('%s (subgroups %s)', (file, subgroups) => {
  const base = compile(file, subgroups, undefined, 4);
  const sites = gemmSites(base.program, limits(subgroups));
  const frame = { name: 'k', origin: { phase: 'forward' as const, sources: [], ops: [] }, limits: limits(subgroups) };

  it("builds the rules' kernels from the rules' choice spelled out", () => {
    for (const { site } of sites)
      expect(siteKernels(site, frame, rulesChoice(site, frame)).map((k) => k.wgsl)).toEqual(
        siteKernels(site, frame).map((k) => k.wgsl),
      );
  });

  it('changes nothing with an empty choice map', () => {
    expect(wgsl(compile(file, subgroups, new Map(), 4))).toEqual(wgsl(base));
  });

  it('changes exactly the kernels a choice names', () => {
    const { key, site } = sites[0]!;
    const other = candidates(site, limits(subgroups), 2)[1]!;
    const tuned = wgsl(compile(file, subgroups, new Map([[key, other]]), 4));
    const before = wgsl(base);
    const changed = tuned.filter((k, i) => k !== before[i]).length;
    expect(changed).toBeGreaterThan(0);
    // Only the site's own kernels (it may run in several passes, and a split-k GEMM has two).
    expect(changed).toBeLessThanOrEqual(6);
  });
});

it("falls back to the rules' kernel, with warning W0401, where a choice does not build", () => {
  const base = compile('dsl-examples/lenet.cnn', true);
  const { key } = gemmSites(base.program, limits(true)).find((s) => s.site.family === 'conv2d_dx')!;
  // Pixel rows need a row block that divides the batch (16): 3 x 8 does not.
  const bad = compile(
    'dsl-examples/lenet.cnn',
    true,
    new Map([[key, { order: 'pixel', tile: { rowsPerLane: 3, cols: 6, lanes: 8 } }]]),
  );
  expect(wgsl(bad)).toEqual(wgsl(base));
  expect(bad.warnings.map((w) => w.code)).toContain('W0401');
});
