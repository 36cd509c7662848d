// Finite-difference gradient check in float64. A backward is a vector-Jacobian product, so ops
// are checked through the scalar loss(y) = sum(y * r) for a fixed random cotangent r: its gradient
// is exactly the op's backward called with dy = r.
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { type Tolerance, expectAllclose } from './allclose.ts';

export interface GradcheckTolerance extends Tolerance {
  /** Central-difference step. */
  readonly eps: number;
}

/**
 * eps 1e-6 leaves truncation error O(eps^2) ~ 1e-12 and round-off ~ 1e-16 * |loss| / eps ~ 1e-10
 * for losses of order 1, both far inside rtol 1e-6 / atol 1e-8. Inputs must sit further than eps
 * from kinks (relu at 0, max-pool ties), which seeded continuous random data does.
 */
export const GRADCHECK_TOL: GradcheckTolerance = { eps: 1e-6, rtol: 1e-6, atol: 1e-8 };

/** sum(y * r): the scalar whose gradient with respect to y is r. */
export function dot(y: Tensor, r: Tensor): number {
  if (y.data.length !== r.data.length) throw new Error(`dot: ${y.data.length} vs ${r.data.length} elements`);
  return y.data.reduce((s, v, i) => s + v * (r.data[i] as number), 0);
}

/** d f / d inputs[k], by central differences on each element in turn (inputs are restored). */
export function numericGradient(
  f: (inputs: readonly Tensor[]) => number,
  inputs: readonly Tensor[],
  k: number,
  eps: number,
): Tensor {
  const x = inputs[k];
  if (x === undefined) throw new Error(`numericGradient: no input ${k}`);
  const grad = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const saved = x.data[i] as number;
    x.data[i] = saved + eps;
    const up = f(inputs);
    x.data[i] = saved - eps;
    const down = f(inputs);
    x.data[i] = saved;
    grad.data[i] = (up - down) / (2 * eps);
  }
  return grad;
}

/**
 * Checks analytic[k] against the numeric gradient of f with respect to inputs[k], for every k
 * whose analytic gradient is given (null skips inputs that get none, such as labels or masks).
 */
export function expectGradients(
  f: (inputs: readonly Tensor[]) => number,
  inputs: readonly Tensor[],
  analytic: readonly (Tensor | null)[],
  tol: GradcheckTolerance = GRADCHECK_TOL,
  label = 'gradient',
): void {
  analytic.forEach((g, k) => {
    if (g === null) return;
    const expected = numericGradient(f, inputs, k, tol.eps);
    if (g.shape.join() !== expected.shape.join()) {
      throw new Error(`${label} ${k}: shape [${g.shape.join(', ')}], input shape [${expected.shape.join(', ')}]`);
    }
    expectAllclose(g.data, expected.data, tol, `${label} of input ${k}`);
  });
}
