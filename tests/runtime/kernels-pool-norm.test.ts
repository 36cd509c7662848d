// Pooling and batch-norm kernels on the GPU against the float64 reference (runtime/reference/ops.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';
import { type Pool2dAttrs, windowMissingInput, windowOutSize } from '../../compiler/ir/pool-window.ts';
import {
  avgpool2dBackward,
  avgpool2dForward,
  columnRun,
  maxpool2dBackward,
  maxpool2dForward,
  poolOutputShape,
  stridedGeometry,
} from '../../compiler/codegen/kernels/pool.ts';
import { adaptiveAvgpool2dBackward, adaptiveAvgpool2dForward } from '../../compiler/codegen/kernels/adaptive-pool.ts';
import {
  batchnormEval,
  batchnormTrainBackward,
  batchnormTrainForward,
} from '../../compiler/codegen/kernels/batchnorm.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { type HostArray, runKernels } from '../../runtime/gpu/run-kernel.ts';
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import * as ref from '../../runtime/reference/ops.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { avgAttrs, maxAttrs } from '../helpers/pool.ts';
import { createRng, randn } from '../helpers/random.ts';

const tol = { rtol: 1e-4, atol: 1e-5 };
const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['test#0'] };

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

/** runKernels on this file's device. */
const run = (kernels: readonly KernelModule[], inputs: Record<string, HostArray>, outputs: readonly string[]) =>
  runKernels(gpu, kernels, inputs, outputs);

/** A seeded normal tensor rounded to f32, so the reference sees exactly what the GPU sees. */
function randomF32(seed: number, shape: readonly number[], round = false): Tensor {
  const t = randn(createRng(seed), shape);
  return tensor(
    shape,
    Float32Array.from(t.data, (v) => (round ? Math.round(v * 2) : v)),
  );
}

const f32 = (t: Tensor): Float32Array => Float32Array.from(t.data);
type Shape4 = [number, number, number, number];
const pool = (input: Shape4, attrs: Pool2dAttrs) => ({ name: 'k_pool', origin, input, attrs }) as const;

describe('pooling: d2l seeds on the GPU (exact)', () => {
  const x9 = Float32Array.from({ length: 9 }, (_, i) => i);
  const x16 = Float32Array.from({ length: 16 }, (_, i) => i);
  const maxed = async (input: Shape4, x: Float32Array, attrs: OpAttrs['maxpool2d']) =>
    Array.from((await run([maxpool2dForward(pool(input, attrs))], { x }, ['y']))['y']!);
  const averaged = async (input: Shape4, x: Float32Array, attrs: OpAttrs['avgpool2d']) =>
    Array.from((await run([avgpool2dForward(pool(input, attrs))], { x }, ['y']))['y']!);

  it('2x2 max and avg pooling of [[0..8]]', async () => {
    expect(await maxed([1, 1, 3, 3], x9, maxAttrs([2, 2], [1, 1]))).toEqual([4, 5, 7, 8]);
    expect(await averaged([1, 1, 3, 3], x9, avgAttrs([2, 2], [1, 1]))).toEqual([2, 3, 5, 6]);
  });

  it('arange(16) as 1x1x4x4: maxpool(3), maxpool(3, padding 1, stride 2), maxpool((2,3), stride (2,3), padding (0,1))', async () => {
    expect(await maxed([1, 1, 4, 4], x16, maxAttrs([3, 3], [3, 3]))).toEqual([10]);
    expect(await maxed([1, 1, 4, 4], x16, maxAttrs([3, 3], [2, 2], [1, 1]))).toEqual([5, 7, 13, 15]);
    expect(await maxed([1, 1, 4, 4], x16, maxAttrs([2, 3], [2, 3], [0, 1]))).toEqual([5, 7, 13, 15]);
  });

  it('second channel X + 1 pools per channel', async () => {
    const x = Float32Array.from({ length: 32 }, (_, i) => (i < 16 ? i : i - 15));
    expect(await maxed([1, 2, 4, 4], x, maxAttrs([3, 3], [2, 2], [1, 1]))).toEqual([5, 7, 13, 15, 6, 8, 14, 16]);
  });

  it('arange(16) with ceil_mode (PyTorch 1.13): maxpool(3) -> [[10, 11], [14, 15]], avgpool(3, padding 1, stride 2, count_include_pad false)', async () => {
    expect(await maxed([1, 1, 4, 4], x16, maxAttrs([3, 3], [3, 3], [0, 0], { ceilMode: true }))).toEqual([
      10, 11, 14, 15,
    ]);
    // Windows rows {0,1}, {1,2,3}, {3}: the last starts inside the input, so ceil_mode keeps it.
    expect(
      await averaged([1, 1, 4, 4], x16, avgAttrs([3, 3], [2, 2], [1, 1], { ceilMode: true, countIncludePad: false })),
    ).toEqual([2.5, 4, 5, 8.5, 10, 11, 12.5, 14, 15]);
  });
});

