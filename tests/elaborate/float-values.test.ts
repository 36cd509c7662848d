// Every float a .cnn file gives a kernel is checked where it is written: finite, an f32, not
// subnormal, and in its domain (issue 13, item 3). Before, 1e400 reached the WGSL printer
// (`no WGSL literal for Infinity`, exit 2) and 1e39 made invalid WGSL.
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { F32_MAX, F32_MIN_NORMAL, f32Problem } from '../../compiler/ir/f32.ts';
import { f32Lit } from '../../compiler/codegen/writer.ts';
import { InternalCompilerError } from '../../compiler/diagnostics/diagnostic.ts';
import { errors, oneLayer, shaped } from '../helpers/cnn.ts';

describe('f32Problem', () => {
  it('accepts every finite normal f32 and zero', () => {
    for (const x of [0, -0, 1, -1, 0.1, 1e-5, F32_MAX, -F32_MAX, F32_MIN_NORMAL, -F32_MIN_NORMAL, 3.4e38])
      expect(f32Problem(x), String(x)).toBeNull();
  });

  it('refuses what f32 cannot hold, or holds only as a subnormal', () => {
    // F32_MAX's next double up is already out of range: the bound is exact.
    const above = F32_MAX * (1 + Number.EPSILON);
    for (const x of [Infinity, -Infinity, NaN, 1e39, -1e39, above, 1e-39, -1e-40, 1e-45, 5e-324])
      expect(f32Problem(x), String(x)).not.toBeNull();
  });

  it('agrees with Math.fround on what is a normal f32', () => {
    expect(Math.fround(F32_MAX)).toBe(F32_MAX);
    expect(Math.fround(F32_MIN_NORMAL)).toBe(F32_MIN_NORMAL);
    expect(Math.fround(F32_MIN_NORMAL / 2)).toBeLessThan(F32_MIN_NORMAL);
  });
});

describe('the WGSL literal printer', () => {
  it('prints f32 values and throws only a compiler bug for the rest', () => {
    expect(f32Lit(0.5)).toBe('0.5');
    expect(f32Lit(2)).toBe('2.0');
    expect(() => f32Lit(Infinity)).toThrow(InternalCompilerError);
    expect(() => f32Lit(1e39)).toThrow(InternalCompilerError);
  });
});

describe('layer arguments', () => {
  it.each([
    ['an infinite slope', 'leaky_relu(slope = 1e400)', 'E0211@3:14'],
    ['a slope beyond f32', 'leaky_relu(slope = 1e39)', 'E0211@3:14'],
    ['a negative slope', 'leaky_relu(-0.1)', 'E0211@3:14'],
    ['an infinite eps', 'batchnorm(eps = 1e400)', 'E0211@3:13'],
    ['eps 0', 'batchnorm(eps = 0)', 'E0211@3:13'],
    ['a subnormal eps', 'batchnorm(eps = 1e-40)', 'E0211@3:13'],
    ['momentum above 1', 'batchnorm(momentum = 1.5)', 'E0211@3:13'],
    ['dropout p = 1', 'dropout(1)', 'E0211@3:11'],
    ['a negative dropout p', 'dropout(-0.1)', 'E0211@3:11'],
    ['NaN', 'dropout(1e400 - 1e400)', 'E0211@3:11'],
  ])('refuses %s where it is written', (_d, layer, expected) => {
    expect(errors(oneLayer('2, 4, 4', layer))).toEqual([expected]);
  });

  it('keeps every value in the domain, bounds included', () => {
    const g = shaped(
      oneLayer(
        '2, 4, 4',
        'leaky_relu(slope = 0) batchnorm(eps = 2e-38, momentum = 1) dropout(0) batchnorm(momentum = 0) dropout(0.999) leaky_relu(3.4e38)',
      ),
    );
    expect(g.nodes.map((n) => n.op)).toEqual([
      'input',
      'leaky_relu',
      'batchnorm',
      'dropout',
      'batchnorm',
      'dropout',
      'leaky_relu',
    ]);
  });
});

describe('train-section settings', () => {
  const train = (entries: string) => `model M {\n  input [4]\n  linear(2)\n}\ntrain {\n  ${entries}\n}\n`;
  it.each([
    ['an infinite lr', 'optimizer sgd(lr = 1e400)', 'E0211@6:22'],
    ['lr beyond f32', 'lr 1e39', 'E0211@6:6'],
    ['lr 0', 'optimizer sgd(lr = 0)', 'E0211@6:22'],
    ['a negative lr', 'lr -0.1', 'E0211@6:6'],
    ['momentum beyond f32', 'optimizer sgd(momentum = 1e39)', 'E0211@6:28'],
    ['weight decay beyond f32', 'optimizer sgd(weight_decay = 1e39)', 'E0211@6:32'],
    ['a negative weight decay', 'optimizer sgd(weight_decay = -1)', 'E0211@6:32'],
    ['dampening beyond f32', 'optimizer sgd(momentum = 0.9, dampening = 1e39)', 'E0211@6:45'],
    ['Adam eps 0', 'optimizer adam(eps = 0)', 'E0211@6:24'],
    ['a subnormal Adam eps', 'optimizer adam(eps = 1e-45)', 'E0211@6:24'],
    ['beta 1', 'optimizer adam(betas = (0.9, 1))', 'E0211@6:32'],
    ['a subnormal beta', 'optimizer adam(betas = (1e-40, 0.9))', 'E0211@6:27'],
    ['AdamW decay 1 - lr * wd beyond f32', 'optimizer adamw(lr = 1e20, weight_decay = 1e20)', 'E0211@6:13'],
    ['a batch beyond 2^31', 'batch 1e300', 'E0211@6:9'],
    ['a seed beyond 2^53', 'seed 1e300', 'E0211@6:8'],
    ['a resize beyond 2^31', 'resize 1e10', 'E0211@6:10'],
  ])('refuses %s where it is written', (_d, entries, expected) => {
    expect(errors(train(entries))).toEqual([expected]);
  });

  it('reads values at the edge of their domain', () => {
    const r = analyze(
      't.cnn',
      train('optimizer adamw(lr = 3e38, weight_decay = 2e-38, betas = (0, 0.999999), eps = 2e-38)  batch 2147483647'),
    );
    expect(r.diagnostics.all).toEqual([]);
    expect(r.train!.optimizer).toMatchObject({
      kind: 'adamw',
      lr: 3e38,
      weightDecay: 2e-38,
      betas: [0, 0.999999],
      eps: 2e-38,
    });
  });
});
