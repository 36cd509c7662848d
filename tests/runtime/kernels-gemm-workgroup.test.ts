// The workgroup-memory GEMM skeleton (gemm-workgroup.ts) behind every GEMM family — conv forward,
// input and weight gradients, linear forward and both gradients — against the float64 CPU
// reference, on sizes that are no multiple of the tiles, with strides, padding, dilation, groups,
// bias, fused epilogues and split k; and the tuner's candidate tiles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { activationGradEpilogue, forwardEpilogue } from '../../compiler/codegen/epilogue.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { conv2dKernel } from '../../compiler/codegen/kernels/conv2d.ts';
import { conv2dGradInputKernel } from '../../compiler/codegen/kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels } from '../../compiler/codegen/kernels/conv2d-grad-weight.ts';
import {
  type WorkgroupTile,
  tileLanes,
  tileName,
  tileProblem,
  tileStorage,
  workgroupTiles,
} from '../../compiler/codegen/kernels/gemm-workgroup.ts';
import { linearForward, linearGradInput, linearGradWeight } from '../../compiler/codegen/kernels/matmul.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
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
const rng = createRng(20261202);
const rand = (shape: readonly number[]): Tensor => randF32(rng, shape);

/**
 * Small tiles, so the test sizes span several workgroups and edge tiles: strided lanes with whole
 * staging rounds; vec4 reads; and 3x2 per lane with a K block of 5, whose 120 staged P values
 * leave the last of 64 lanes' rounds part-empty.
 */
const tiles: readonly WorkgroupTile[] = [
  { rows: 32, cols: 16, rowsPerLane: 4, colsPerLane: 2, kBlock: 8 },
  { rows: 32, cols: 32, rowsPerLane: 4, colsPerLane: 4, kBlock: 4, vec4: true },
  { rows: 24, cols: 16, rowsPerLane: 3, colsPerLane: 2, kBlock: 5 },
];
/**
 * Lavapipe compiles each of these kernels for 1-9 s with an empty shader cache (barriers become
 * coroutine switches), so case c runs kernel family f on one tile, tiles[(c + f) % 3], and every
 * family meets every tile over three cases instead of each case trying all three.
 */
const tileFor = (c: number, family: number): WorkgroupTile => tiles[(c + family) % tiles.length]!;

const run = (kernels: readonly KernelModule[], inputs: Record<string, Tensor>, outputs: readonly string[]) =>
  runOnTensors(gpu, kernels, inputs, outputs);