interface PoolConfig {
  readonly input: Shape4;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ties: boolean;
  readonly dilation?: Pair;
  readonly ceilMode?: boolean;
  readonly countIncludePad?: boolean;
}

const listedConfigs: PoolConfig[] = [
  { input: [2, 3, 8, 8], kernel: [2, 2], stride: [2, 2], padding: [0, 0], ties: false },
  { input: [2, 3, 7, 9], kernel: [3, 3], stride: [2, 2], padding: [1, 1], ties: false },
  { input: [1, 2, 6, 10], kernel: [2, 3], stride: [2, 3], padding: [0, 1], ties: false },
  { input: [2, 2, 7, 6], kernel: [3, 2], stride: [1, 3], padding: [1, 0], ties: true },
  { input: [1, 3, 9, 9], kernel: [3, 3], stride: [3, 2], padding: [1, 1], ties: true },
  // Unpadded windows loop a fixed extent; rows that tile the input (k = s) take no backward loop,
  // including the last row no window reads (7 = 3 * 2 + 1).
  { input: [2, 2, 7, 9], kernel: [2, 3], stride: [2, 2], padding: [0, 0], ties: true },
  // Column runs (columnRun): 28 -> 4 per invocation and 14 -> 7; 14 -> 7 and overlapping windows
  // 7 -> 7; a prime width 11 -> 1 and its 6 outputs -> 6.
  { input: [2, 3, 6, 28], kernel: [2, 2], stride: [2, 2], padding: [0, 0], ties: true },
  { input: [1, 2, 5, 14], kernel: [3, 3], stride: [2, 2], padding: [1, 1], ties: true },
  { input: [1, 2, 4, 11], kernel: [2, 3], stride: [2, 2], padding: [0, 1], ties: false },
  // PyTorch's options: ceil_mode windows past the input (clipped taps, divisor clipped to the padded
  // input), dilated taps from the left padding, count_include_pad = false; a ceil_mode tiling axis
  // (k = s, 7 = 2 * 3 + 1) whose last window holds one column.
  {
    input: [2, 3, 8, 9],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    ties: true,
    ceilMode: true,
    countIncludePad: false,
  },
  { input: [1, 2, 7, 7], kernel: [3, 3], stride: [3, 3], padding: [0, 0], ties: false, ceilMode: true },
  {
    input: [2, 2, 9, 10],
    kernel: [3, 2],
    stride: [2, 1],
    padding: [1, 1],
    ties: true,
    dilation: [2, 3],
    countIncludePad: false,
  },
  {
    input: [1, 3, 11, 8],
    kernel: [3, 3],
    stride: [2, 3],
    padding: [1, 0],
    ties: false,
    dilation: [3, 2],
    ceilMode: true,
  },
  { input: [2, 2, 6, 28], kernel: [2, 2], stride: [2, 2], padding: [0, 0], ties: true, dilation: [2, 2] },
];

const poolConfigs = [...listedConfigs, ...randomPoolConfigs(7, 8)].map(
  (c): Required<PoolConfig> => ({ dilation: [1, 1], ceilMode: false, countIncludePad: true, ...c }),
);

/**
 * `count` seeded random pooling configurations that PyTorch accepts: every option drawn, sizes
 * small and odd or even, padding at most half the kernel, windows that fit and read the input.
 */
function randomPoolConfigs(seed: number, count: number): PoolConfig[] {
  const rng = createRng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
  const out: PoolConfig[] = [];
  while (out.length < count) {
    const input: Shape4 = [int(1, 2), int(1, 3), int(3, 13), int(3, 13)];
    const kernel: Pair = [int(1, 4), int(1, 4)];
    const stride: Pair = [int(1, 3), int(1, 3)];
    const padding: Pair = [int(0, Math.floor(kernel[0] / 2)), int(0, Math.floor(kernel[1] / 2))];
    const dilation: Pair = [int(1, 3), int(1, 3)];
    const ceilMode = rng.next() < 0.5;
    const fits = [0, 1].every((i) => {
      const o = windowOutSize(input[2 + i]!, kernel[i]!, stride[i]!, padding[i]!, dilation[i]!, ceilMode);
      return o >= 1 && windowMissingInput(input[2 + i]!, o, kernel[i]!, stride[i]!, padding[i]!, dilation[i]!) < 0;
    });
    if (fits)
      out.push({
        input,
        kernel,
        stride,
        padding,
        dilation,
        ceilMode,
        countIncludePad: rng.next() < 0.5,
        ties: rng.next() < 0.5,
      });
  }
  return out;
}

