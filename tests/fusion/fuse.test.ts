// The fusion pass on small programs: what it fuses, what it declines and why, and that the
// rewritten program is still well-formed (every tensor read is written first, in every pass).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLimits } from '../../compiler/codegen/index.ts';
import { opTensors, type StepOp, type StepProgram, type TensorId } from '../../compiler/autodiff/step-ir.ts';
import { fuse } from '../../compiler/fusion/fuse.ts';
import { printFusion } from '../../compiler/fusion/print.ts';
import { type Compiled, compileModel } from '../../compiler/index.ts';

const build = (source: string, fuse = true): Compiled =>
  compileModel(source, { path: 'test.cnn', batch: 2, fuse, limits: defaultLimits, limitSeverity: 'warning' });
const root = join(import.meta.dirname, '..', '..');
const example = (f: string) => readFileSync(join(root, 'dsl-examples', f), 'utf8');

/** Base tensors an op list touches. */
function touched(program: StepProgram, ops: readonly StepOp[]): Set<TensorId> {
  return new Set(ops.flatMap((op) => opTensors(op)).map((id) => program.tensors[id]!.aliasOf ?? id));
}

describe('fusion', () => {
  it('folds every LeNet activation and activation gradient into conv, linear and pooling kernels', () => {
    const fused = build(example('lenet.cnn'));
    const plain = build(example('lenet.cnn'), false);
    for (const pass of ['forward', 'evaluate', 'train'] as const) {
      expect(fused.program[pass].filter((op) => op.op === 'unary' || op.op === 'unary_grad')).toHaveLength(0);
      // Fusion invents no tensor; it drops the pre-activations (and, training, the gradients of
      // the activation outputs): 4 tensors in the inference passes, 8 in the training step.
      const before = touched(plain.program, plain.program[pass]);
      const after = touched(fused.program, fused.program[pass]);
      expect([...after].every((id) => before.has(id))).toBe(true);
      expect(before.size - after.size).toBe(pass === 'train' ? 8 : 4);
    }
    // 4 activations and 4 activation gradients fewer, each a kernel of its own before.
    expect(plain.kernels.train.length - fused.kernels.train.length).toBe(8);
    expect(
      fused.program.train.filter((op) => 'epilogue' in op && op.epilogue?.kind === 'act_grad').map((op) => op.op),
    ).toEqual(['linear_dx', 'linear_dx', 'pool_grad', 'pool_grad']);
    expect(fused.plan.arenas.work).toBeLessThan(plain.plan.arenas.work);
    // Kernel headers name both source lines and both ops.
    const conv1 = fused.kernels.train.find((k) => k.kernel.name.includes('conv2d_bias_sigmoid'))!.kernel.wgsl;
    expect(conv1).toMatch(/\/\/ source .*conv\(6, kernel = 5, padding = 2\)\n\/\/ +\S+ +sigmoid/);
    expect(conv1).toMatch(/\/\/ fuses +conv2d#1, sigmoid#2/);
  });

  it('folds evaluation-mode batch norm (and the activation after it) into the conv or linear before it', () => {
    const c = build(example('batchnorm-lenet.cnn'));
    for (const pass of ['forward', 'evaluate'] as const) {
      expect(c.program[pass].filter((op) => op.op === 'bn_eval' || op.op === 'unary')).toHaveLength(0);
      expect(
        c.program[pass].filter(
          (op) => (op.op === 'conv2d' || op.op === 'linear') && op.epilogue?.bn && op.epilogue.act?.fn === 'sigmoid',
        ),
      ).toHaveLength(4);
    }
    // Training normalises with the batch's statistics: batch norm stays a kernel, the sigmoid joins it.
    expect(c.program.train.filter((op) => op.op === 'bn_train' && op.epilogue?.act?.fn === 'sigmoid')).toHaveLength(4);
    const k = c.kernels.evaluate.find((call) => call.kernel.name.endsWith('conv2d_bias_batchnorm_sigmoid'))!.kernel;
    expect(k.bindings.map((b) => b.name)).toEqual(['x', 'w', 'b', 'y', 'bn_gamma', 'bn_beta', 'bn_mean', 'bn_var']);
  });

  it('keeps a pre-activation that something else reads', () => {
    const c = build(`model M {
  input [2, 6, 6]
  y = x -> conv(2, kernel = 3, padding = 1)
  a = y -> relu
  y + a
}
train { loss mse_sum }`);
    const d = c.fusion!.find((x) => x.pass === 'train' && x.op.startsWith('unary(relu)'))!;
    expect(d.fused).toBe(false);
    expect(d.why).toMatch(/also read by add/);
    expect(c.program.train.some((op) => op.op === 'unary')).toBe(true);
  });

  it('declines ops without an epilogue and says which', () => {
    const c = build(`model M {
  input [2, 6, 6]
  maxpool(2) relu flatten linear(3)
}`);
    const d = c.fusion!.find((x) => x.pass === 'forward')!;
    expect(d).toMatchObject({ fused: false, into: null });
    expect(d.why).toMatch(/comes from pool, which has no activation epilogue/);
  });

  it('keeps the input of a leaky_relu with a negative slope for its gradient, fuses it where no gradient is taken', () => {
    // The language only accepts slopes >= 0; the step IR does not, so the pass guards itself.
    const c = build(
      `model M {
  input [2, 6, 6]
  conv(2, kernel = 3) leaky_relu(0.5) flatten linear(3)
}`,
      false,
    );
    const negative = (ops: readonly StepOp[]): StepOp[] =>
      ops.map((op) => (op.op === 'unary' || op.op === 'unary_grad' ? { ...op, slope: -0.5 } : op));
    const { decisions } = fuse({
      ...c.program,
      forward: negative(c.program.forward),
      train: negative(c.program.train),
    });
    const byPass = (pass: string) => decisions.find((x) => x.pass === pass && x.op.startsWith('unary('))!;
    expect(byPass('forward').fused).toBe(true);
    expect(byPass('train').fused).toBe(false);
    expect(byPass('train').why).toMatch(/negative slope/);
  });

  it('prints each decision with its reason, and says when fusion is off', () => {
    const text = printFusion(build(example('resnet18.cnn')).fusion);
    expect(text).toMatch(/^train pass: \d+ of \d+ candidates fused \{$/m);
    expect(text).toMatch(/fused +unary\(relu\) \[relu#\d+ at test\.cnn:\d+:\d+\] +into +add/);
    expect(text).toMatch(
      /separate +unary_grad\(relu\).*\n +%\d+ comes from adaptive_pool_grad, which has no gradient epilogue/,
    );
    expect(printFusion(build(example('resnet18.cnn'), false).fusion)).toMatch(/fusion is off/);
  });
});
