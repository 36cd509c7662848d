// Dropout in training (PyTorch nn.Dropout: zero each element with probability p, scale survivors by
// 1 / (1 - p)); eval mode is the identity and needs no kernel. The mask comes from a counter-based
// hash of (seed, stream, step, element), so it needs no RNG state: the backward recomputes it
// instead of storing it, and the same compiled kernel draws a new mask each step from `params`.
// runtime/gpu/rng.ts is the CPU twin of this hash; keep the two in step.
import type { OpAttrs } from '../../ir/ops.ts';
import type { KernelModule } from '../kernel.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { f32Lit, wgsl } from '../writer.ts';
import { perItemKernel, stepParams } from './reduce.ts';

export interface DropoutSpec extends KernelFrame {
  readonly elements: number;
  readonly attrs: OpAttrs['dropout'];
  /** Distinguishes the dropout layers of one model, so they draw different masks in the same step. */
  readonly stream: number;
}

/**
 * Jarzynski & Olano's PCG hash ("Hash Functions for GPU Rendering", JCGT 2020), chained:
 * key = pcg(pcg(pcg(seed) + stream) + step), bits(i) = pcg(pcg(i) + key). An element is kept when
 * the top 24 bits reach round(p * 2^24): integer compare, so CPU and GPU agree bit for bit.
 */
function maskDecls(spec: DropoutSpec): string {
  const { p } = spec.attrs;
  if (!(p >= 0 && p <= 1)) throw new Error(`kernel ${spec.name}: dropout probability ${p} is outside [0, 1]`);
  if (!Number.isInteger(spec.stream) || spec.stream < 0 || spec.stream > 0xffffffff) {
    throw new Error(`kernel ${spec.name}: dropout stream ${spec.stream} is not a u32`);
  }
  // p = 1 drops everything (PyTorch returns zeros), so no survivor needs the infinite scale.
  const scale = p < 1 ? 1 / (1 - p) : 0;
  return wgsl`
    const THRESHOLD: u32 = ${Math.round(p * 2 ** 24)}u;
    const SCALE: f32 = ${f32Lit(scale)};

    fn pcg(v: u32) -> u32 {
      let state = v * 747796405u + 2891336453u;
      let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
      return (word >> 22u) ^ word;
    }

    // 1 / (1 - p) if element i survives this step (params = [seed, step]), else 0.
    fn mask(i: u32) -> f32 {
      let key = pcg(pcg(pcg(params[0]) + ${spec.stream}u) + params[1]);
      return select(0.0, SCALE, (pcg(pcg(i) + key) >> 8u) >= THRESHOLD);
    }
  `;
}

/** Bindings: params (u32 [seed, step]), x | y. */
export function dropoutForward(spec: DropoutSpec): KernelModule {
  const bindings = [stepParams, readBinding('x', spec.elements), writeBinding('y', spec.elements)];
  return perItemKernel(
    { name: spec.name, origin: spec.origin, limits: spec.limits, bindings },
    spec.elements,
    maskDecls(spec),
    'y[i] = x[i] * mask(i);',
    4,
  );
}

/** Bindings: params (the forward's), dy | dx; dx = dy * mask / (1 - p) with the mask recomputed. */
export function dropoutBackward(spec: DropoutSpec): KernelModule {
  const bindings = [stepParams, readBinding('dy', spec.elements), writeBinding('dx', spec.elements)];
  return perItemKernel(
    { name: spec.name, origin: spec.origin, limits: spec.limits, bindings },
    spec.elements,
    maskDecls(spec),
    'dx[i] = dy[i] * mask(i);',
    4,
  );
}
