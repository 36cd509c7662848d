// Lowering of the linear layers (GEMMs): forward, input gradient, weight gradient.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { linearForward, linearGradInput, linearGradWeight } from '../kernels/matmul.ts';
import { frame, fused, shapeOf, subgroups, t, type KernelCall, type LowerContext } from './context.ts';

export type DenseOp = Extract<StepOp, { op: 'linear' | 'linear_dx' | 'linear_dw' }>;

export function lowerDense(op: DenseOp, ctx: LowerContext): KernelCall[] {
  const x = op.op === 'linear_dx' ? op.dx : op.x;
  const [batch, inFeatures] = shapeOf(ctx, x) as [number, number];
  const outFeatures = shapeOf(ctx, op.op === 'linear_dw' ? op.dw : op.w)[0]!;
  const what = op.op === 'linear' ? 'linear' : op.op === 'linear_dx' ? 'linear_grad_input' : 'linear_grad_weight';
  const bias = op.op === 'linear' ? op.b !== null : op.op === 'linear_dw' ? op.db !== null : false;
  const f = op.op === 'linear_dw' ? fused({}) : fused(op);
  const spec = {
    ...frame(ctx, op.origin, `${what}${f.suffix}`),
    batch,
    inFeatures,
    outFeatures,
    bias,
    subgroups: subgroups(ctx),
    ...f.spec,
  };
  if (op.op === 'linear')
    return [
      {
        kernel: linearForward(spec),
        args: { x: t(op.x), w: t(op.w), ...(op.b === null ? {} : { b: t(op.b) }), y: t(op.y), ...f.args },
      },
    ];
  if (op.op === 'linear_dx')
    return [{ kernel: linearGradInput(spec), args: { dy: t(op.dy), w: t(op.w), dx: t(op.dx), ...f.args } }];
  return [
    {
      kernel: linearGradWeight(spec),
      args: { dy: t(op.dy), x: t(op.x), dw: t(op.dw), ...(op.db === null ? {} : { db: t(op.db) }) },
    },
  ];
}
