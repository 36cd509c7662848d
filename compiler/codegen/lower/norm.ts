// Lowering of batch normalization: training forward (batch statistics, running averages),
// evaluation forward (running statistics) and the training backward.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { batchnormEval, batchnormTrainBackward, batchnormTrainForward } from '../kernels/batchnorm.ts';
import { frame, fused, shapeOf, t, type KernelCall, type LowerContext } from './context.ts';

export type NormOp = Extract<StepOp, { op: 'bn_train' | 'bn_eval' | 'bn_grad' }>;

export function lowerNorm(op: NormOp, ctx: LowerContext): KernelCall[] {
  switch (op.op) {
    case 'bn_train': {
      const f = fused(op);
      const spec = {
        ...frame(ctx, op.origin, `batchnorm_train${f.suffix}`),
        input: shapeOf(ctx, op.x),
        attrs: op.attrs,
        ...f.spec,
      };
      return [
        {
          kernel: batchnormTrainForward(spec),
          args: {
            x: t(op.x),
            gamma: t(op.gamma),
            beta: t(op.beta),
            y: t(op.y),
            save_mean: t(op.mean),
            save_invstd: t(op.invstd),
            running_mean: t(op.runMean),
            running_var: t(op.runVar),
          },
        },
      ];
    }
    case 'bn_eval': {
      const f = fused(op);
      const spec = {
        ...frame(ctx, op.origin, `batchnorm_eval${f.suffix}`),
        input: shapeOf(ctx, op.x),
        attrs: op.attrs,
        ...f.spec,
      };
      return [
        {
          kernel: batchnormEval(spec),
          args: {
            x: t(op.x),
            gamma: t(op.gamma),
            beta: t(op.beta),
            y: t(op.y),
            running_mean: t(op.runMean),
            running_var: t(op.runVar),
          },
        },
      ];
    }
    case 'bn_grad': {
      const spec = { ...frame(ctx, op.origin, 'batchnorm_grad'), input: shapeOf(ctx, op.x), attrs: op.attrs };
      return [
        {
          kernel: batchnormTrainBackward(spec),
          args: {
            x: t(op.x),
            dy: t(op.dy),
            gamma: t(op.gamma),
            save_mean: t(op.mean),
            save_invstd: t(op.invstd),
            dx: t(op.dx),
            dgamma: t(op.dgamma),
            dbeta: t(op.dbeta),
          },
        },
      ];
    }
  }
}
