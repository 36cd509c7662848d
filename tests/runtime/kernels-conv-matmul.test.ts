// Conv forward/dgrad/wgrad and the matmul family on the GPU, against the float64 CPU reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pair } from '../../compiler/ir/ops.ts';
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { forwardEpilogue } from '../../compiler/codegen/epilogue.ts';
import { defaultLimits, type DeviceLimits } from '../../compiler/codegen/limits.ts';
import { conv2dKernel, rowRun } from '../../compiler/codegen/kernels/conv2d.ts';
import {
  conv2dGradInputKernel,
  dgradOrder,
  dgradTile,
  type DgradOrder,
} from '../../compiler/codegen/kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels, wgradRun } from '../../compiler/codegen/kernels/conv2d-grad-weight.ts';
import {
  linearForward,
  linearGradInput,
  linearGradWeight,
  matmulKernel,
} from '../../compiler/codegen/kernels/matmul.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { runKernels } from '../../runtime/gpu/run-kernel.ts';
import * as ref from '../../runtime/reference/ops.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { type ConvCase, convAttrs, randF32, runOnTensors, tol } from '../helpers/gemm.ts';
import { createRng } from '../helpers/random.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['test'] };
const rng = createRng(20240611);
const rand = (shape: readonly number[]): Tensor => randF32(rng, shape);

/**
 * Every GEMM family twice: plain loads with the short loops a GPU's compiler unrolls, and U loads
 * shared across 8 subgroup lanes (the default where the adapter has subgroups) with those loops'
 * bounds hidden from the compiler, as on lavapipe (a CPU adapter with subgroups 8 wide).
 */
const loadModes = [
  ['plain loads, unrolled loops', false],
  ['shared loads, hidden loop bounds', true],
] as const;
/** A mode's limits: hidden loop bounds go with shared loads. */
const limitsFor = (subgroups: boolean): DeviceLimits => ({ ...defaultLimits, unrollLoops: !subgroups });
const withModes = <T extends readonly unknown[]>(cases: readonly T[]) =>
  cases.flatMap((c) => loadModes.map(([mode, subgroups]) => [...c, mode, subgroups] as const));

const run = (kernels: readonly KernelModule[], inputs: Record<string, Tensor>, outputs: readonly string[]) =>
  runOnTensors(gpu, kernels, inputs, outputs);

const convCases: readonly [string, ConvCase][] = [
  ['1x1', { input: [2, 3, 5, 5], out: 4, kernel: [1, 1], bias: false }],
  ['3x3 pad 1, bias', { input: [1, 3, 7, 6], out: 5, kernel: [3, 3], padding: [1, 1], bias: true }],
  ['5x5, bias, batch 3', { input: [3, 2, 9, 9], out: 6, kernel: [5, 5], bias: true }],
  ['asymmetric 1x2', { input: [1, 4, 6, 7], out: 3, kernel: [1, 2], bias: false }],
  ['asymmetric 3x5 pad (1,2), bias', { input: [2, 3, 8, 10], out: 4, kernel: [3, 5], padding: [1, 2], bias: true }],
  [
    'stride 2 pad 1, bias',
    { input: [2, 3, 9, 9], out: 5, kernel: [3, 3], stride: [2, 2], padding: [1, 1], bias: true },
  ],
  [
    'stride (3,4) pad (1,0)',
    { input: [1, 2, 11, 13], out: 3, kernel: [3, 3], stride: [3, 4], padding: [1, 0], bias: false },
  ],
  [
    'dilation 2 pad 2, bias',
    { input: [2, 3, 10, 10], out: 4, kernel: [3, 3], padding: [2, 2], dilation: [2, 2], bias: true },
  ],
  ['groups 2, bias', { input: [2, 4, 7, 7], out: 6, kernel: [3, 3], padding: [1, 1], groups: 2, bias: true }],
  ['depthwise, bias, batch 3', { input: [3, 5, 6, 6], out: 5, kernel: [3, 3], padding: [1, 1], groups: 5, bias: true }],
  [
    'groups 2 stride 2 dilation 2 asymmetric',
    {
      input: [1, 4, 12, 11],
      out: 4,
      kernel: [2, 3],
      stride: [2, 1],
      padding: [1, 2],
      dilation: [2, 2],
      groups: 2,
      bias: true,
    },
  ],
  ['40 channels, edge tiles, batch 3', { input: [3, 8, 12, 12], out: 40, kernel: [3, 3], padding: [1, 1], bias: true }],
  // 11 steps a run group: more (column, step) pairs than a shared load's 8 lanes, ending mid-load.
  ['wide 3x11 pad (1,0), bias', { input: [2, 3, 7, 26], out: 5, kernel: [3, 11], padding: [1, 0], bias: true }],
];

