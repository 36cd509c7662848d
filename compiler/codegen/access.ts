// Read-only bindings where WebGPU allows them. Templates declare what they only read `read`; a
// dispatch may not bind one GPU buffer both read-only and writable (usage is tracked per buffer,
// whatever the ranges), so where the memory plan left a read tensor in a buffer the same kernel
// writes (one `work` bank, a bank conflict the plan could not separate), that binding becomes
// `read_write`.
import type { MemoryPlan, Placement } from '../plan/allocate.ts';
import { declareWritable } from './header.ts';
import type { BindingRef, KernelCall } from './lower/context.ts';

/**
 * Where a binding's storage lies: a tensor's placement, a window of it (`lower/slices.ts`,
 * `lower/dense.ts`), or an arena range (the optimizer's chunks).
 */
export function placementOf(
  ref: Extract<BindingRef, { kind: 'tensor' | 'window' | 'range' }>,
  plan: MemoryPlan,
): Placement {
  switch (ref.kind) {
    case 'range':
      return ref;
    case 'tensor':
      return plan.placements[ref.tensor]!;
    case 'window': {
      const p = plan.placements[ref.tensor]!;
      if (ref.offset + ref.elements > p.elements)
        throw new Error(`internal: a window of tensor ${ref.tensor} runs past its end`);
      return { ...p, offset: p.offset + ref.offset, elements: ref.elements };
    }
  }
}

/** The GPU buffer a binding lands in. */
function bufferOf(ref: BindingRef, plan: MemoryPlan): string {
  switch (ref.kind) {
    case 'tensor':
    case 'window': {
      const p = plan.placements[ref.tensor]!;
      return `${p.arena}#${p.bank}`;
    }
    case 'range':
      return `${ref.arena}#${ref.bank}`;
    case 'step':
    case 'scratch':
      return ref.kind;
  }
}

/** `call` with every `read` binding whose buffer the kernel also writes declared `read_write`. */
export function resolveAccess(call: KernelCall, plan: MemoryPlan): KernelCall {
  const { bindings } = call.kernel;
  const buffer = (name: string): string => {
    const ref = call.args[name];
    if (!ref) throw new Error(`internal: kernel ${call.kernel.name} binding ${name} has no argument`);
    return bufferOf(ref, plan);
  };
  const written = new Set(bindings.filter((b) => b.access === 'read_write').map((b) => buffer(b.name)));
  const writable = new Set(
    bindings.filter((b) => b.access === 'read' && written.has(buffer(b.name))).map((b) => b.name),
  );
  return writable.size === 0 ? call : { ...call, kernel: declareWritable(call.kernel, writable) };
}
