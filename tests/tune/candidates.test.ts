// The tuner's candidates on the GPU: a sample of every odd shape's candidates (strides, padding,
// dilation, groups, odd sizes, fused epilogues) against the float64 reference, through the same
// check the tuner applies to a winner (runtime/tune/check.ts: rtol 1e-3, atol 1e-4 * sqrt(K)).
// The rules' own choice is left out (tests/runtime/kernels-conv-matmul.test.ts checks it): the
// nearest other candidate (one knob turned) and the furthest (the most knobs turned) of each
// shape (lavapipe compiles each kernel for a second or more: all of them would take hours).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Epilogue } from '../../compiler/autodiff/step-ir.ts';
import { candidates } from '../../compiler/codegen/tuning/candidates.ts';
import { describeChoice } from '../../compiler/codegen/tuning/choice.ts';
import { type GemmSite, siteKernels, siteKey } from '../../compiler/codegen/tuning/site.ts';
import type { OpAttrs } from '../../compiler/ir/ops.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/device.ts';
import { checkKernels } from '../../runtime/tune/check.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const conv = (
  o: Partial<OpAttrs['conv2d']> & { outChannels: number; kernel: [number, number] },
): OpAttrs['conv2d'] => ({
  stride: [1, 1],
  padding: [0, 0],
  dilation: [1, 1],
  groups: 1,
  bias: false,
  ...o,
});
const relu: Epilogue = { kind: 'forward', bn: null, act: { fn: 'relu', slope: 0 } };
const bnSigmoid: Epilogue = {
  kind: 'forward',
  bn: { gamma: 0, beta: 0, runMean: 0, runVar: 0, eps: 1e-5 },
  act: { fn: 'sigmoid', slope: 0 },
};
const reluGrad: Epilogue = { kind: 'act_grad', fn: 'relu', slope: 0, x: 0, from: 'input' };
const tanhGrad: Epilogue = { kind: 'act_grad', fn: 'tanh', slope: 0, x: 0, from: 'output' };

/** Each shape in every conv family (forward and input gradient with the given epilogues). */
const convShapes: [
  string,
  readonly [number, number, number, number],
  OpAttrs['conv2d'],
  Epilogue | null,
  Epilogue | null,
][] = [
  [
    '3x3 pad 1 bias, odd sizes',
    [3, 5, 9, 7],
    conv({ outChannels: 6, kernel: [3, 3], padding: [1, 1], bias: true }),
    relu,
    reluGrad,
  ],
  [
    '3x2 stride (2,1) pad (1,0) dilation (1,2) groups 2',
    [2, 4, 11, 10],
    conv({ outChannels: 6, kernel: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2 }),
    null,
    null,
  ],
  [
    '5x5 pad 2, batch 32 (pixel and run orders)',
    [32, 3, 6, 8],
    conv({ outChannels: 4, kernel: [5, 5], padding: [2, 2] }),
    bnSigmoid,
    tanhGrad,
  ],
  [
    'depthwise 3x3 pad 1 bias',
    [2, 6, 7, 7],
    conv({ outChannels: 6, kernel: [3, 3], padding: [1, 1], groups: 6, bias: true }),
    null,
    null,
  ],
  ['1x1 stride 2, 20 channels', [4, 20, 7, 5], conv({ outChannels: 12, kernel: [1, 1], stride: [2, 2] }), null, null],
];

const sites: GemmSite[] = [
  ...convShapes.flatMap(([, input, attrs, fwd, grad]) =>
    (['conv2d', 'conv2d_dx', 'conv2d_dw'] as const).map((family) => ({
      family,
      input,
      attrs,
      epilogue: family === 'conv2d' ? fwd : family === 'conv2d_dx' ? grad : null,
      subgroups: true,
    })),
  ),
  ...(['linear', 'linear_dx', 'linear_dw'] as const).flatMap((family) =>
    (family === 'linear' ? [true, false] : [true]).map((subgroups) => ({
      family,
      batch: 5,
      inFeatures: 13,
      outFeatures: 7,
      bias: family !== 'linear_dx',
      epilogue: family === 'linear' ? bnSigmoid : family === 'linear_dx' ? tanhGrad : null,
      subgroups,
    })),
  ),
];

/** Evenly spread picks of `n` from `list`, its first (the rules') and last included. */
const sample = <T>(list: readonly T[], n: number): T[] =>
  list.length <= n
    ? [...list]
    : Array.from({ length: n }, (_, i) => list[Math.round((i * (list.length - 1)) / (n - 1))]!);

const PER_SITE = 2;

describe.each(sites.map((s) => [siteKey(s), s] as const))('%s', (_key, site) => {
  it(`${PER_SITE} of its candidates match the float64 reference`, async () => {
    const all = candidates(site, gpu.limits);
    expect(all.length).toBeGreaterThan(1);
    const frame = {
      name: 'k_candidate',
      origin: { phase: 'forward' as const, sources: [], ops: ['test'] },
      limits: gpu.limits,
    };
    for (const choice of sample(all.slice(1), PER_SITE)) {
      const result = await checkKernels(gpu, site, siteKernels(site, frame, choice));
      expect(result, describeChoice(choice)).toEqual({ ok: true });
    }
  });
});