describe.each(withModes(convCases))(
  'conv2d %s, %s (float64 reference, rtol 1e-4, atol 1e-5 * sqrt(K))',
  (_label, c, _mode, subgroups) => {
    const attrs = convAttrs(c);
    const [n, ch] = c.input;
    const x = rand(c.input);
    const w = rand([c.out, ch / attrs.groups, c.kernel[0], c.kernel[1]]);
    const b = c.bias ? rand([c.out]) : null;
    const y = ref.conv2d(x, w, b, attrs);
    const dy = rand(y.shape);
    const grads = ref.conv2dBackward(x, w, dy, attrs);
    const spec = { name: 'k_conv', origin, input: c.input, attrs, subgroups, limits: limitsFor(subgroups) };

    // Row runs (a lane computes neighbouring pixels of an output row from one loaded segment) where
    // the output width allows them, and plain rows.
    it.each([
      ['row runs', true],
      ['plain rows', false],
    ] as const)('forward with the relu epilogue, %s', async (_rows, runs) => {
      const k = conv2dKernel({ ...spec, runs, epilogue: forwardEpilogue(undefined, { fn: 'relu', slope: 0 })! });
      expect(k.wgsl.includes('for (var g = 0u;')).toBe(runs && rowRun(spec, true) !== undefined);
      const out = await run([k], { x, w, ...(b ? { b } : {}) }, ['y']);
      expectAllclose(out['y']!, ref.relu(y).data, tol(w.data.length / c.out), 'y');
    });

    it('input gradient', async () => {
      const out = await run([conv2dGradInputKernel(spec)], { dy, w }, ['dx']);
      expectAllclose(out['dx']!, grads.dx.data, tol(c.out * c.kernel[0] * c.kernel[1]), 'dx');
    });

    // Row runs (a lane owns a kernel row's taps and loads the input under a run of output pixels
    // once) where the output width allows them, and plain rows; split over k or not as the shape says.
    it.each([
      ['row runs', true],
      ['plain rows', false],
    ] as const)('weight and bias gradient, %s', async (_rows, runs) => {
      const ks = conv2dGradWeightKernels({ ...spec, runs });
      expect(ks[0]!.wgsl.includes('for (var g = ')).toBe(runs && wgradRun(spec, true) !== undefined);
      const out = await run(ks, { x, dy }, c.bias ? ['dw', 'db'] : ['dw']);
      const k = n * (y.shape[2] ?? 0) * (y.shape[3] ?? 0);
      expectAllclose(out['dw']!, grads.dw.data, tol(k), 'dw');
      if (grads.db) expectAllclose(out['db']!, grads.db.data, tol(k), 'db');
    });
  },
);

/**
 * Input gradients at stride 1 with 32 or more images, where row blocks divide the batch (pixel-
 * major rows: only the taps landing inside dy) and N * W (runs along x that skip kernel rows
 * missing dy): each case runs in all three row orders.
 */
const pixelCases: readonly [string, ConvCase][] = [
  [
    '5x5 valid (LeNet conv2: half the taps miss), batch 64',
    { input: [64, 6, 6, 7], out: 16, kernel: [5, 5], bias: false },
  ],
  ['3x3 pad 1, batch 32', { input: [32, 5, 5, 4], out: 12, kernel: [3, 3], padding: [1, 1], bias: false }],
  [
    'asymmetric 3x5 pad (2,1) dilation (1,2), batch 32',
    { input: [32, 3, 6, 8], out: 4, kernel: [3, 5], padding: [2, 1], dilation: [1, 2], bias: false },
  ],
  [
    'groups 2, 20 channels, batch 48',
    { input: [48, 20, 4, 4], out: 6, kernel: [3, 3], padding: [1, 1], groups: 2, bias: false },
  ],
];

/**
 * Input gradients with a stride: pixel-major rows loop over the taps on the stride grid only (odd
 * pixels of a 1x1 stride-2 conv get none and store 0); each case runs in both orders that apply.
 */
const stridedCases: readonly [string, ConvCase][] = [
  [
    '3x3 pad 1 stride 2 (ResNet downsampling), batch 32',
    { input: [32, 6, 9, 8], out: 10, kernel: [3, 3], padding: [1, 1], stride: [2, 2], bias: false },
  ],
  [
    '1x1 stride 2 (ResNet shortcut), batch 32',
    { input: [32, 5, 6, 7], out: 8, kernel: [1, 1], stride: [2, 2], bias: false },
  ],
  [
    'asymmetric 5x3 pad (2,0) stride (3,2), batch 64',
    { input: [64, 3, 11, 9], out: 4, kernel: [5, 3], padding: [2, 0], stride: [3, 2], bias: false },
  ],
  [
    'groups 2, 3x3 pad 1 stride 2, batch 32',
    { input: [32, 8, 7, 7], out: 6, kernel: [3, 3], padding: [1, 1], stride: [2, 2], groups: 2, bias: false },
  ],
];

