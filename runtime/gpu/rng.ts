// CPU twin of the dropout mask hash in compiler/codegen/kernels/dropout.ts: tests compute exactly
// the mask the GPU draws. Keep the two in step.

/** Jarzynski & Olano's PCG hash on u32 (JCGT 2020), with u32 wrap-around as in WGSL. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

export interface DropoutDraw {
  readonly seed: number;
  /** 0-based training step (params[1] on the GPU). */
  readonly step: number;
  /** The dropout layer's stream id (DropoutSpec.stream). */
  readonly stream: number;
}

/**
 * The kept (1) / dropped (0) mask of n elements with drop probability p: element i is kept when
 * the top 24 bits of pcg(pcg(i) + key) reach round(p * 2^24), key = pcg(pcg(pcg(seed) + stream) + step).
 */
export function dropoutMask(n: number, p: number, draw: DropoutDraw): Float64Array {
  const key = pcgHash(pcgHash(pcgHash(draw.seed) + draw.stream) + draw.step);
  const threshold = Math.round(p * 2 ** 24);
  const mask = new Float64Array(n);
  for (let i = 0; i < n; i++) mask[i] = pcgHash(pcgHash(i) + key) >>> 8 >= threshold ? 1 : 0;
  return mask;
}
