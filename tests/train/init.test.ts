// Parameter initialisation: the generator against the tests' own mulberry32, and each init kind's
// bound against PyTorch's formulas (torch.nn.init), computed here from the shapes.
import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../runtime/random.ts';
import { numel } from '../../compiler/ir/graph.ts';
import { initParam as fillParam, type ParamToInit } from '../../runtime/train/init.ts';
import { createRng } from '../helpers/random.ts';

describe('Mulberry32', () => {
  it("draws the same sequence as the tests' independent mulberry32", () => {
    const a = new Mulberry32(1234);
    const b = createRng(1234);
    for (let i = 0; i < 1000; i++) expect(a.next()).toBe(b.next());
  });

  it('fillUniform gives (next() * 2 - 1) * bound in order and leaves the state after them', () => {
    const filled = new Mulberry32(7);
    const drawn = new Mulberry32(7);
    const out = new Float32Array(257);
    filled.next();
    drawn.next();
    filled.fillUniform(out, 0.3);
    const expected = Float32Array.from({ length: out.length }, () => (drawn.next() * 2 - 1) * 0.3);
    expect(out).toEqual(expected);
    expect(filled.next()).toBe(drawn.next());
  });
});

function initParam(p: ParamToInit, kind: Parameters<typeof fillParam>[1], random: Mulberry32): Float32Array {
  const out = new Float32Array(numel(p.shape));
  fillParam(p, kind, random, out);
  return out;
}

describe('initParam', () => {
  const conv: ParamToInit = {
    name: 'w',
    shape: [16, 6, 5, 5],
    weightShape: [16, 6, 5, 5],
    role: 'weight',
    layer: 'conv2d',
  };
  const fanIn = 6 * 25;
  const fanOut = 16 * 25;

  /** Every value inside the bound, and the extremes near it (4800 draws leave gaps of ~bound / 2400). */
  function expectUniform(values: Float32Array, bound: number): void {
    const max = Math.max(...values.map(Math.abs));
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(bound * 0.99);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(bound * 0.05);
  }

  it.each([
    ['default', 1 / Math.sqrt(fanIn)],
    ['xavier_uniform', Math.sqrt(6 / (fanIn + fanOut))],
    ['kaiming', Math.sqrt(6 / fanIn)],
  ] as const)("%s conv weights are U(-b, b) with PyTorch's bound", (kind, bound) => {
    expectUniform(initParam(conv, kind, new Mulberry32(1)), bound);
  });

  it("biases keep PyTorch's default bound whatever the weights' init", () => {
    const bias: ParamToInit = { ...conv, name: 'b', shape: [4800], role: 'bias' };
    expectUniform(initParam(bias, 'xavier_uniform', new Mulberry32(2)), 1 / Math.sqrt(fanIn));
  });

  it('batch norm starts at weight 1, bias 0, running mean 0, running var 1', () => {
    const bn = (role: ParamToInit['role']) =>
      Array.from(
        initParam({ name: role, shape: [3], weightShape: [3], role, layer: 'batchnorm' }, 'default', new Mulberry32(3)),
      );
    expect([bn('weight'), bn('bias'), bn('running_mean'), bn('running_var')]).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1],
    ]);
  });

  it('the same seed gives the same weights', () => {
    expect(initParam(conv, 'default', new Mulberry32(5))).toEqual(initParam(conv, 'default', new Mulberry32(5)));
    expect(initParam(conv, 'default', new Mulberry32(5))).not.toEqual(initParam(conv, 'default', new Mulberry32(6)));
  });
});