it('runs of neighbouring columns: 4 where it divides the row, else its largest divisor up to 8', () => {
  expect([28, 12, 10, 14, 9, 7, 6, 11, 13, 1].map(columnRun)).toEqual([4, 4, 5, 7, 3, 7, 6, 1, 1, 1]);
});

describe.each(poolConfigs)(
  'pool2d $input k$kernel s$stride p$padding d$dilation ceil=$ceilMode include_pad=$countIncludePad ties=$ties (float64 reference, rtol 1e-4 atol 1e-5)',
  (c) => {
    const maxA = maxAttrs(c.kernel, c.stride, c.padding, { ceilMode: c.ceilMode, dilation: c.dilation });
    const avgA = avgAttrs(c.kernel, c.stride, c.padding, { ceilMode: c.ceilMode, countIncludePad: c.countIncludePad });
    // Rounded inputs make ties common: the kernels must pick PyTorch's first maximum in scan order.
    const x = randomF32(1, c.input, c.ties);

    it('max pool forward and backward (gradient to the stored argmax)', async () => {
      const spec = pool(c.input, maxA);
      const dy = randomF32(2, poolOutputShape(stridedGeometry(spec)));
      const out = await run([maxpool2dForward(spec), maxpool2dBackward(spec)], { x: f32(x), dy: f32(dy) }, ['y', 'dx']);
      expectAllclose(out['y']!, ref.maxpool2d(x, maxA).data, tol, 'y');
      expectAllclose(out['dx']!, ref.maxpool2dBackward(x, dy, maxA).data, tol, 'dx');
    });

    it('avg pool forward and backward', async () => {
      const spec = pool(c.input, avgA);
      const dy = randomF32(2, poolOutputShape(stridedGeometry(spec)));
      const out = await run([avgpool2dForward(spec), avgpool2dBackward(spec)], { x: f32(x), dy: f32(dy) }, ['y', 'dx']);
      expectAllclose(out['y']!, ref.avgpool2d(x, avgA).data, tol, 'y');
      expectAllclose(out['dx']!, ref.avgpool2dBackward(x, dy, avgA).data, tol, 'dx');
    });
  },
);

const adaptiveConfigs: { input: Shape4; output: Pair }[] = [
  { input: [2, 3, 7, 9], output: [3, 4] },
  { input: [2, 4, 5, 5], output: [1, 1] },
  { input: [1, 2, 6, 6], output: [4, 4] },
  { input: [1, 2, 3, 2], output: [5, 3] },
  // Equal bins on both axes, then on one (fixed-extent loops, loop-free backward).
  { input: [2, 2, 8, 6], output: [4, 3] },
  { input: [1, 2, 6, 7], output: [3, 2] },
];

describe.each(adaptiveConfigs)(
  'adaptive avg pool $input -> $output (float64 reference, rtol 1e-4 atol 1e-5)',
  ({ input, output }) => {
    it('forward and backward', async () => {
      const spec = { name: 'k_adaptive', origin, input, attrs: { output } };
      const x = randomF32(3, input);
      const dy = randomF32(4, [input[0], input[1], ...output]);
      const out = await run(
        [adaptiveAvgpool2dForward(spec), adaptiveAvgpool2dBackward(spec)],
        { x: f32(x), dy: f32(dy) },
        ['y', 'dx'],
      );
      expectAllclose(out['y']!, ref.adaptiveAvgpool2d(x, output).data, tol, 'y');
      expectAllclose(out['dx']!, ref.adaptiveAvgpool2dBackward(x, dy, output).data, tol, 'dx');
    });
  },
);

// Half with the tree sums' loops unrolled (a GPU), half with their bound hidden (lavapipe: loopBound).
const bnConfigs: { input: number[]; unrollLoops: boolean }[] = [
  { input: [4, 3, 5, 6], unrollLoops: true },
  { input: [8, 5], unrollLoops: false },
  { input: [128, 2, 24, 24], unrollLoops: false },
  { input: [2, 3, 4, 5, 3], unrollLoops: true },
];

