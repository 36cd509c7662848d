// What every op family's lowering shares: the lowering context (program, memory plan, the limits
// the kernels must fit), what a kernel call binds, deterministic kernel names, and fused epilogues.
import type { Arena, Epilogue as StepEpilogue, TensorId, StepProgram } from '../../autodiff/step-ir.ts';
import { numel } from '../../ir/graph.ts';
import type { MemoryPlan } from '../../plan/allocate.ts';
import type { KernelChoices } from '../tuning/choice.ts';
import { ACT_BINDING, BN_BINDINGS, activationGradEpilogue, forwardEpilogue, type Epilogue } from '../epilogue.ts';
import type { KernelModule, KernelOrigin } from '../kernel.ts';
import { type DeviceLimits, hasSubgroups } from '../limits.ts';
import type { KernelFrame } from '../module.ts';

/**
 * What fills one binding: a tensor, a window of a tensor (elements [offset, offset + elements) of
 * its storage: a slice of a tensor too big for one binding: `lower/slices.ts`, `lower/dense.ts`), a raw range of an
 * arena, the per-step [seed, step] counters, or scratch. Offsets are multiples of 64 elements
 * (WebGPU's 256-byte binding alignment).
 */
export type BindingRef =
  | { readonly kind: 'tensor'; readonly tensor: TensorId }
  | { readonly kind: 'window'; readonly tensor: TensorId; readonly offset: number; readonly elements: number }
  | {
      readonly kind: 'range';
      readonly arena: Arena;
      readonly bank: number;
      readonly offset: number;
      readonly elements: number;
    }
  | { readonly kind: 'step' }
  /** Temporary storage used within one kernel sequence (split-K partial sums). */
  | { readonly kind: 'scratch'; readonly elements: number };

export interface KernelCall {
  readonly kernel: KernelModule;
  /** Binding name -> what to bind; every binding of `kernel` has an entry. */
  readonly args: Readonly<Record<string, BindingRef>>;
}

export interface LowerContext {
  readonly program: StepProgram;
  readonly plan: MemoryPlan;
  /** The limits every kernel must fit: the device's, or WebGPU's defaults (the caller's choice). */
  readonly limits: DeviceLimits;
  /** Next kernel number, for deterministic names `k07_conv2d`. */
  counter: number;
  /**
   * The op runs as one of several batch slices (`lower/slices.ts`), not the first: what it sums
   * over the batch (a weight gradient) adds to what the earlier slices stored.
   */
  readonly accumulate?: boolean;
  /** Tuned GEMM choices by kernel key (tuning/site.ts); without them every kernel is the rules'. */
  readonly choices?: KernelChoices;
  /** Told of a tuned choice that does not build for its kernel (its rules' kernel is used instead). */
  readonly rejectChoice?: (key: string, why: string) => void;
}

export const t = (tensor: TensorId): BindingRef => ({ kind: 'tensor', tensor });
export const step: BindingRef = { kind: 'step' };

/** Elements [offset, offset + elements) of a tensor's storage. */
export const window = (tensor: TensorId, offset: number, elements: number): BindingRef => ({
  kind: 'window',
  tensor,
  offset,
  elements,
});

export function kernelName(ctx: LowerContext, what: string): string {
  return `k${String(ctx.counter++).padStart(2, '0')}_${what}`;
}

/** A kernel template's frame: the next kernel's name, the op's origin, the context's limits. */
export function frame(ctx: LowerContext, origin: KernelOrigin, what: string): KernelFrame {
  return { name: kernelName(ctx, what), origin, limits: ctx.limits };
}

/** GEMM kernels may share loads across 8 subgroup lanes (GemmTile.shareU). */
export const subgroups = (ctx: LowerContext): boolean => hasSubgroups(ctx.limits);

export const shapeOf = (ctx: LowerContext, id: TensorId): readonly number[] => ctx.program.tensors[id]!.shape;
export const elements = (ctx: LowerContext, id: TensorId): number => numel(shapeOf(ctx, id));
export const shape4 = (ctx: LowerContext, id: TensorId): [number, number, number, number] => {
  const s = shapeOf(ctx, id);
  return [s[0]!, s[1]!, s[2]!, s[3]!];
};

/** A fused op's epilogue (as a spec field, absent when nothing is fused), its extra bindings, and its kernel-name suffix. */
export interface Fused {
  readonly spec: { epilogue?: Epilogue };
  readonly args: Record<string, BindingRef>;
  readonly suffix: string;
}

export function fused(op: { readonly epilogue?: StepEpilogue }): Fused {
  const e = op.epilogue;
  const forward = e?.kind === 'forward' ? forwardEpilogue(e.bn ?? undefined, e.act ?? undefined) : undefined;
  if (e?.kind === 'forward' && forward) {
    const bn = e.bn
      ? Object.fromEntries(
          Object.entries(BN_BINDINGS).map(([field, name]) => [name, t(e.bn![field as keyof typeof BN_BINDINGS])]),
        )
      : {};
    return {
      spec: { epilogue: forward },
      args: bn,
      suffix: `${e.bn ? '_batchnorm' : ''}${e.act ? `_${e.act.fn}` : ''}`,
    };
  }
  if (e?.kind === 'act_grad')
    return { spec: { epilogue: activationGradEpilogue(e) }, args: { [ACT_BINDING]: t(e.x) }, suffix: `_${e.fn}_grad` };
  return { spec: {}, args: {}, suffix: '' };
}
