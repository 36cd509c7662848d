// Short constant loops and the driver's compiler: on a CPU adapter (DeviceLimits.unrollLoops false)
// the GEMM kernels' k, store and split-K loops and softmax's class loops take bounds it cannot see
// through, so that lavapipe does not unroll them at its first dispatch (half of LeNet's cold start,
// bench/NOTES.md); elsewhere the WGSL is what it was.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/index.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';

const path = 'dsl-examples/lenet.cnn';
const source = readFileSync(path, 'utf8');
const kernels = (unrollLoops: boolean) =>
  compileModel(source, { path, batch: 128, limits: { ...defaultLimits, subgroupMinSize: 8, unrollLoops } }).kernels
    .train;

/** `for (...; v < 12u; ...)`: a loop bound that is a literal. */
const constantBound = /for \(var (\w+) = [^;]+; \1 < \d+u?;/;

describe('loop bounds on a CPU adapter', () => {
  const hidden = kernels(false);

  it("every GEMM and softmax kernel hides its loop bounds behind main's noUnroll, a 0 from the grid's z", () => {
    const gemms = hidden.filter((c) => /conv2d|linear|softmax/.test(c.kernel.name));
    expect(gemms.length).toBeGreaterThan(10);
    for (const { kernel } of gemms) {
      expect(kernel.wgsl, kernel.name).toContain('let noUnroll = wid.z;');
      expect(kernel.wgsl, kernel.name).not.toMatch(constantBound);
    }
  });

  it('wid.z is 0: every grid is one workgroup deep', () => {
    for (const { kernel } of hidden) expect(kernel.dispatch[2], kernel.name).toBe(1);
  });

  it('a GPU gets the loops as they were: no noUnroll, literal bounds the compiler unrolls', () => {
    const unrolled = kernels(true);
    for (const { kernel } of unrolled) expect(kernel.wgsl, kernel.name).not.toContain('noUnroll');
    const store = unrolled.find((c) => c.kernel.name.startsWith('k16_conv2d'))!.kernel.wgsl;
    expect(store).toMatch(constantBound);
  });
});
