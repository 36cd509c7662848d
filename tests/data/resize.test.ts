// runtime/data/resize.ts against PyTorch 1.13: tests/fixtures/torch/resize.json, made by
// tests/fixtures/gen/resize.py (regenerate: /usr/bin/python3 tests/fixtures/gen/resize.py).
// The reference is float64; ours rounds to float32 once, so 1e-5 absolute is loose (the worst
// seen is below 6e-8, float32's half-ulp at 1).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planResize, resizeInto, toUnitInto } from '../../runtime/data/resize.ts';
import { expectAllclose } from '../helpers/allclose.ts';

interface Case {
  readonly name: string;
  readonly in: [number, number];
  readonly out: [number, number];
  readonly antialias: boolean;
  readonly image: number[];
  readonly samples: [number, number][];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/resize.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};
const TOL = { rtol: 0, atol: 1e-5 };

describe('bilinear resize matches F.interpolate(mode="bilinear", align_corners=False)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}${c.antialias ? ' (antialias=True)' : ''}`, () => {
      const [inH, inW] = c.in;
      const [outH, outW] = c.out;
      const plan = planResize(inH, inW, outH, outW);
      // An offset on both sides checks that only the addressed image is read and written.
      const src = new Uint8Array(inH * inW + 3);
      src.set(c.image, 3);
      const dst = new Float32Array(outH * outW + 5).fill(-1);
      resizeInto(plan, src, 3, dst, 5);
      expect(dst.subarray(0, 5).every((v) => v === -1)).toBe(true);
      const out = dst.subarray(5);
      expectAllclose(
        c.samples.map(([i]) => out[i]!),
        c.samples.map(([, v]) => v),
        TOL,
        c.name,
      );
    });
  }

  it('reuses one plan across images of a batch', () => {
    const c = fixture.cases.find((k) => k.in[0] === 28 && k.out[0] === 96)!;
    const plan = planResize(28, 28, 96, 96);
    const src = new Uint8Array(784 * 2);
    src.set(c.image, 784);
    const dst = new Float32Array(96 * 96 * 2);
    resizeInto(plan, src, 0, dst, 0);
    resizeInto(plan, src, 784, dst, 96 * 96);
    expect(dst.subarray(0, 96 * 96).every((v) => v === 0)).toBe(true);
    const second = dst.subarray(96 * 96);
    expectAllclose(
      c.samples.map(([i]) => second[i]!),
      c.samples.map(([, v]) => v),
      TOL,
    );
  });
});

describe('toUnitInto (ToTensor)', () => {
  it('divides by 255 exactly as float32 division does', () => {
    const src = Uint8Array.from({ length: 256 }, (_, v) => v);
    const dst = new Float32Array(256);
    toUnitInto(src, 0, 256, dst, 0);
    for (let v = 0; v < 256; v++) expect(dst[v]).toBe(Math.fround(v / 255));
    expect(dst[255]).toBe(1);
  });
});
