// The 3-D kernels (compiler/codegen/kernels/conv3d.ts, pool3d.ts) on the GPU against the float64
// reference (runtime/reference/conv3d.ts, pool3d.ts), on inputs rounded to f32 so both see the same
// numbers. Tolerance: rtol 1e-4, atol 1e-5 * sqrt(K) for a sum of K products (K = the reduction's
// length: C/groups * kernel volume forward, O/groups * taps for dx, N * output volume for dw),
// as float32 rounding grows with the square root of a sum's length; pooling exactly where its
// values are (max, and the seeds' integers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpAttrs, Triple } from '../../compiler/ir/ops.ts';
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { conv3dGradInputKernel, conv3dGradWeightKernels, conv3dKernel } from '../../compiler/codegen/kernels/conv3d.ts';
import { pool3dBackward, pool3dForward, type Shape5 } from '../../compiler/codegen/kernels/pool3d.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { type HostArray, runKernels } from '../../runtime/gpu/run-kernel.ts';
import * as ref from '../../runtime/reference/ops.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { createRng, randn } from '../helpers/random.ts';

const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['test#0'] };

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const run = (kernels: readonly KernelModule[], inputs: Record<string, HostArray>, outputs: readonly string[]) =>
  runKernels(gpu, kernels, inputs, outputs);

/** A seeded normal tensor rounded to f32. */
function randomF32(seed: number, shape: readonly number[]): Tensor {
  return tensor(shape, Float32Array.from(randn(createRng(seed), shape).data));
}
const f32 = (t: Tensor): Float32Array => Float32Array.from(t.data);
const tolFor = (k: number) => ({ rtol: 1e-4, atol: 1e-5 * Math.sqrt(k) });

describe("3-D pooling: the seeds' exercise on the GPU (exact)", () => {
  it('maxpool3d((2, 2, 2), stride 1) of arange(27) as 3x3x3 is [[[13, 14], [16, 17]], [[22, 23], [25, 26]]]; avg is 6.5 more than the min', async () => {
    const x = Float32Array.from({ length: 27 }, (_, i) => i);
    const spec = {
      name: 'k_pool3d',
      origin,
      input: [1, 1, 3, 3, 3] as Shape5,
      attrs: { kernel: [2, 2, 2], stride: [1, 1, 1], padding: [0, 0, 0], dilation: [1, 1, 1] } as const,
    };
    expect(Array.from((await run([pool3dForward(spec, 'max')], { x }, ['y']))['y']!)).toEqual([
      13, 14, 16, 17, 22, 23, 25, 26,
    ]);
    expect(Array.from((await run([pool3dForward(spec, 'avg')], { x }, ['y']))['y']!)).toEqual([
      6.5, 7.5, 9.5, 10.5, 15.5, 16.5, 18.5, 19.5,
    ]);
  });

  it('a window whose dilated taps all land in the padding gives -inf and no gradient, as PyTorch', async () => {
    const spec = {
      name: 'k_pool3d',
      origin,
      input: [1, 1, 2, 2, 2] as Shape5,
      attrs: { kernel: [2, 2, 2], stride: [1, 1, 1], padding: [1, 1, 1], dilation: [3, 3, 3] } as const,
    };
    const x = Float32Array.from({ length: 8 }, (_, i) => i);
    const out = await run(
      [pool3dForward(spec, 'max'), pool3dBackward({ ...spec, name: 'k_pool3d_grad' }, 'max')],
      { x, dy: Float32Array.of(1) },
      ['y', 'dx'],
    );
    expect(Array.from(out['y']!)).toEqual([-Infinity]);
    expect(Array.from(out['dx']!)).toEqual(new Array(8).fill(0));
  });
});

interface PoolCase {
  input: Shape5;
  kernel: Triple;
  stride: Triple;
  padding: Triple;
  dilation: Triple;
}
const poolCases: PoolCase[] = [
  { input: [2, 3, 4, 6, 6], kernel: [2, 2, 2], stride: [2, 2, 2], padding: [0, 0, 0], dilation: [1, 1, 1] },
  { input: [2, 2, 5, 6, 7], kernel: [3, 2, 3], stride: [2, 1, 2], padding: [1, 1, 1], dilation: [1, 1, 1] },
  { input: [1, 3, 6, 7, 5], kernel: [2, 2, 2], stride: [1, 1, 1], padding: [0, 0, 0], dilation: [2, 1, 2] },
  { input: [1, 2, 7, 7, 7], kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1], dilation: [2, 2, 2] },
];