describe.each(bnConfigs)(
  'batchnorm $input, unrolled loops $unrollLoops (float64 reference, rtol 1e-4 atol 1e-5)',
  ({ input, unrollLoops }) => {
    const attrs = { eps: 1e-5, momentum: 0.1 };
    const spec = { name: 'k_bn', origin, input, attrs, limits: { ...defaultLimits, unrollLoops } };
    const c = input[1]!;
    const count = input.reduce((a, b) => a * b, 1) / c;
    const gamma = randomF32(5, [c]);
    const beta = randomF32(6, [c]);

    it('two training steps: outputs, saved stats, gradients, running stats', async () => {
      let runMean = tensor([c], new Float32Array(c));
      let runVar = tensor([c], new Float32Array(c).fill(1));
      for (const step of [0, 1]) {
        // An offset mean checks the two-pass variance when |mean| >> std.
        const x = tensor(
          input,
          Float32Array.from(randomF32(10 + step, input).data, (v) => 3 + 2 * v),
        );
        const dy = randomF32(20 + step, input);
        const out = await run(
          [batchnormTrainForward(spec), batchnormTrainBackward({ ...spec, name: 'k_bn_grad' })],
          {
            x: f32(x),
            dy: f32(dy),
            gamma: f32(gamma),
            beta: f32(beta),
            running_mean: f32(runMean),
            running_var: f32(runVar),
          },
          ['y', 'save_mean', 'save_invstd', 'running_mean', 'running_var', 'dx', 'dgamma', 'dbeta'],
        );
        const fwd = ref.batchnormTrain(x, gamma, beta, attrs.eps);
        expectAllclose(out['y']!, fwd.y.data, tol, `y step ${step}`);
        expectAllclose(out['save_mean']!, fwd.mean.data, tol, 'save_mean');
        expectAllclose(out['save_invstd']!, fwd.invstd.data, tol, 'save_invstd');
        const bwd = ref.batchnormTrainBackward(x, gamma, dy, attrs.eps);
        expectAllclose(out['dx']!, bwd.dx.data, tol, `dx step ${step}`);
        expectAllclose(out['dgamma']!, bwd.dgamma.data, tol, 'dgamma');
        expectAllclose(out['dbeta']!, bwd.dbeta.data, tol, 'dbeta');
        const next = ref.updateRunningStats(runMean, runVar, fwd.mean, fwd.varBiased, count, attrs.momentum);
        expectAllclose(out['running_mean']!, next.runMean.data, tol, `running_mean after step ${step}`);
        expectAllclose(out['running_var']!, next.runVar.data, tol, `running_var after step ${step}`);
        runMean = tensor([c], out['running_mean']!);
        runVar = tensor([c], out['running_var']!);
      }
    });

    it('eval forward with running stats', async () => {
      const x = randomF32(30, input);
      const runMean = randomF32(31, [c]);
      const runVar = tensor(
        [c],
        Float32Array.from(randomF32(32, [c]).data, (v) => 0.5 + v * v),
      );
      const out = await run(
        [batchnormEval({ ...spec, name: 'k_bn_eval' })],
        { x: f32(x), gamma: f32(gamma), beta: f32(beta), running_mean: f32(runMean), running_var: f32(runVar) },
        ['y'],
      );
      expectAllclose(out['y']!, ref.batchnormEval(x, gamma, beta, runMean, runVar, attrs.eps).data, tol, 'y');
    });
  },
);

describe('limits and validation', () => {
  it('folds more than 65,535 workgroups into y', () => {
    const k = maxpool2dForward(pool([64, 64, 128, 128], maxAttrs([2, 2], [2, 2])));
    expect(k.dispatch[1]).toBeGreaterThan(1);
    expect(k.dispatch[0]).toBeLessThanOrEqual(65535);
    expect(k.wgsl.startsWith('// kernel  k_pool   (forward)')).toBe(true);
  });

  it('names the kernel when padding exceeds half the window', () => {
    expect(() => maxpool2dForward(pool([1, 1, 4, 4], maxAttrs([2, 2], [2, 2], [2, 2])))).toThrow(
      /k_pool.*padding 2 exceeds half/,
    );
    // PyTorch gives -inf (and an argmax outside the input) for a dilated window that steps over a
    // short input from its left padding; the shape rules refuse it (E0302), the kernel names it.
    expect(() => maxpool2dForward(pool([1, 1, 1, 1], maxAttrs([2, 2], [1, 1], [1, 1], { dilation: [2, 2] })))).toThrow(
      /k_pool.*reads only padding/,
    );
  });

  it('generates training batch norm over one value per channel, which only an evaluating model holds', () => {
    // Training at that batch is refused before kernels (E0307, tests/shapes/batchnorm-batch.test.ts);
    // a model compiled to evaluate a last batch of 1 still gets the whole step program.
    const k = batchnormTrainForward({ name: 'k_bn1', origin, input: [1, 4], attrs: { eps: 1e-5, momentum: 0.1 } });
    expect(k.wgsl).toContain('const M: u32 = 1u;');
  });
});
