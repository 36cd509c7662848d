// The elementwise kernel (activations forward and backward, add, fused chains) and concat forward
// and backward on the GPU, against the float64 CPU reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { type ScalarExpr, activations, add, input, mul } from '../../compiler/ir/expr.ts';
import { elementwiseKernel } from '../../compiler/codegen/kernels/elementwise.ts';
import { concatKernel } from '../../compiler/codegen/kernels/concat.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { runKernels } from '../../runtime/gpu/run-kernel.ts';
import * as ref from '../../runtime/reference/ops.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { createRng, randn } from '../helpers/random.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const origin: KernelOrigin = { phase: 'forward', sources: [], ops: ['test'] };
const tol = { rtol: 1e-4, atol: 1e-5 };
const rng = createRng(7);
/** Random f32 values (scaled to reach the saturated ranges) plus the edge cases 0, +-1e-4 and +-100. */
function sample(count: number): Tensor {
  const edges = [0, -0, 1e-4, -1e-4, 100, -100, 30, -30];
  const data = Float32Array.from(randn(rng, [count]).data, (v, i) => (i < edges.length ? edges[i]! : 4 * v));
  return tensor([count], data);
}
const f32 = (t: Tensor): Float32Array => Float32Array.from(t.data);

type Body = (x: ScalarExpr, dy: ScalarExpr) => ScalarExpr;
type Ref = (x: Tensor, dy: Tensor) => Tensor;
/** name, forward body, backward body, reference forward, reference backward. */
const activationCases: readonly [string, Body, Body, Ref, Ref][] = [
  [
    'relu',
    (x) => activations.relu.forward(x, {}),
    (x, dy) => activations.relu.backward(x, dy, {}),
    ref.relu,
    ref.reluBackward,
  ],
  [
    'sigmoid',
    (x) => activations.sigmoid.forward(x, {}),
    (x, dy) => activations.sigmoid.backward(x, dy, {}),
    ref.sigmoid,
    ref.sigmoidBackward,
  ],
  [
    'tanh',
    (x) => activations.tanh.forward(x, {}),
    (x, dy) => activations.tanh.backward(x, dy, {}),
    ref.tanh,
    ref.tanhBackward,
  ],
  [
    'identity',
    (x) => activations.identity.forward(x, {}),
    (x, dy) => activations.identity.backward(x, dy, {}),
    ref.identity,
    (_x, dy) => dy,
  ],
  [
    'leaky_relu(0.01)',
    (x) => activations.leaky_relu.forward(x, { slope: 0.01 }),
    (x, dy) => activations.leaky_relu.backward(x, dy, { slope: 0.01 }),
    (x) => ref.leakyRelu(x, 0.01),
    (x, dy) => ref.leakyReluBackward(x, dy, 0.01),
  ],
];

// 1001 runs the scalar path, 4096 the vec4 path (count % 4 == 0).
describe.each([1001, 4096])('activations on %i elements (float64 reference, rtol 1e-4, atol 1e-5)', (count) => {
  const x = sample(count);
  const dy = tensor([count], f32(randn(rng, [count])));
  it.each(activationCases)('%s forward and backward', async (_name, forward, backward, refForward, refBackward) => {
    const fwd = elementwiseKernel({
      name: 'k_fwd',
      origin,
      inputs: ['x'],
      output: 'y',
      count,
      body: forward(input('x'), input('dy')),
    });
    const bwd = elementwiseKernel({
      name: 'k_bwd',
      origin,
      inputs: ['x', 'dy'],
      output: 'dx',
      count,
      body: backward(input('x'), input('dy')),
    });
    const out = await runKernels(gpu, [fwd, bwd], { x: f32(x), dy: f32(dy) }, ['y', 'dx']);
    expectAllclose(out['y']!, refForward(x, dy).data, tol, 'y');
    expectAllclose(out['dx']!, refBackward(x, dy).data, tol, 'dx');
  });
});

describe('elementwise bodies', () => {
  it('add (float64 reference, exact)', async () => {
    const a = sample(999);
    const b = sample(999);
    const k = elementwiseKernel({
      name: 'k_add',
      origin,
      inputs: ['a', 'b'],
      output: 'y',
      count: 999,
      body: add(input('a'), input('b')),
    });
    const out = await runKernels(gpu, [k], { a: f32(a), b: f32(b) }, ['y']);
    expectAllclose(out['y']!, Float32Array.from(ref.add(a, b).data), { rtol: 0, atol: 0 }, 'y');
  });

  it('fused relu(a + b) * 0.5 (float64 reference, rtol 1e-4, atol 1e-5)', async () => {
    const a = sample(1024);
    const b = sample(1024);
    const body = mul(activations.relu.forward(add(input('a'), input('b')), {}), 0.5);
    const k = elementwiseKernel({ name: 'k_fused', origin, inputs: ['a', 'b'], output: 'y', count: 1024, body });
    const out = await runKernels(gpu, [k], { a: f32(a), b: f32(b) }, ['y']);
    expectAllclose(
      out['y']!,
      ref.relu(ref.add(a, b)).data.map((v) => v * 0.5),
      tol,
      'y',
    );
  });

  it('folds a grid past 65535 workgroups: 2^24 + 3 elements (float64 reference, exact)', async () => {
    const count = 2 ** 24 + 3;
    const k = elementwiseKernel({
      name: 'k_big',
      origin,
      inputs: ['x'],
      output: 'y',
      count,
      body: add(mul(input('x'), 2), 1),
    });
    expect(k.dispatch[1]).toBeGreaterThan(1);
    const x = Float32Array.from({ length: count }, (_, i) => i % 1000);
    const out = await runKernels(gpu, [k], { x }, ['y']);
    expectAllclose(
      out['y']!,
      x.map((v) => 2 * v + 1),
      { rtol: 0, atol: 0 },
      'y',
    );
  });

  it('names the kernel when the body reads a missing input', () => {
    expect(() =>
      elementwiseKernel({ name: 'k_bad', origin, inputs: ['x'], output: 'y', count: 4, body: input('z') }),
    ).toThrow(/k_bad.*z/);
  });
});

describe.each([
  ['NCHW 5x5 (scalar copies)', 2, [2, 3, 1], 25],
  ['NCHW 4x4 (vec4 copies)', 3, [4, 1, 2], 16],
  ['[N, F] features', 5, [3, 7], 1],
])('concat %s (float64 reference, exact)', (_label, batch, channels, spatial) => {
  const parts = channels.map((c) => tensor([batch, c, spatial], f32(randn(rng, [batch, c, spatial]))));
  const whole = ref.concat(parts);
  const names = channels.map((_, i) => `p${i}`);
  const spec = { name: 'k_concat', origin, batch, channels, spatial, parts: names, whole: 'y' };

  it('forward', async () => {
    const out = await runKernels(
      gpu,
      [concatKernel({ ...spec, direction: 'forward' })],
      Object.fromEntries(names.map((n, i) => [n, f32(parts[i]!)])),
      ['y'],
    );
    expectAllclose(out['y']!, whole.data, { rtol: 0, atol: 0 }, 'y');
  });

  it('backward', async () => {
    const dy = tensor(whole.shape, f32(randn(rng, whole.shape)));
    const out = await runKernels(gpu, [concatKernel({ ...spec, direction: 'backward' })], { y: f32(dy) }, names);
    ref
      .concatBackward(dy, channels)
      .forEach((dx, i) => expectAllclose(out[names[i]!]!, dx.data, { rtol: 0, atol: 0 }, names[i]));
  });
});
