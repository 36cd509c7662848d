// Lowering of the linear layers (GEMMs): forward, input gradient, weight gradient. A weight too
// big for one storage binding (VGG-11's first, [4096, 25088]: 392 MiB against WebGPU's default
// 128 MiB) is split by output rows into blocks that fit, each bound as a window of it: the forward
// computes the block's columns of y, the weight gradient the block's rows of dW (and db), and the
// input gradient sums the blocks' products into dx, one dispatch each, the fused activation
// gradient applied by the last.
import type { StepOp, TensorId } from '../../autodiff/step-ir.ts';
import { ALIGN_ELEMENTS } from '../../plan/allocate.ts';
import { KernelLimitError, type KernelModule } from '../kernel.ts';
import { linearForward, linearGradInput, linearGradWeight, type LinearSpec } from '../kernels/matmul.ts';
import { mib, type DeviceLimits } from '../limits.ts';
import { gemmSite, tunedKernels } from '../tuning/site.ts';
import { evenBlocks, type Block } from './blocks.ts';
import {
  frame,
  fused,
  shapeOf,
  subgroups,
  t,
  window,
  type BindingRef,
  type KernelCall,
  type LowerContext,
} from './context.ts';

export type DenseOp = Extract<StepOp, { op: 'linear' | 'linear_dx' | 'linear_dw' }>;

/**
 * The weight's output rows in blocks of at most one storage binding, as even as 64-row steps
 * allow: a block's windows of y, dy and b begin at its first row, and bindings at 256-byte
 * boundaries. One block where the whole weight fits.
 */
export function rowBlocks(outFeatures: number, inFeatures: number, limits: DeviceLimits): Block[] {
  const limit = Math.floor(limits.maxStorageBufferBindingSize / 4);
  const blocks = evenBlocks(outFeatures, Math.floor(limit / inFeatures), ALIGN_ELEMENTS);
  if (blocks === null) {
    const rows = Math.min(ALIGN_ELEMENTS, outFeatures);
    throw new KernelLimitError(
      `a linear layer's weight [${outFeatures}, ${inFeatures}] (${mib(outFeatures * inFeatures * 4)}) cannot be split to fit one storage binding of ${mib(limit * 4)} (maxStorageBufferBindingSize): its smallest block, ${rows} rows (blocks start every ${ALIGN_ELEMENTS} rows, as bindings start at 256-byte boundaries), takes ${mib(rows * inFeatures * 4)}`,
    );
  }
  return blocks;
}

export function lowerDense(op: DenseOp, ctx: LowerContext): KernelCall[] {
  const x = op.op === 'linear_dx' ? op.dx : op.x;
  const [batch, inFeatures] = shapeOf(ctx, x) as [number, number];
  const outFeatures = shapeOf(ctx, op.op === 'linear_dw' ? op.dw : op.w)[0]!;
  const what = op.op === 'linear' ? 'linear' : op.op === 'linear_dx' ? 'linear_grad_input' : 'linear_grad_weight';
  const bias = op.op === 'linear' ? op.b !== null : op.op === 'linear_dw' ? op.db !== null : false;
  const f = op.op === 'linear_dw' ? fused({}) : fused(op);
  const blocks = rowBlocks(outFeatures, inFeatures, ctx.limits);
  // A weight in one binding: the layer is one GEMM, which the tuner may have chosen a kernel for.
  if (blocks.length === 1) {
    const site = gemmSite(op, ctx.program, subgroups(ctx), ctx.accumulate);
    const [kernel] = tunedKernels(site, frame(ctx, op.origin, `${what}${f.suffix}`), ctx);
    return [{ kernel: kernel!, args: wholeArgs(op, f.args) }];
  }
  // Blocks of one size (and role) share one kernel module, so one pipeline.
  const modules = new Map<string, KernelModule>();
  const kernel = (
    key: string,
    make: (s: LinearSpec) => KernelModule,
    rows: number,
    extra: Partial<LinearSpec> = {},
  ): KernelModule => {
    const made =
      modules.get(key) ??
      make({
        ...frame(ctx, op.origin, `${what}${extra.epilogue ? f.suffix : ''}`),
        batch,
        inFeatures,
        outFeatures: rows,
        bias,
        subgroups: subgroups(ctx),
        outStride: outFeatures,
        ...extra,
      });
    modules.set(key, made);
    return made;
  };
  // A block's share of an operand: the weight's rows, or the columns of a [batch, out] tensor from the block's first.
  const weight = (id: TensorId, b: Block) => window(id, b.start * inFeatures, b.size * inFeatures);
  const columns = (id: TensorId, b: Block) => window(id, b.start, (batch - 1) * outFeatures + b.size);
  const channels = (id: TensorId, b: Block) => window(id, b.start, b.size);

  switch (op.op) {
    case 'linear':
      return blocks.map((b) => ({
        kernel: kernel(`${b.size}`, linearForward, b.size, f.spec),
        args: {
          x: t(op.x),
          w: weight(op.w, b),
          ...(op.b === null ? {} : { b: channels(op.b, b) }),
          y: columns(op.y, b),
          // A fused batch norm's per-channel tensors, the block's channels.
          ...Object.fromEntries(
            Object.entries(f.args).map(([name, ref]) => [name, ref.kind === 'tensor' ? channels(ref.tensor, b) : ref]),
          ),
        },
      }));
    case 'linear_dx':
      return blocks.map((b, i) => {
        const last = i === blocks.length - 1;
        const extra = { ...(last ? f.spec : {}), ...(i > 0 ? { accumulate: true } : {}) };
        return {
          kernel: kernel(`${b.size} ${i > 0} ${last}`, linearGradInput, b.size, extra),
          args: { dy: columns(op.dy, b), w: weight(op.w, b), dx: t(op.dx), ...(last ? f.args : {}) },
        };
      });
    case 'linear_dw':
      return blocks.map((b) => ({
        kernel: kernel(`${b.size}`, linearGradWeight, b.size, ctx.accumulate ? { accumulate: true } : {}),
        args: {
          dy: columns(op.dy, b),
          x: t(op.x),
          dw: weight(op.dw, b),
          ...(op.db === null ? {} : { db: channels(op.db, b) }),
        },
      }));
  }
}

/** The bindings of an unsplit layer's kernel: the op's tensors, and a fused epilogue's (not for dW). */
function wholeArgs(op: DenseOp, fusedArgs: Record<string, BindingRef>): Record<string, BindingRef> {
  switch (op.op) {
    case 'linear':
      return { x: t(op.x), w: t(op.w), ...(op.b === null ? {} : { b: t(op.b) }), y: t(op.y), ...fusedArgs };
    case 'linear_dx':
      return { dy: t(op.dy), w: t(op.w), dx: t(op.dx), ...fusedArgs };
    case 'linear_dw':
      return { dy: t(op.dy), x: t(op.x), dw: t(op.dw), ...(op.db === null ? {} : { db: t(op.db) }) };
  }
}
