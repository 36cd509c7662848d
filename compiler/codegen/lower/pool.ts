// Lowering of the pooling ops: max and average windows, adaptive average pooling, and their gradients.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { adaptiveAvgpool2dBackward, adaptiveAvgpool2dForward } from '../kernels/adaptive-pool.ts';
import { avgpool2dBackward, avgpool2dForward, maxpool2dBackward, maxpool2dForward } from '../kernels/pool.ts';
import { frame, fused, shape4, t, type KernelCall, type LowerContext } from './context.ts';

export type PoolOp = Extract<StepOp, { op: 'pool' | 'pool_grad' | 'adaptive_pool' | 'adaptive_pool_grad' }>;

export function lowerPool(op: PoolOp, ctx: LowerContext): KernelCall[] {
  switch (op.op) {
    case 'pool': {
      const spec = { ...frame(ctx, op.origin, `${op.kind}pool2d`), input: shape4(ctx, op.x), attrs: op.attrs };
      return op.kind === 'max'
        ? [{ kernel: maxpool2dForward(spec), args: { x: t(op.x), y: t(op.y), argmax: t(op.argmax!) } }]
        : [{ kernel: avgpool2dForward(spec), args: { x: t(op.x), y: t(op.y) } }];
    }
    case 'pool_grad': {
      const f = fused(op);
      const spec = {
        ...frame(ctx, op.origin, `${op.kind}pool2d_grad${f.suffix}`),
        input: shape4(ctx, op.dx),
        attrs: op.attrs,
        ...f.spec,
      };
      return op.kind === 'max'
        ? [{ kernel: maxpool2dBackward(spec), args: { argmax: t(op.argmax!), dy: t(op.dy), dx: t(op.dx), ...f.args } }]
        : [{ kernel: avgpool2dBackward(spec), args: { dy: t(op.dy), dx: t(op.dx), ...f.args } }];
    }
    case 'adaptive_pool':
    case 'adaptive_pool_grad': {
      const [x, y] = op.op === 'adaptive_pool' ? [op.x, op.y] : [op.dx, op.dy];
      const out = shape4(ctx, y);
      const what = op.op === 'adaptive_pool' ? 'adaptive_avgpool2d' : 'adaptive_avgpool2d_grad';
      const spec = {
        ...frame(ctx, op.origin, what),
        input: shape4(ctx, x),
        attrs: { output: [out[2], out[3]] as const },
      };
      return op.op === 'adaptive_pool'
        ? [{ kernel: adaptiveAvgpool2dForward(spec), args: { x: t(op.x), y: t(op.y) } }]
        : [{ kernel: adaptiveAvgpool2dBackward(spec), args: { dy: t(op.dy), dx: t(op.dx) } }];
    }
  }
}
