// Lowering of the linear layers (GEMMs): forward, input gradient, weight gradient.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { gemmSite, tunedKernels } from '../tuning/site.ts';
import { frame, fused, subgroups, t, type KernelCall, type LowerContext } from './context.ts';

export type DenseOp = Extract<StepOp, { op: 'linear' | 'linear_dx' | 'linear_dw' }>;

export function lowerDense(op: DenseOp, ctx: LowerContext): KernelCall[] {
  const what = op.op === 'linear' ? 'linear' : op.op === 'linear_dx' ? 'linear_grad_input' : 'linear_grad_weight';
  const f = op.op === 'linear_dw' ? fused({}) : fused(op);
  const [kernel] = tunedKernels(
    gemmSite(op, ctx.program, subgroups(ctx)),
    frame(ctx, op.origin, `${what}${f.suffix}`),
    ctx,
  );
  if (op.op === 'linear')
    return [
      {
        kernel: kernel!,
        args: { x: t(op.x), w: t(op.w), ...(op.b === null ? {} : { b: t(op.b) }), y: t(op.y), ...f.args },
      },
    ];
  if (op.op === 'linear_dx') return [{ kernel: kernel!, args: { dy: t(op.dy), w: t(op.w), dx: t(op.dx), ...f.args } }];
  return [
    {
      kernel: kernel!,
      args: { dy: t(op.dy), x: t(op.x), dw: t(op.dw), ...(op.db === null ? {} : { db: t(op.db) }) },
    },
  ];
}