describe.each(['max', 'avg'] as const)(
  '%spool3d forward and backward vs the reference (rtol 1e-4, atol 1e-5)',
  (kind) => {
    it.each(poolCases.filter((c) => kind === 'max' || c.dilation.every((d) => d === 1)))(
      'input $input kernel $kernel stride $stride padding $padding dilation $dilation',
      async (c) => {
        const attrs: OpAttrs['maxpool3d'] = {
          kernel: c.kernel,
          stride: c.stride,
          padding: c.padding,
          dilation: c.dilation,
        };
        const spec = { name: `k_${kind}pool3d`, origin, input: c.input, attrs };
        const x = randomF32(11, c.input);
        const y = kind === 'max' ? ref.maxpool3d(x, attrs) : ref.avgpool3d(x, attrs);
        const dy = randomF32(12, y.shape);
        const dx = kind === 'max' ? ref.maxpool3dBackward(x, dy, attrs) : ref.avgpool3dBackward(x, dy, attrs);
        const kernels = [pool3dForward(spec, kind), pool3dBackward({ ...spec, name: `k_${kind}pool3d_grad` }, kind)];
        const out = await run(kernels, { x: f32(x), dy: f32(dy) }, ['y', 'dx']);
        const tol = { rtol: 1e-4, atol: 1e-5 };
        expectAllclose(out['y']!, y.data, tol, 'y');
        expectAllclose(out['dx']!, dx.data, tol, 'dx');
      },
    );
  },
);

interface ConvCase {
  name: string;
  input: Shape5;
  attrs: OpAttrs['conv3d'];
}
const conv = (input: Shape5, o: Partial<OpAttrs['conv3d']> & { outChannels: number; kernel: Triple }): ConvCase => ({
  name: `input [${input.join(', ')}] ${JSON.stringify(o).replace(/"/g, '')}`,
  input,
  attrs: { stride: [1, 1, 1], padding: [0, 0, 0], dilation: [1, 1, 1], groups: 1, bias: true, ...o },
});
const convCases: ConvCase[] = [
  conv([2, 3, 5, 6, 4], { outChannels: 4, kernel: [3, 2, 3] }),
  conv([1, 2, 7, 6, 5], { outChannels: 3, kernel: [3, 3, 3], stride: [2, 1, 2], padding: [1, 0, 1], bias: false }),
  conv([2, 4, 6, 5, 7], { outChannels: 6, kernel: [2, 3, 2], padding: [1, 1, 1], dilation: [2, 1, 3], groups: 2 }),
  conv([2, 8, 6, 6, 6], { outChannels: 16, kernel: [3, 3, 3], padding: [1, 1, 1] }),
];

describe('conv3d forward, input and weight gradients vs the reference (rtol 1e-4, atol 1e-5 * sqrt(K))', () => {
  it.each(convCases)('$name', async (c) => {
    const a = c.attrs;
    const spec = { name: 'k_conv3d', origin, input: c.input, attrs: a };
    const x = randomF32(21, c.input);
    const w = randomF32(22, [a.outChannels, c.input[1] / a.groups, ...a.kernel]);
    const b = a.bias ? randomF32(23, [a.outChannels]) : null;
    const y = ref.conv3d(x, w, b, a);
    const dy = randomF32(24, y.shape);
    const g = ref.conv3dBackward(x, w, dy, a);
    const kernels = [
      conv3dKernel(spec),
      conv3dGradInputKernel({ ...spec, name: 'k_conv3d_grad_input' }),
      ...conv3dGradWeightKernels({ ...spec, name: 'k_conv3d_grad_weight' }),
    ];
    const inputs: Record<string, HostArray> = { x: f32(x), w: f32(w), dy: f32(dy), ...(b ? { b: f32(b) } : {}) };
    const out = await run(kernels, inputs, ['y', 'dx', 'dw', ...(b ? ['db'] : [])]);
    const kVol = a.kernel[0] * a.kernel[1] * a.kernel[2];
    const outVol = y.shape[2]! * y.shape[3]! * y.shape[4]!;
    expectAllclose(out['y']!, y.data, tolFor((c.input[1] / a.groups) * kVol), 'y');
    expectAllclose(out['dx']!, g.dx.data, tolFor((a.outChannels / a.groups) * kVol), 'dx');
    expectAllclose(out['dw']!, g.dw.data, tolFor(c.input[0] * outVol), 'dw');
    if (g.db) expectAllclose(out['db']!, g.db.data, tolFor(c.input[0] * outVol), 'db');
  });
});
