// Lowering of the elementwise family: activations and their gradients, add (with a fused
// epilogue folded into its body), concatenation along channels, and dropout.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { numel } from '../../ir/graph.ts';
import { activationForward, activationGrad, add, input, substitute } from '../../ir/expr.ts';
import { concatKernel } from '../kernels/concat.ts';
import { dropoutBackward, dropoutForward } from '../kernels/dropout.ts';
import { elementwiseKernel } from '../kernels/elementwise.ts';
import {
  elements,
  frame,
  fused,
  shapeOf,
  step,
  t,
  type BindingRef,
  type KernelCall,
  type LowerContext,
} from './context.ts';

export type ElementwiseOp = Extract<
  StepOp,
  { op: 'unary' | 'unary_grad' | 'add' | 'concat' | 'concat_grad' | 'dropout' | 'dropout_grad' }
>;

export function lowerElementwise(op: ElementwiseOp, ctx: LowerContext): KernelCall[] {
  switch (op.op) {
    case 'unary':
    case 'unary_grad': {
      const count = elements(ctx, op.x);
      if (op.op === 'unary') {
        const body = activationForward(op.fn, op.slope, input('x'));
        return [
          {
            kernel: elementwiseKernel({ ...frame(ctx, op.origin, op.fn), inputs: ['x'], output: 'y', count, body }),
            args: { x: t(op.x), y: t(op.y) },
          },
        ];
      }
      const body = activationGrad(op.fn, op.slope, op.from, input('x'), input('dy'));
      const spec = { ...frame(ctx, op.origin, `${op.fn}_grad`), inputs: ['x', 'dy'], output: 'dx', count, body };
      return [{ kernel: elementwiseKernel(spec), args: { x: t(op.x), dy: t(op.dy), dx: t(op.dx) } }];
    }
    case 'add': {
      // The same tensor twice (y + y) binds one buffer to two read bindings, which WebGPU allows.
      // A fused epilogue becomes part of the body: its value is the sum, its reads more inputs.
      const count = elements(ctx, op.y);
      const f = fused(op);
      const sum = add(input('a'), input('b'));
      const body = f.spec.epilogue ? substitute(f.spec.epilogue.expr, 'x', sum) : sum;
      const inputs = ['a', 'b', ...(f.spec.epilogue?.reads ?? [])];
      const spec = { ...frame(ctx, op.origin, `add${f.suffix}`), inputs, output: 'y', count, body };
      return [{ kernel: elementwiseKernel(spec), args: { a: t(op.a), b: t(op.b), y: t(op.y), ...f.args } }];
    }
    case 'concat':
    case 'concat_grad': {
      const whole = op.op === 'concat' ? op.y : op.dy;
      const parts = op.op === 'concat' ? op.xs : op.dxs;
      const s = shapeOf(ctx, whole);
      const names = parts.map((_, i) => `${op.op === 'concat' ? 'x' : 'dx'}${i}`);
      const spec = {
        ...frame(ctx, op.origin, op.op),
        direction: op.op === 'concat' ? ('forward' as const) : ('backward' as const),
        batch: s[0]!,
        channels: parts.map((p) => shapeOf(ctx, p)[1]!),
        spatial: numel(s.slice(2)),
        parts: names,
        whole: op.op === 'concat' ? 'y' : 'dy',
      };
      const args: Record<string, BindingRef> = { [spec.whole]: t(whole) };
      parts.forEach((p, i) => (args[names[i]!] = t(p)));
      return [{ kernel: concatKernel(spec), args }];
    }
    case 'dropout':
    case 'dropout_grad': {
      const [from, to] = op.op === 'dropout' ? [op.x, op.y] : [op.dy, op.dx];
      const spec = {
        ...frame(ctx, op.origin, op.op),
        elements: elements(ctx, from),
        attrs: { p: op.p },
        stream: op.salt,
      };
      return op.op === 'dropout'
        ? [{ kernel: dropoutForward(spec), args: { params: step, x: t(from), y: t(to) } }]
        : [{ kernel: dropoutBackward(spec), args: { params: step, dy: t(from), dx: t(to) } }];
    }
  }
}
