// Ops whose tensors are too big for one storage binding, run over the batch in slices (VGG-11 at
// 224 with batch 128: the first conv's output, 1.6 GB, against WebGPU's default 128 MiB). A slice
// is a dispatch of the op's kernels specialised to the slice's batch, binding windows of the
// batch-major tensors (activations, their gradients, pooling's argmax: [N, ...], each sample
// contiguous) and the whole of everything else (weights). Per-sample ops slice as they are; ops
// that sum over the batch (weight gradients) add each slice after the first to what it stored.
// Slices of one size share their kernel modules, so one pipeline serves them all.
import { operands, type StepOp, type StepOpKind, type TensorId } from '../../autodiff/step-ir.ts';
import { numel } from '../../ir/graph.ts';
import { ALIGN_ELEMENTS } from '../../plan/allocate.ts';
import { KernelLimitError } from '../kernel.ts';
import { mib } from '../limits.ts';
import { evenBlocks } from './blocks.ts';
import { window, type BindingRef, type KernelCall, type LowerContext } from './context.ts';
import { lowerOp } from './index.ts';

/** Ops each of whose output samples depends on that sample of their batch-major inputs alone. */
const perSample: ReadonlySet<StepOpKind> = new Set([
  'conv2d',
  'conv2d_dx',
  'linear',
  'linear_dx',
  'unary',
  'unary_grad',
  'add',
  'pool',
  'pool_grad',
]);
/** Ops that sum over the batch: slices after the first lower with `accumulate`. */
const batchSums: ReadonlySet<StepOpKind> = new Set(['conv2d_dw', 'linear_dw']);

const fits = (calls: readonly KernelCall[], ctx: LowerContext): boolean =>
  calls.every((c) => c.kernel.bindings.every((b) => b.elements * 4 <= ctx.limits.maxStorageBufferBindingSize));

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The op's kernel calls, in batch slices where a binding of the whole batch exceeds the device's
 * storage binding size and the op can run that way; otherwise as `lowerOp` makes them (lowering
 * reports a binding that is still too big).
 */
export function lowerWithinLimits(op: StepOp, ctx: LowerContext): KernelCall[] {
  const counter = ctx.counter;
  const whole = lowerOp(op, ctx);
  if (fits(whole, ctx) || !(perSample.has(op.op) || batchSums.has(op.op))) return whole;
  ctx.counter = counter;
  return lowerSlices(op, ctx);
}

/** Elements per sample of each batch-major operand (those in `work` and `io`: [N, ...]). */
function sampleSizes(op: StepOp, ctx: LowerContext): Map<TensorId, number> {
  const { batch, tensors } = ctx.program;
  const out = new Map<TensorId, number>();
  for (const [, v] of operands(op)) {
    for (const id of v === null ? [] : typeof v === 'number' ? [v] : v) {
      const info = tensors[id]!;
      if (info.arena !== 'work' && info.arena !== 'io') continue;
      if (info.shape[0] !== batch) throw new Error(`internal: ${info.name} [${info.shape}] is not batch-major`);
      out.set(id, numel(info.shape) / batch);
    }
  }
  return out;
}

function lowerSlices(op: StepOp, ctx: LowerContext): KernelCall[] {
  const { batch, tensors } = ctx.program;
  const sizes = sampleSizes(op, ctx);
  const limit = Math.floor(ctx.limits.maxStorageBufferBindingSize / 4);
  const largest = Math.max(...sizes.values());
  if (largest > limit) {
    const id = [...sizes].find(([, n]) => n === largest)![0];
    throw new KernelLimitError(
      `one sample of ${tensors[id]!.name} [${tensors[id]!.shape.slice(1).join(', ')}] takes ${mib(largest * 4)}, more than one storage binding holds (${mib(limit * 4)}, maxStorageBufferBindingSize): batch slices cannot help`,
    );
  }
  // A slice starts at a multiple of `step` samples: every window then starts 256-byte aligned.
  const step = [...sizes.values()].reduce((acc, n) => {
    const need = ALIGN_ELEMENTS / gcd(n, ALIGN_ELEMENTS);
    return (acc * need) / gcd(acc, need);
  }, 1);
  const slices = evenBlocks(batch, Math.floor(limit / largest), step);
  if (slices === null)
    throw new KernelLimitError(
      `batch slices of its tensors start at 256-byte boundaries only every ${step} samples, and ${step} samples of ${mib(largest * 4)} exceed one storage binding (${mib(limit * 4)}, maxStorageBufferBindingSize)`,
    );
  // One lowering per slice size (and, for a sum over the batch, for the first slice apart).
  const lowered = new Map<string, KernelCall[]>();
  const callsFor = (samples: number, accumulate: boolean): KernelCall[] => {
    const key = `${samples} ${accumulate}`;
    const known = lowered.get(key);
    if (known) return known;
    const sub: LowerContext = {
      ...ctx,
      program: {
        ...ctx.program,
        batch: samples,
        tensors: tensors.map((t) => (sizes.has(t.id) ? { ...t, shape: [samples, ...t.shape.slice(1)] } : t)),
      },
      ...(accumulate ? { accumulate: true } : {}),
    };
    const calls = lowerOp(op, sub);
    ctx.counter = sub.counter;
    lowered.set(key, calls);
    return calls;
  };
  return slices.flatMap(({ start, size }, i) =>
    callsFor(size, i > 0 && batchSums.has(op.op)).map((call) => ({
      kernel: call.kernel,
      args: Object.fromEntries(
        Object.entries(call.args).map(([name, ref]) => [name, shifted(ref, sizes, start, size)]),
      ),
    })),
  );
}

/** A binding of a slice's kernel moved to the slice's `samples` samples from sample `start` of the batch. */
function shifted(ref: BindingRef, sizes: ReadonlyMap<TensorId, number>, start: number, samples: number): BindingRef {
  if (ref.kind !== 'tensor' && ref.kind !== 'window') return ref;
  const perSample = sizes.get(ref.tensor);
  if (perSample === undefined) return ref;
  return ref.kind === 'window'
    ? window(ref.tensor, ref.offset + start * perSample, ref.elements)
    : window(ref.tensor, start * perSample, samples * perSample);
}
