// The range of f32, the only float type of the kernels: every number a .cnn file, a flag or a
// checkpoint gives that ends up in WGSL is checked against it where it is written.

/** The largest finite f32, 2^128 - 2^104. */
export const F32_MAX = 3.4028234663852886e38;
/** The smallest normal f32, 2^-126. Below it a value is subnormal or rounds to zero. */
export const F32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Why `x` cannot be used as an f32 value, or null when it can: a predicate phrase, as in
 * `lr ${problem}` ("lr is infinite (the number overflows)"). Subnormal and underflowing values
 * are refused too: GPUs may flush subnormals to zero (WGSL allows it), so `eps = 1e-40` would
 * silently become 0 on one device and not on another; zero itself is fine.
 */
export function f32Problem(x: number): string | null {
  if (Number.isNaN(x)) return 'is not a number';
  if (!Number.isFinite(x)) return 'is infinite (the number overflows)';
  if (Math.abs(x) > F32_MAX) return `is ${x}, beyond the largest f32 (${F32_MAX.toPrecision(9)})`;
  if (x !== 0 && Math.abs(x) < F32_MIN_NORMAL)
    return `is ${x}, below the smallest normal f32 (${F32_MIN_NORMAL.toPrecision(9)}), which a GPU may flush to zero; write 0 for zero`;
  return null;
}

/**
 * What a float given on the command line or in checkpoint metadata must be to reach a kernel, or
 * null when `v` is that: an f32 value (see f32Problem) at least `min`, or above it.
 */
export function kernelFloat(v: number, min: number, above = false): string | null {
  if (f32Problem(v) === null && (above ? v > min : v >= min)) return null;
  const subnormal = Number.isFinite(v) && v !== 0 && Math.abs(v) < F32_MIN_NORMAL;
  return `a number ${above ? '>' : '>='} ${min} and at most ${F32_MAX} (float32)${subnormal ? `, not below ${F32_MIN_NORMAL} (a GPU may flush it to zero)` : ''}`;
}
