// Lowering of the 3-D ops (conv3d and 3-D pooling, forward and backward) to their direct kernels.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { conv3dGradInputKernel, conv3dGradWeightKernels, conv3dKernel } from '../kernels/conv3d.ts';
import { pool3dBackward, pool3dForward, type Shape5 } from '../kernels/pool3d.ts';
import { frame, fused, shapeOf, t, type BindingRef, type KernelCall, type LowerContext } from './context.ts';

export type VolumeOp = Extract<StepOp, { op: 'conv3d' | 'conv3d_dx' | 'conv3d_dw' | 'pool3d' | 'pool3d_grad' }>;

const shape5 = (ctx: LowerContext, id: number): Shape5 => {
  const s = shapeOf(ctx, id);
  if (s.length !== 5) throw new Error(`internal: a 3-D op on a tensor of shape [${s.join(', ')}]`);
  return [s[0]!, s[1]!, s[2]!, s[3]!, s[4]!];
};

/** Binds each of a kernel's bindings to the tensor of the op field of the same name, or to the epilogue's. */
const bind = (
  kernel: KernelCall['kernel'],
  tensors: Record<string, number | null>,
  epilogue: Record<string, BindingRef> = {},
): KernelCall => {
  const args: Record<string, BindingRef> = {};
  for (const b of kernel.bindings) {
    const id = tensors[b.name];
    const ref = id === undefined || id === null ? epilogue[b.name] : t(id);
    if (ref === undefined) throw new Error(`internal: kernel ${kernel.name} binds ${b.name}, which its op lacks`);
    args[b.name] = ref;
  }
  return { kernel, args };
};

export function lowerVolume(op: VolumeOp, ctx: LowerContext): KernelCall[] {
  switch (op.op) {
    case 'conv3d': {
      const f = fused(op);
      const spec = {
        ...frame(ctx, op.origin, `${op.b === null ? 'conv3d' : 'conv3d_bias'}${f.suffix}`),
        input: shape5(ctx, op.x),
        attrs: op.attrs,
        ...f.spec,
      };
      return [bind(conv3dKernel(spec), { x: op.x, w: op.w, b: op.b, y: op.y }, f.args)];
    }
    case 'conv3d_dx': {
      const f = fused(op);
      const spec = {
        ...frame(ctx, op.origin, `conv3d_grad_input${f.suffix}`),
        input: shape5(ctx, op.dx),
        attrs: op.attrs,
        ...f.spec,
      };
      return [bind(conv3dGradInputKernel(spec), { dy: op.dy, w: op.w, dx: op.dx }, f.args)];
    }
    case 'conv3d_dw': {
      const spec = { ...frame(ctx, op.origin, 'conv3d_grad_weight'), input: shape5(ctx, op.x), attrs: op.attrs };
      return conv3dGradWeightKernels(spec).map((k) => bind(k, { x: op.x, dy: op.dy, dw: op.dw, db: op.db }));
    }
    case 'pool3d': {
      const spec = { ...frame(ctx, op.origin, `${op.kind}pool3d`), input: shape5(ctx, op.x), attrs: op.attrs };
      return [bind(pool3dForward(spec, op.kind), { x: op.x, y: op.y, argmax: op.argmax })];
    }
    case 'pool3d_grad': {
      const f = fused(op);
      const spec = {
        ...frame(ctx, op.origin, `${op.kind}pool3d_grad${f.suffix}`),
        input: shape5(ctx, op.dx),
        attrs: op.attrs,
        ...f.spec,
      };
      return [bind(pool3dBackward(spec, op.kind), { argmax: op.argmax, dy: op.dy, dx: op.dx }, f.args)];
    }
  }
}
