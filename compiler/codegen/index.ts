// Pass: the step program and memory plan -> kernel calls for each pass, checked against the
// device's WebGPU limits so a model that cannot run fails at compile time, naming its layer.
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { PASSES, opTensors, type StepOp, type StepProgram } from '../autodiff/step-ir.ts';
import type { MemoryPlan } from '../plan/allocate.ts';
import type { KernelCall, LowerContext } from './lower/context.ts';
import { lowerWithinLimits } from './lower/slices.ts';
import { resolveAccess } from './access.ts';
import { KernelLimitError, type KernelOrigin } from './kernel.ts';
import { mib, type DeviceLimits } from './limits.ts';
import type { KernelChoices } from './tuning/choice.ts';

export { defaultLimits, type DeviceLimits } from './limits.ts';

/** A kernel call with the origin of the step op it came from (its layer and phase, for profiles). */
export interface LoweredCall extends KernelCall {
  readonly origin: KernelOrigin;
}

export interface LoweredProgram {
  readonly forward: readonly LoweredCall[];
  readonly evaluate: readonly LoweredCall[];
  readonly train: readonly LoweredCall[];
}

/**
 * The first call of each kernel, in order: a tensor past the binding limit runs one kernel over
 * several slices or blocks, which a listing shows once.
 */
export function distinctCalls<C extends KernelCall>(calls: readonly C[]): C[] {
  const seen = new Set<KernelCall['kernel']>();
  return calls.filter((c) => !seen.has(c.kernel) && seen.add(c.kernel));
}

/**
 * Binding sizes scale with the batch: a kernel binding more than the device allows is reported
 * but kept, so `cnnc compile` still shows it. What a template cannot fit at all (storage buffers,
 * workgroups, workgroup memory) the module builder refuses with a KernelLimitError, for these
 * same limits.
 */
function checkCall(call: KernelCall, op: StepOp, limits: DeviceLimits, report: Report): void {
  const where = op.origin.sources[0] ?? op.origin.ops.join(', ');
  const k = call.kernel;
  for (const b of k.bindings) {
    const bytes = b.elements * 4;
    if (bytes > limits.maxStorageBufferBindingSize) {
      report(
        'E0401',
        `kernel ${k.name} (${where}) binds ${b.name} of ${mib(bytes)}; this device allows ${mib(limits.maxStorageBufferBindingSize)} per storage binding (maxStorageBufferBindingSize)`,
        undefined,
        { help: 'use a smaller batch or input size, or a device with larger limits' },
      );
    }
  }
}

/**
 * The plan banks `work` and `param` (with its mirrors) so that no buffer exceeds maxBufferSize; a
 * tensor larger than that cannot be placed at all, and the other arenas are one buffer each.
 */
function checkBuffers(program: StepProgram, plan: MemoryPlan, limits: DeviceLimits, report: Report): void {
  const allowed = `this device allows ${mib(limits.maxBufferSize)} per buffer (maxBufferSize)`;
  const banked = new Set(['work', 'param', 'grad', 'state1', 'state2']);
  for (const [arena, elements] of Object.entries(plan.arenas))
    if (!banked.has(arena) && elements * 4 > limits.maxBufferSize)
      report('E0401', `the ${arena} arena needs ${mib(elements * 4)}; ${allowed}`);
  for (const t of program.tensors) {
    // A gradient is as large as its parameter, reported once.
    const placed = t.aliasOf === null && banked.has(t.arena) && t.arena !== 'grad';
    if (!placed || plan.placements[t.id]!.elements * 4 <= limits.maxBufferSize) continue;
    const user = PASSES.flatMap((pass) => program[pass]).find((op) => opTensors(op).includes(t.id));
    const where = user ? ` (${user.origin.sources[0] ?? user.origin.ops.join(', ')})` : '';
    report(
      'E0401',
      `${t.name} [${t.shape.join(', ')}] needs ${mib(plan.placements[t.id]!.elements * 4)}; ${allowed}${where}`,
    );
  }
}

type Report = (code: 'E0401', message: string, span?: undefined, extra?: { help?: string }) => void;

/**
 * `severity`: 'error' when the kernels are about to run on a device with these limits; 'warning'
 * when they are only shown (`cnnc compile`), so a model too big for one device can still be read.
 */
export function lowerProgram(
  program: StepProgram,
  plan: MemoryPlan,
  limits: DeviceLimits,
  diags: DiagnosticBag,
  severity: 'error' | 'warning' = 'error',
  choices?: KernelChoices,
): LoweredProgram {
  // The passes lower the same layers: each message once.
  const reported = new Set<string>();
  const report: Report = (code, message, span, extra) => {
    if (!reported.has(message)) diags.report(severity, code, message, span, extra);
    reported.add(message);
  };
  const ctx: LowerContext = {
    program,
    plan,
    limits,
    counter: 0,
    ...(choices ? { choices } : {}),
    rejectChoice: (key, why) =>
      diags.report(
        'warning',
        'W0401',
        `the tuned choice for kernel \`${key}\` does not apply (${why}); using the rules' kernel`,
        undefined,
        {
          help: 'run `cnnc tune` again',
        },
      ),
  };
  const lowerAll = (ops: readonly StepOp[]): LoweredCall[] =>
    ops.flatMap((op) => {
      try {
        const calls = lowerWithinLimits(op, ctx).map((c) => resolveAccess(c, plan));
        for (const c of calls) checkCall(c, op, limits, report);
        return calls.map((c) => ({ ...c, origin: op.origin }));
      } catch (e) {
        if (!(e instanceof KernelLimitError)) throw e;
        report('E0401', `${e.message} (${op.origin.sources[0] ?? op.origin.ops.join(', ')})`, undefined, {
          help: 'use a smaller batch or input size',
        });
        return [];
      }
    });
  checkBuffers(program, plan, limits, report);
  return { forward: lowerAll(program.forward), evaluate: lowerAll(program.evaluate), train: lowerAll(program.train) };
}
