// Pass: step ops -> kernel calls. Each op family's lowering (a file here) turns an op into one or
// more kernel modules from kernels/, plus which tensor (or arena range) fills each of their bindings.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { assertNever } from '../../diagnostics/diagnostic.ts';
import type { KernelCall, LowerContext } from './context.ts';
import { lowerConv } from './conv.ts';
import { lowerDense } from './dense.ts';
import { lowerElementwise } from './elementwise.ts';
import { lowerLoss } from './loss.ts';
import { lowerNorm } from './norm.ts';
import { lowerUpdate } from './optimizer.ts';
import { lowerPool } from './pool.ts';
import { lowerVolume } from './volume.ts';

export function lowerOp(op: StepOp, ctx: LowerContext): KernelCall[] {
  switch (op.op) {
    case 'conv2d':
    case 'conv2d_dx':
    case 'conv2d_dw':
      return lowerConv(op, ctx);
    case 'linear':
    case 'linear_dx':
    case 'linear_dw':
      return lowerDense(op, ctx);
    case 'unary':
    case 'unary_grad':
    case 'add':
    case 'concat':
    case 'concat_grad':
    case 'dropout':
    case 'dropout_grad':
      return lowerElementwise(op, ctx);
    case 'pool':
    case 'pool_grad':
    case 'adaptive_pool':
    case 'adaptive_pool_grad':
      return lowerPool(op, ctx);
    case 'conv3d':
    case 'conv3d_dx':
    case 'conv3d_dw':
    case 'pool3d':
    case 'pool3d_grad':
      return lowerVolume(op, ctx);
    case 'bn_train':
    case 'bn_eval':
    case 'bn_grad':
      return lowerNorm(op, ctx);
    case 'loss':
    case 'accumulate':
      return lowerLoss(op, ctx);
    case 'update':
      return lowerUpdate(op, ctx);
    default:
      return assertNever(op, 'lower');
  }
}
