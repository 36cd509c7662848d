// What the GEMM kernel tests (kernels-conv-matmul, kernels-gemm-workgroup) share: convolution cases
// and their attributes, f32 test data, the tolerance, and a run on reference tensors.
import type { KernelModule } from '../../compiler/codegen/kernel.ts';
import type { OpAttrs, Pair } from '../../compiler/ir/ops.ts';
import type { Gpu } from '../../runtime/gpu/device.ts';
import { runKernels } from '../../runtime/gpu/run-kernel.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { randn, type Rng } from './random.ts';

export interface ConvCase {
  readonly input: readonly [number, number, number, number];
  readonly out: number;
  readonly kernel: Pair;
  readonly stride?: Pair;
  readonly padding?: Pair;
  readonly dilation?: Pair;
  readonly groups?: number;
  readonly bias: boolean;
}

export const convAttrs = (c: ConvCase): OpAttrs['conv2d'] => ({
  outChannels: c.out,
  kernel: c.kernel,
  stride: c.stride ?? [1, 1],
  padding: c.padding ?? [0, 0],
  dilation: c.dilation ?? [1, 1],
  groups: c.groups ?? 1,
  bias: c.bias,
});

/** Random f32-representable data, so the float64 reference sees exactly what the GPU sees. */
export const randF32 = (rng: Rng, shape: readonly number[]): Tensor =>
  tensor(shape, Float32Array.from(randn(rng, shape).data));

/** rtol 1e-4; atol 1e-5 grown with sqrt(K) for K-term f32 sums (rounding grows like sqrt(K)). */
export const tol = (k: number) => ({ rtol: 1e-4, atol: 1e-5 * Math.max(1, Math.sqrt(k)) });

/** Runs the kernels on the tensors (as f32) and reads back `outputs`. */
export function runOnTensors(
  gpu: Gpu,
  kernels: readonly KernelModule[],
  inputs: Record<string, Tensor>,
  outputs: readonly string[],
) {
  const host = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, Float32Array.from(t.data)]));
  return runKernels(gpu, kernels, host, outputs);
}
