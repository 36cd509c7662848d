// Read-only bindings where WebGPU allows them. Templates declare what they only read `read`; a
// dispatch may not bind one GPU buffer both read-only and writable (usage is tracked per buffer,
// whatever the ranges), so where the memory plan left a read tensor in a buffer the same kernel
// writes (one `work` bank, a bank conflict the plan could not separate), that binding becomes
// `read_write`.
import type { MemoryPlan } from '../plan/allocate.ts';
import { declareWritable } from './header.ts';
import type { BindingRef, KernelCall } from './lower/context.ts';

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
