// Lowering of the update op: the optimizer step over the packed parameter arena, one dispatch per
// chunk (chunks only past the device's storage binding size, and per buffer of the arena).
import type { Arena, StepOp } from '../../autodiff/step-ir.ts';
import { adamStep, adamwStep, sgdStep } from '../kernels/optimizer.ts';
import { frame, step, type BindingRef, type KernelCall, type LowerContext } from './context.ts';

export type UpdateOp = Extract<StepOp, { op: 'update' }>;

export function lowerUpdate(op: UpdateOp, ctx: LowerContext): KernelCall[] {
  // The largest storage binding in elements, in whole 64-element runs.
  const chunk = Math.floor(ctx.limits.maxStorageBufferBindingSize / 4 / 64) * 64;
  const calls: KernelCall[] = [];
  const o = op.optimizer;
  ctx.plan.paramBanks.forEach((total, bank) => {
    for (let start = 0; start < total; start += chunk) {
      const count = Math.min(chunk, total - start);
      const range = (arena: Arena): BindingRef => ({ kind: 'range', arena, bank, offset: start, elements: count });
      const spec = { ...frame(ctx, op.origin, o.kind), range: { bufferElements: count, offset: 0, count } };
      if (o.kind === 'sgd') {
        const kernel = sgdStep({
          ...spec,
          hyper: {
            lr: o.lr,
            momentum: o.momentum,
            dampening: o.dampening,
            weightDecay: o.weightDecay,
            nesterov: o.nesterov,
          },
        });
        calls.push({
          kernel,
          args: { params: step, grad: range('grad'), param: range('param'), momentum_buf: range('state1') },
        });
      } else {
        const hyper = { lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weightDecay };
        const kernel = (o.kind === 'adam' ? adamStep : adamwStep)({ ...spec, hyper });
        calls.push({
          kernel,
          args: {
            params: step,
            grad: range('grad'),
            param: range('param'),
            exp_avg: range('state1'),
            exp_avg_sq: range('state2'),
          },
        });
      }
    }
  });
  return calls;
}