const convCases: readonly [string, ConvCase][] = [
  ['3x3 pad 1, bias', { input: [1, 3, 7, 6], out: 5, kernel: [3, 3], padding: [1, 1], bias: true }],
  ['1x1, 40 channels, batch 3', { input: [3, 8, 5, 7], out: 40, kernel: [1, 1], bias: false }],
  [
    'stride (3,4) pad (1,0)',
    { input: [1, 2, 11, 13], out: 3, kernel: [3, 3], stride: [3, 4], padding: [1, 0], bias: false },
  ],
  [
    'dilation 2 pad 2, bias',
    { input: [2, 3, 10, 10], out: 4, kernel: [3, 3], padding: [2, 2], dilation: [2, 2], bias: true },
  ],
  ['depthwise, bias, batch 3', { input: [3, 5, 6, 6], out: 5, kernel: [3, 3], padding: [1, 1], groups: 5, bias: true }],
  [
    'groups 2 stride 2 dilation 2 asymmetric, bias',
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
];

const bn = { gamma: 0, beta: 1, runMean: 2, runVar: 3, eps: 1e-5 };

describe.each(convCases.map(([label, c], i) => [label, c, i] as const))(
  'workgroup tiles, conv2d %s (float64 reference, rtol 1e-4, atol 1e-5 * sqrt(K))',
  (_l, c, ci) => {
    const attrs = convAttrs(c);
    const x = rand(c.input);
    const w = rand([c.out, c.input[1] / attrs.groups, c.kernel[0], c.kernel[1]]);
    const b = c.bias ? rand([c.out]) : null;
    const y = ref.conv2d(x, w, b, attrs);
    const dy = rand(y.shape);
    const act = rand(c.input);
    const grads = ref.conv2dBackward(x, w, dy, attrs);
    const stats = { bn_gamma: rand([c.out]), bn_beta: rand([c.out]), bn_mean: rand([c.out]) };
    const bnVar = tensor(
      [c.out],
      Float32Array.from(rand([c.out]).data, (v) => 0.5 + v * v),
    );
    const spec = { name: 'k_conv', origin, input: c.input, attrs };
    const depth = (c.input[1] / attrs.groups) * c.kernel[0] * c.kernel[1];

    // Epilogues by case: batch norm (eval) then relu, relu alone, none.
    const epilogue = [
      forwardEpilogue(bn, { fn: 'relu', slope: 0 }),
      forwardEpilogue(undefined, { fn: 'relu', slope: 0 }),
      undefined,
    ][ci % 3];
    const expectedY = [
      () => ref.relu(ref.batchnormEval(y, stats.bn_gamma, stats.bn_beta, stats.bn_mean, bnVar, bn.eps)),
      () => ref.relu(y),
      () => y,
    ][ci % 3]!;
    it(`forward, epilogue ${['bn+relu', 'relu', 'none'][ci % 3]}, ${tileName(tileFor(ci, 0))}`, async () => {
      const k = conv2dKernel({ ...spec, workgroup: tileFor(ci, 0), ...(epilogue ? { epilogue } : {}) });
      expect(k.wgsl).toContain('var<workgroup>');
      const inputs = { x, w, ...(b ? { b } : {}), ...(ci % 3 === 0 ? { ...stats, bn_var: bnVar } : {}) };
      const out = await run([k], inputs, ['y']);
      expectAllclose(out['y']!, expectedY().data, tol(depth), 'y');
    });

    it(`input gradient with the relu gradient epilogue, ${tileName(tileFor(ci, 1))}`, async () => {
      const workgroup = tileFor(ci, 1);
      const epilogue = activationGradEpilogue({ fn: 'relu', slope: 0, from: 'input' });
      const k = conv2dGradInputKernel({ ...spec, workgroup, epilogue });
      expect(k.wgsl).toContain('var<workgroup>');
      const out = await run([k], { dy, w, act }, ['dx']);
      expectAllclose(out['dx']!, ref.reluBackward(act, grads.dx).data, tol(c.out * c.kernel[0] * c.kernel[1]), 'dx');
    });

    // Split over k (a second kernel sums the partials) in every other case.
    const splitK = ci % 2 === 0 ? 1 : 3;
    it(`weight and bias gradient, split k ${splitK}, ${tileName(tileFor(ci, 2))}`, async () => {
      const k = c.input[0] * (y.shape[2] ?? 0) * (y.shape[3] ?? 0);
      const ks = conv2dGradWeightKernels({ ...spec, workgroup: tileFor(ci, 2), splitK });
      expect(ks.length).toBe(splitK === 1 ? 1 : 2);
      expect(ks[0]!.wgsl).toContain('var<workgroup>');
      const out = await run(ks, { x, dy }, c.bias ? ['dw', 'db'] : ['dw']);
      expectAllclose(out['dw']!, grads.dw.data, tol(k), 'dw');
      if (grads.db) expectAllclose(out['db']!, grads.db.data, tol(k), 'db');
    });
  },
);

describe.each([
  [7, 13, 5, true, 0],
  [70, 45, 33, false, 1],
  [40, 20, 70, true, 2],
] as const)(
  'workgroup tiles, linear batch %i, %i -> %i features, bias %s (float64 reference, rtol 1e-4, atol 1e-5 * sqrt(K))',
  (batch, inF, outF, bias, ci) => {
    const x = rand([batch, inF]);
    const w = rand([outF, inF]);
    const b = bias ? rand([outF]) : null;
    const dy = rand([batch, outF]);
    const act = rand([batch, inF]);
    const grads = ref.linearBackward(x, w, dy, bias);
    const spec = { name: 'k_linear', origin, batch, inFeatures: inF, outFeatures: outF, bias };

    it(`forward with the sigmoid epilogue, ${tileName(tileFor(ci, 0))}`, async () => {
      const workgroup = tileFor(ci, 0);
      const k = linearForward({
        ...spec,
        workgroup,
        epilogue: forwardEpilogue(undefined, { fn: 'sigmoid', slope: 0 })!,
      });
      expect(k.wgsl).toContain('var<workgroup>');
      const out = await run([k], { x, w, ...(b ? { b } : {}) }, ['y']);
      expectAllclose(out['y']!, ref.sigmoid(ref.linear(x, w, b)).data, tol(inF), 'y');
    });

    it(`input gradient with the relu gradient epilogue, ${tileName(tileFor(ci, 1))}`, async () => {
      const workgroup = tileFor(ci, 1);
      const epilogue = activationGradEpilogue({ fn: 'relu', slope: 0, from: 'input' });
      const k = linearGradInput({ ...spec, workgroup, epilogue });
      expect(k.wgsl).toContain('var<workgroup>');
      const out = await run([k], { dy, w, act }, ['dx']);
      expectAllclose(out['dx']!, ref.reluBackward(act, grads.dx).data, tol(outF), 'dx');
    });

    it(`weight and bias gradient, ${tileName(tileFor(ci, 2))}`, async () => {
      const workgroup = tileFor(ci, 2);
      const k = linearGradWeight({ ...spec, workgroup });
      expect(k.wgsl).toContain('var<workgroup>');
      const out = await run([k], { dy, x }, bias ? ['dw', 'db'] : ['dw']);
      expectAllclose(out['dw']!, grads.dw.data, tol(batch), 'dw');
      if (grads.db) expectAllclose(out['db']!, grads.db.data, tol(batch), 'db');
    });
  },
);

describe('workgroupTiles: the tuner candidates', () => {
  const gpuLimits = { ...defaultLimits, maxComputeWorkgroupStorageSize: 32768 };

  it('offers 64x64 and 128x64 tiles of 64-256 lanes for a large GEMM, each within the limits', () => {
    const ts = workgroupTiles(4096, 512, 1152, gpuLimits);
    expect(ts.map(tileName)).toEqual(
      expect.arrayContaining(['64x64/4x4/k8', '128x64/8x4/k8', '128x64/8x4/k8+v4', '64x64/8x8/k16']),
    );
    for (const t of ts) {
      expect(tileProblem(t, gpuLimits)).toBeUndefined();
      expect(tileLanes(t)).toBeGreaterThanOrEqual(16);
      expect(tileLanes(t)).toBeLessThanOrEqual(256);
    }
  });

  it('drops tiles the device limits exclude, and tiles far larger than the output', () => {
    const small = { ...defaultLimits, maxComputeWorkgroupStorageSize: 4096, maxComputeInvocationsPerWorkgroup: 64 };
    for (const t of workgroupTiles(4096, 512, 1152, small)) {
      expect(tileStorage(t)).toBeLessThanOrEqual(4096);
      expect(tileLanes(t)).toBeLessThanOrEqual(64);
    }
    expect(workgroupTiles(10, 6, 150, gpuLimits).map(tileName)).toEqual(['32x32/4x4/k16']);
  });

  // The candidates differ from the small tiles above only in their constants; one of 256 lanes
  // runs here (lavapipe compiles each for 10-20 s cold), the tuner checks its winner on the shape.
  it('a 256-lane candidate for a 150 x 40 GEMM computes a linear layer', async () => {
    const [batch, inF, outF] = [150, 37, 40];
    const x = rand([batch, inF]);
    const w = rand([outF, inF]);
    const b = rand([outF]);
    const expected = ref.linear(x, w, b);
    const limits = { ...defaultLimits, maxComputeWorkgroupStorageSize: 16384 };
    const candidates = workgroupTiles(batch, outF, inF, limits);
    const workgroup = candidates.find((t) => tileLanes(t) === 256 && !t.vec4)!;
    const k = linearForward({
      name: 'k_lin',
      origin,
      batch,
      inFeatures: inF,
      outFeatures: outF,
      bias: true,
      workgroup,
    });
    expect(k.workgroupSize[0]).toBe(256);
    const out = await run([k], { x, w, b }, ['y']);
    expectAllclose(out['y']!, expected.data, tol(inF), `y (${tileName(workgroup)})`);
  });

  it('input gradients with workgroup tiles refuse row orders other than image-major', () => {
    const attrs = convAttrs({ input: [32, 3, 6, 6], out: 4, kernel: [3, 3], bias: false });
    expect(() =>
      conv2dGradInputKernel({ name: 'k', origin, input: [32, 3, 6, 6], attrs, workgroup: tiles[0]!, order: 'pixel' }),
    ).toThrow(/workgroup tiles take image-major rows, not pixel/);
  });
});