const dgradSuites: readonly [readonly [string, ConvCase][], readonly DgradOrder[]][] = [
  [pixelCases, ['runs', 'pixel', 'image']],
  [stridedCases, ['pixel', 'image']],
];

describe.each(dgradSuites.flatMap(([cases, orders]) => withModes(cases).map((row) => [...row, orders] as const)))(
  'conv2d input gradient %s, %s (float64 reference, rtol 1e-4, atol 1e-5 * sqrt(K))',
  (_label, c, _mode, subgroups, orders) => {
    const attrs = convAttrs(c);
    const x = rand(c.input);
    const w = rand([c.out, c.input[1] / attrs.groups, c.kernel[0], c.kernel[1]]);
    const dy = rand(ref.conv2d(x, w, null, attrs).shape);
    const dx = ref.conv2dBackward(x, w, dy, attrs).dx;
    const spec = { name: 'k_dgrad', origin, input: c.input, attrs, subgroups, limits: limitsFor(subgroups) };

    it.each(orders)('%s rows', async (order) => {
      expect(dgradTile(spec, order)).toBeDefined();
      const out = await run([conv2dGradInputKernel({ ...spec, order })], { dy, w }, ['dx']);
      expectAllclose(out['dx']!, dx.data, tol(c.out * c.kernel[0] * c.kernel[1]), 'dx');
    });
  },
);

describe('kernel shapes chosen by load models (shared loads)', () => {
  const spec = (input: ConvCase['input'], out: number, kernel: Pair, padding: Pair) => ({
    name: 'k',
    origin,
    input,
    attrs: convAttrs({ input, out, kernel, padding, bias: true }),
    subgroups: true,
  });
  const lenet1 = spec([128, 1, 28, 28], 6, [5, 5], [2, 2]);
  const lenet2 = spec([128, 6, 14, 14], 16, [5, 5], [0, 0]);
  const resnet3x3 = spec([32, 64, 24, 24], 64, [3, 3], [1, 1]);
  const resnet1x1 = spec([32, 64, 24, 24], 64, [1, 1], [0, 0]);

  it('forward convs take row runs wherever a run divides the output width, never for 1x1', () => {
    expect([lenet1, lenet2, resnet3x3, resnet1x1].map((c) => rowRun(c))).toEqual([7, 5, 6, undefined]);
  });

  it('weight gradients take row runs for 5x5 and 3x3 (their shared loads packed), not for 1x1', () => {
    expect([lenet1, lenet2, resnet3x3, resnet1x1].map((c) => wgradRun(c))).toEqual([7, 5, 8, undefined]);
  });

  it('input gradients take runs where they apply, else pixel-major rows where many taps miss dy, else image-major', () => {
    const prime5x5 = spec([64, 6, 11, 11], 16, [5, 5], [0, 0]);
    const prime3x3 = spec([32, 64, 13, 13], 64, [3, 3], [1, 1]);
    expect([lenet2, resnet3x3, prime5x5, prime3x3].map((c) => dgradOrder(c).order)).toEqual([
      'runs',
      'runs',
      'pixel',
      'image',
    ]);
  });
});

it('strided input gradients take pixel-major rows where a row block divides the batch and there is no dilation; else image-major', () => {
  const spec = (input: ConvCase['input'], stride: Pair, dilation: Pair = [1, 1]) => ({
    name: 'k',
    origin,
    input,
    attrs: convAttrs({ input, out: 4, kernel: [3, 3], stride, dilation, bias: false }),
  });
  expect(dgradOrder(spec([64, 3, 9, 9], [2, 2])).order).toBe('pixel');
  expect(dgradOrder(spec([64, 3, 9, 9], [2, 2], [2, 1])).order).toBe('image');
  expect(() => conv2dGradInputKernel({ ...spec([64, 3, 9, 9], [2, 2], [2, 1]), order: 'pixel' })).toThrow(
    /pixel rows do not apply/,
  );
  expect(dgradOrder(spec([20, 3, 9, 9], [2, 2])).order).toBe('image');
  expect(dgradOrder(spec([20, 3, 9, 9], [1, 1])).order).toBe('image');
  expect(dgradOrder(spec([1, 3, 9, 9], [1, 1])).order).toBe('image');
});

