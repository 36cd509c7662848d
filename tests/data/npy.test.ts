// Non-finite samples in .npy data: which samples, as float32 (the type the model computes in).
import { describe, expect, it } from 'vitest';
import { nonFiniteSamples, parseNpy } from '../../runtime/data/npy.ts';

describe('nonFiniteSamples', () => {
  it('is null for finite data and for float64 values float32 holds', () => {
    expect(
      nonFiniteSamples({ shape: [2, 2], data: Float64Array.of(0, 1, -3.4e38, 3.4e38), dtype: '<f8' }, 'a.npy'),
    ).toBeNull();
  });

  it('names one sample, or the first five and a count', () => {
    expect(nonFiniteSamples({ shape: [3, 2], data: Float64Array.of(0, 1, 2, 3, 4, NaN), dtype: '<f4' }, 'a.npy')).toBe(
      'a.npy: sample 2 has non-finite values (NaN or infinite)',
    );
    const data = Float64Array.from({ length: 16 }, (_, i) => (i % 2 === 1 ? -Infinity : 0));
    expect(nonFiniteSamples({ shape: [8, 2], data, dtype: '<f4' }, 'b.npy')).toBe(
      'b.npy: samples 0, 1, 2, 3, 4 (and 3 more) have non-finite values (NaN or infinite)',
    );
  });

  it('counts float64 values beyond float32 as infinite', () => {
    const bytes = new Uint8Array(
      Buffer.concat([
        Buffer.from('\x93NUMPY\x01\x00', 'latin1'),
        Buffer.from([54, 0]),
        Buffer.from("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }".padEnd(53) + '\n'),
        Buffer.from(Float64Array.of(1, 1e39).buffer),
      ]),
    );
    expect(nonFiniteSamples(parseNpy(bytes, 'c.npy'), 'c.npy')).toBe(
      'c.npy: sample 1 has non-finite values (NaN or infinite)',
    );
  });
});
