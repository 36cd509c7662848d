// The workgroup-size knob of the pooling, batch-norm (eval) and elementwise kernels (the tuner's
// 64-256 lanes): each size gives the float64 reference's values, on element counts that are no
// multiple of it (the last workgroup part-empty).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { batchnormEval } from '../../compiler/codegen/kernels/batchnorm.ts';
import { elementwiseKernel } from '../../compiler/codegen/kernels/elementwise.ts';
import {
  avgpool2dBackward,
  avgpool2dForward,
  maxpool2dBackward,
  maxpool2dForward,
  poolOutputShape,
  stridedGeometry,
} from '../../compiler/codegen/kernels/pool.ts';
import { activationForward, input } from '../../compiler/ir/expr.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import * as ref from '../../runtime/reference/ops.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { avgAttrs, maxAttrs } from '../helpers/pool.ts';
import { randF32, runOnTensors } from '../helpers/gemm.ts';
import { createRng } from '../helpers/random.ts';

const tol = { rtol: 1e-4, atol: 1e-5 };
const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['test'] };
const rng = createRng(20261203);
const rand = (shape: readonly number[]): Tensor => randF32(rng, shape);

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const run = (kernels: readonly KernelModule[], inputs: Record<string, Tensor>, outputs: readonly string[]) =>
  runOnTensors(gpu, kernels, inputs, outputs);

describe.each([64, 128, 256])('%i lanes (float64 reference, rtol 1e-4 atol 1e-5)', (lanes) => {
  const shape = [3, 5, 11, 9] as const;
  const x = rand(shape);

  it('max pool 3x3 stride 2 pad 1, forward and backward', async () => {
    const attrs = maxAttrs([3, 3], [2, 2], [1, 1]);
    const spec = { name: 'k_pool', origin, input: shape, attrs, lanes };
    const dy = rand(poolOutputShape(stridedGeometry(spec)));
    const ks = [maxpool2dForward(spec), maxpool2dBackward(spec)];
    expect(ks.map((k) => k.workgroupSize[0])).toEqual([lanes, lanes]);
    const out = await run(ks, { x, dy }, ['y', 'dx']);
    expectAllclose(out['y']!, ref.maxpool2d(x, attrs).data, tol, 'y');
    expectAllclose(out['dx']!, ref.maxpool2dBackward(x, dy, attrs).data, tol, 'dx');
  });

  it('avg pool 2x2 stride 2, forward and backward', async () => {
    const attrs = avgAttrs([2, 2], [2, 2]);
    const spec = { name: 'k_pool', origin, input: shape, attrs, lanes };
    const dy = rand(poolOutputShape(stridedGeometry(spec)));
    const ks = [avgpool2dForward(spec), avgpool2dBackward(spec)];
    expect(ks.map((k) => k.workgroupSize[0])).toEqual([lanes, lanes]);
    const out = await run(ks, { x, dy }, ['y', 'dx']);
    expectAllclose(out['y']!, ref.avgpool2d(x, attrs).data, tol, 'y');
    expectAllclose(out['dx']!, ref.avgpool2dBackward(x, dy, attrs).data, tol, 'dx');
  });

  it('batch norm eval', async () => {
    const c = shape[1];
    const [gamma, beta, mean] = [rand([c]), rand([c]), rand([c])];
    const variance = tensor(
      [c],
      Float32Array.from(rand([c]).data, (v) => 0.5 + v * v),
    );
    const k = batchnormEval({ name: 'k_bn', origin, input: shape, attrs: { eps: 1e-5, momentum: 0.1 }, lanes });
    expect(k.workgroupSize[0]).toBe(lanes);
    const out = await run([k], { x, gamma, beta, running_mean: mean, running_var: variance }, ['y']);
    expectAllclose(out['y']!, ref.batchnormEval(x, gamma, beta, mean, variance, 1e-5).data, tol, 'y');
  });

  it('elementwise relu', async () => {
    const k = elementwiseKernel({
      name: 'k_relu',
      origin,
      inputs: ['x'],
      output: 'y',
      count: x.data.length,
      body: activationForward('relu', 0, input('x')),
      lanes,
    });
    expect(k.workgroupSize[0]).toBe(lanes);
    const out = await run([k], { x }, ['y']);
    expectAllclose(out['y']!, ref.relu(x).data, tol, 'y');
  });
});
