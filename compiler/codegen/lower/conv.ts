// Lowering of the convolutions (as implicit GEMMs): forward, input gradient, weight gradient.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { gemmSite, tunedKernels } from '../tuning/site.ts';
import { frame, fused, subgroups, t, type BindingRef, type KernelCall, type LowerContext } from './context.ts';

export type ConvOp = Extract<StepOp, { op: 'conv2d' | 'conv2d_dx' | 'conv2d_dw' }>;

/** Bindings the op does not name (a split-K partial-sum buffer) get scratch storage. */
function withScratch(kernel: KernelCall['kernel'], args: Record<string, BindingRef>): Record<string, BindingRef> {
  const out = { ...args };
  for (const b of kernel.bindings) if (!(b.name in out)) out[b.name] = { kind: 'scratch', elements: b.elements };
  return out;
}

export function lowerConv(op: ConvOp, ctx: LowerContext): KernelCall[] {
  const site = gemmSite(op, ctx.program, subgroups(ctx), ctx.accumulate);
  switch (op.op) {
    case 'conv2d': {
      const f = fused(op);
      const [kernel] = tunedKernels(
        site,
        frame(ctx, op.origin, `${op.b === null ? 'conv2d' : 'conv2d_bias'}${f.suffix}`),
        ctx,
      );
      return [
        {
          kernel: kernel!,
          args: { x: t(op.x), w: t(op.w), ...(op.b === null ? {} : { b: t(op.b) }), y: t(op.y), ...f.args },
        },
      ];
    }
    case 'conv2d_dx': {
      const f = fused(op);
      const [kernel] = tunedKernels(site, frame(ctx, op.origin, `conv2d_grad_input${f.suffix}`), ctx);
      return [{ kernel: kernel!, args: { dy: t(op.dy), w: t(op.w), dx: t(op.dx), ...f.args } }];
    }
    case 'conv2d_dw': {
      const args: Record<string, BindingRef> = {
        x: t(op.x),
        dy: t(op.dy),
        dw: t(op.dw),
        ...(op.db === null ? {} : { db: t(op.db) }),
      };
      return tunedKernels(site, frame(ctx, op.origin, 'conv2d_grad_weight'), ctx).map((kernel) => ({
        kernel,
        args: withScratch(kernel, args),
      }));
    }
  }
}
