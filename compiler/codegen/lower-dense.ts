// Lowering of the GEMM-shaped ops (convolutions, linear layers) and the elementwise family
// (activations, add, concat) to their kernel templates.
import type { StepOp, TensorId } from '../autodiff/step-ir.ts';
import { numel } from '../ir/graph.ts';
import { activationForward, activationGrad, add, input, substitute } from '../ir/expr.ts';
import { concatKernel } from './kernels/concat.ts';
import { conv2dKernel } from './kernels/conv2d.ts';
import { conv2dGradInputKernel } from './kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels } from './kernels/conv2d-grad-weight.ts';
import { elementwiseKernel } from './kernels/elementwise.ts';
import { linearForward, linearGradInput, linearGradWeight } from './kernels/matmul.ts';
import { fused, kernelName, t, type BindingRef, type KernelCall, type LowerContext } from './lower.ts';

type DenseOp = Extract<StepOp, { op: 'conv2d' | 'conv2d_dx' | 'conv2d_dw' | 'linear' | 'linear_dx' | 'linear_dw' | 'unary' | 'unary_grad' | 'add' | 'concat' | 'concat_grad' }>;

const shapeOf = (ctx: LowerContext, id: TensorId) => ctx.program.tensors[id]!.shape;

/** Bindings the op does not name (a split-K partial-sum buffer) get scratch storage. */
function withScratch(kernel: KernelCall['kernel'], args: Record<string, BindingRef>): Record<string, BindingRef> {
  const out = { ...args };
  for (const b of kernel.bindings) if (!(b.name in out)) out[b.name] = { kind: 'scratch', elements: b.elements };
  return out;
}

export function lowerDense(op: DenseOp, ctx: LowerContext): KernelCall[] {
  const origin = op.origin;
  const one = (kernel: KernelCall['kernel'], args: Record<string, BindingRef>): KernelCall[] => [{ kernel, args }];
  switch (op.op) {
    case 'conv2d': {
      const [n, c, h, w] = shapeOf(ctx, op.x) as [number, number, number, number];
      const f = fused(op);
      const spec = { name: kernelName(ctx, `${op.b === null ? 'conv2d' : 'conv2d_bias'}${f.suffix}`), origin, input: [n, c, h, w] as const, attrs: op.attrs, subgroups: ctx.subgroups, ...f.spec };
      return one(conv2dKernel(spec), { x: t(op.x), w: t(op.w), ...(op.b === null ? {} : { b: t(op.b) }), y: t(op.y), ...f.args });
    }
    case 'conv2d_dx': {
      const [n, c, h, w] = shapeOf(ctx, op.dx) as [number, number, number, number];
      const f = fused(op);
      const spec = { name: kernelName(ctx, `conv2d_grad_input${f.suffix}`), origin, input: [n, c, h, w] as const, attrs: op.attrs, subgroups: ctx.subgroups, ...f.spec };
      return one(conv2dGradInputKernel(spec), { dy: t(op.dy), w: t(op.w), dx: t(op.dx), ...f.args });
    }
    case 'conv2d_dw': {
      const [n, c, h, w] = shapeOf(ctx, op.x) as [number, number, number, number];
      const spec = { name: kernelName(ctx, 'conv2d_grad_weight'), origin, input: [n, c, h, w] as const, attrs: op.attrs, subgroups: ctx.subgroups };
      const args: Record<string, BindingRef> = { x: t(op.x), dy: t(op.dy), dw: t(op.dw), ...(op.db === null ? {} : { db: t(op.db) }) };
      return conv2dGradWeightKernels(spec).map((kernel) => ({ kernel, args: withScratch(kernel, args) }));
    }
    case 'linear':
    case 'linear_dx':
    case 'linear_dw': {
      const x = op.op === 'linear_dx' ? op.dx : op.x;
      const [batch, inFeatures] = shapeOf(ctx, x) as [number, number];
      const outFeatures = shapeOf(ctx, op.op === 'linear_dw' ? op.dw : op.w)[0]!;
      const what = op.op === 'linear' ? 'linear' : op.op === 'linear_dx' ? 'linear_grad_input' : 'linear_grad_weight';
      const bias = op.op === 'linear' ? op.b !== null : op.op === 'linear_dw' ? op.db !== null : false;
      const f = op.op === 'linear_dw' ? fused({}) : fused(op);
      const spec = { name: kernelName(ctx, `${what}${f.suffix}`), origin, batch, inFeatures, outFeatures, bias, subgroups: ctx.subgroups, ...f.spec };
      if (op.op === 'linear') return one(linearForward(spec), { x: t(op.x), w: t(op.w), ...(op.b === null ? {} : { b: t(op.b) }), y: t(op.y), ...f.args });
      if (op.op === 'linear_dx') return one(linearGradInput(spec), { dy: t(op.dy), w: t(op.w), dx: t(op.dx), ...f.args });
      return one(linearGradWeight(spec), { dy: t(op.dy), x: t(op.x), dw: t(op.dw), ...(op.db === null ? {} : { db: t(op.db) }) });
    }
    case 'unary':
    case 'unary_grad': {
      const count = numel(shapeOf(ctx, op.x));
      if (op.op === 'unary') {
        const body = activationForward(op.fn, op.slope, input('x'));
        return one(elementwiseKernel({ name: kernelName(ctx, op.fn), origin, inputs: ['x'], output: 'y', count, body }), { x: t(op.x), y: t(op.y) });
      }
      const body = activationGrad(op.fn, op.slope, op.from, input('x'), input('dy'));
      return one(elementwiseKernel({ name: kernelName(ctx, `${op.fn}_grad`), origin, inputs: ['x', 'dy'], output: 'dx', count, body }), { x: t(op.x), dy: t(op.dy), dx: t(op.dx) });
    }
    case 'add': {
      // The same tensor twice (y + y) binds one buffer to two read bindings, which WebGPU allows.
      // A fused epilogue becomes part of the body: its value is the sum, its reads more inputs.
      const count = numel(shapeOf(ctx, op.y));
      const f = fused(op);
      const sum = add(input('a'), input('b'));
      const body = f.spec.epilogue ? substitute(f.spec.epilogue.expr, 'x', sum) : sum;
      const inputs = ['a', 'b', ...(f.spec.epilogue?.reads ?? [])];
      return one(elementwiseKernel({ name: kernelName(ctx, `add${f.suffix}`), origin, inputs, output: 'y', count, body }), { a: t(op.a), b: t(op.b), y: t(op.y), ...f.args });
    }
    case 'concat':
    case 'concat_grad': {
      const whole = op.op === 'concat' ? op.y : op.dy;
      const parts = op.op === 'concat' ? op.xs : op.dxs;
      const s = shapeOf(ctx, whole);
      const names = parts.map((_, i) => `${op.op === 'concat' ? 'x' : 'dx'}${i}`);
      const spec = {
        name: kernelName(ctx, op.op), origin, direction: op.op === 'concat' ? 'forward' as const : 'backward' as const,
        batch: s[0]!, channels: parts.map((p) => shapeOf(ctx, p)[1]!), spatial: numel(s.slice(2)), parts: names, whole: op.op === 'concat' ? 'y' : 'dy',
      };
      const args: Record<string, BindingRef> = { [spec.whole]: t(whole) };
      parts.forEach((p, i) => (args[names[i]!] = t(p)));
      return one(concatKernel(spec), args);
    }
  }
}
