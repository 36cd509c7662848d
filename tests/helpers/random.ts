// Seeded randomness for tests: the same seed gives the same tensors on every run and machine.
import { type Tensor, tensor, numel } from '../../runtime/reference/tensor.ts';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/**
 * mulberry32: a tiny 32-bit-state generator, plenty for test data. Written here independently of
 * runtime/random.ts on purpose: tests/train/init.test.ts checks the runtime's against this one.
 */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  return {
    next() {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A standard normal sample (Box-Muller; 1 - u keeps the log argument in (0, 1]). */
export function normal(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function randn(rng: Rng, shape: readonly number[]): Tensor {
  return tensor(
    shape,
    Array.from({ length: numel(shape) }, () => normal(rng)),
  );
}

export function uniform(rng: Rng, shape: readonly number[], lo = 0, hi = 1): Tensor {
  return tensor(
    shape,
    Array.from({ length: numel(shape) }, () => lo + (hi - lo) * rng.next()),
  );
}

/** `count` integers drawn uniformly from [0, k): class labels. */
export function randint(rng: Rng, count: number, k: number): Int32Array {
  return Int32Array.from({ length: count }, () => Math.floor(rng.next() * k));
}