describe('conv2d seeds', () => {
  it('d2l corr2d: X = 0..8 (3x3), K = [[0, 1], [2, 3]] gives exactly [[19, 25], [37, 43]]', async () => {
    const attrs = convAttrs({ input: [1, 1, 3, 3], out: 1, kernel: [2, 2], bias: false });
    const k = conv2dKernel({ name: 'k_corr2d', origin, input: [1, 1, 3, 3], attrs });
    const out = await runKernels(
      gpu,
      [k],
      { x: new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8]), w: new Float32Array([0, 1, 2, 3]) },
      ['y'],
    );
    expect(Array.from(out['y']!)).toEqual([19, 25, 37, 43]);
  });

  it.each(
    withModes([
      ['row runs', true],
      ['plain rows', false],
    ] as const),
  )(
    'weight gradient split over k (3 partitions) matches the unsplit sum, %s, %s',
    async (_rows, runs, _mode, subgroups) => {
      const c: ConvCase = { input: [2, 3, 16, 16], out: 8, kernel: [3, 3], padding: [1, 1], bias: true };
      const attrs = convAttrs(c);
      const x = rand(c.input);
      const dy = rand([2, 8, 16, 16]);
      const grads = ref.conv2dBackward(x, rand([8, 3, 3, 3]), dy, attrs);
      const ks = conv2dGradWeightKernels({
        name: 'k_wgrad',
        origin,
        input: c.input,
        attrs,
        splitK: 3,
        subgroups,
        limits: limitsFor(subgroups),
        runs,
      });
      expect(ks[0]!.wgsl.includes('for (var g = ')).toBe(runs);
      expect(ks.map((k) => k.name)).toEqual(['k_wgrad', 'k_wgrad_sum']);
      const out = await run(ks, { x, dy }, ['dw', 'db']);
      expectAllclose(out['dw']!, grads.dw.data, tol(512), 'dw');
      expectAllclose(out['db']!, grads.db!.data, tol(512), 'db');
    },
  );
});

/** [rows, cols] -> [cols, rows]: how a transposed operand is stored. */
function transpose(t: Tensor): Tensor {
  const [r, c] = t.shape as [number, number];
  return tensor(
    [c, r],
    Array.from({ length: r * c }, (_, i) => t.data[(i % r) * c + Math.floor(i / r)]!),
  );
}

describe.each(
  withModes([
    [7, 13, 5],
    [33, 40, 17],
  ] as const),
)(
  'matmul %ix%ix%i (M x N x K), %s, with transpose flags (float64 reference, rtol 1e-4, atol 1e-5)',
  (m, nn, k, _mode, subgroups) => {
    const a = rand([m, k]);
    const b = rand([k, nn]);
    const expected = ref.linear(a, transpose(b), null); // op(A) op(B) = linear(op(A), op(B)^T)
    it.each([
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ])('transA %s transB %s', async (transA, transB) => {
      const kernel = matmulKernel({
        name: 'k_matmul',
        origin,
        m,
        n: nn,
        k,
        transA,
        transB,
        a: 'a',
        b: 'b',
        c: 'c',
        subgroups,
        limits: limitsFor(subgroups),
      });
      const out = await run([kernel], { a: transA ? transpose(a) : a, b: transB ? transpose(b) : b }, ['c']);
      expectAllclose(out['c']!, expected.data, tol(k), 'c');
    });
  },
);

describe.each(
  withModes([
    [7, 5, 13, true],
    [128, 400, 120, true],
    [9, 31, 2, false],
  ] as const),
)(
  'linear batch %i, %i -> %i features, bias %s, %s (float64 reference, rtol 1e-4, atol 1e-5 * sqrt(K))',
  (batch, inF, outF, bias, _mode, subgroups) => {
    const x = rand([batch, inF]);
    const w = rand([outF, inF]);
    const b = bias ? rand([outF]) : null;
    const dy = rand([batch, outF]);
    const grads = ref.linearBackward(x, w, dy, bias);
    const spec = {
      name: 'k_linear',
      origin,
      batch,
      inFeatures: inF,
      outFeatures: outF,
      bias,
      subgroups,
      limits: limitsFor(subgroups),
    };

    it('forward with the sigmoid epilogue', async () => {
      const k = linearForward({ ...spec, epilogue: forwardEpilogue(undefined, { fn: 'sigmoid', slope: 0 })! });
      const out = await run([k], { x, w, ...(b ? { b } : {}) }, ['y']);
      expectAllclose(out['y']!, ref.sigmoid(ref.linear(x, w, b)).data, tol(inF), 'y');
    });

    it('input gradient', async () => {
      const out = await run([linearGradInput(spec)], { dy, w }, ['dx']);
      expectAllclose(out['dx']!, grads.dx.data, tol(outF), 'dx');
    });

    it('weight and bias gradient', async () => {
      const out = await run([linearGradWeight(spec)], { dy, x }, bias ? ['dw', 'db'] : ['dw']);
      expectAllclose(out['dw']!, grads.dw.data, tol(batch), 'dw');
      if (grads.db) expectAllclose(out['db']!, grads.db.data, tol(batch), 'db');
    });
  },
);
