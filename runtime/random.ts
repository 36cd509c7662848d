// The one seeded generator of the runtime: parameter init, epoch shuffles and the bench's batches
// all draw from it, so the same seed gives the same numbers everywhere.

/**
 * mulberry32 (Tommy Ettinger's 32-bit-state generator): uniform in [0, 1). tests/helpers/random.ts
 * writes it again on purpose, as the independent oracle tests/train/init.test.ts checks this against.
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    return mix(this.state);
  }

  /**
   * out[i] = U(-bound, bound), the same numbers as (next() * 2 - 1) * bound in a loop. The state
   * lives in a local while filling, 3x faster than through a closure (ResNet-18 has 11M weights;
   * measurements: bench/NOTES.md).
   */
  fillUniform(out: Float32Array, bound: number): void {
    let s = this.state;
    for (let i = 0; i < out.length; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      out[i] = (mix(s) * 2 - 1) * bound;
    }
    this.state = s;
  }
}

function mix(s: number): number {
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
