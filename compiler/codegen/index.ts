// Pass: the step program and memory plan -> kernel calls for each pass, checked against the
// device's WebGPU limits so a model that cannot run fails at compile time, naming its layer.
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { StepOp, StepProgram } from '../autodiff/step-ir.ts';
import type { MemoryPlan } from '../plan/allocate.ts';
import { lowerOp, type KernelCall, type LowerContext } from './lower.ts';
import { KernelLimitError } from './kernel.ts';

export interface DeviceLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxBufferSize: number;
  /** The smallest subgroup size with the WGSL subgroups feature enabled; 0 without it. */
  readonly subgroupMinSize: number;
}

/** WebGPU's default limits: what any adapter supports, used when compiling without a device. */
export const defaultLimits: DeviceLimits = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxStorageBuffersPerShaderStage: 8,
  maxBufferSize: 256 * 1024 * 1024,
  subgroupMinSize: 0,
};

export interface LoweredProgram {
  readonly forward: readonly KernelCall[];
  readonly evaluate: readonly KernelCall[];
  readonly train: readonly KernelCall[];
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function checkCall(call: KernelCall, op: StepOp, limits: DeviceLimits, report: Report): void {
  const where = op.origin.sources[0] ?? op.origin.ops.join(', ');
  const k = call.kernel;
  if (k.bindings.length > limits.maxStorageBuffersPerShaderStage) {
    report('E0401', `kernel ${k.name} (${where}) needs ${k.bindings.length} storage buffers; this device allows ${limits.maxStorageBuffersPerShaderStage} per shader stage`);
  }
  for (const b of k.bindings) {
    const bytes = b.elements * 4;
    if (bytes > limits.maxStorageBufferBindingSize) {
      report('E0401', `kernel ${k.name} (${where}) binds ${b.name} of ${mib(bytes)}; this device allows ${mib(limits.maxStorageBufferBindingSize)} per storage binding (maxStorageBufferBindingSize)`,
        undefined, { help: 'use a smaller batch or input size, or a device with larger limits' });
    }
  }
}

type Report = (code: 'E0401', message: string, span?: undefined, extra?: { help?: string }) => void;

/**
 * `severity`: 'error' when the kernels are about to run on a device with these limits; 'warning'
 * when they are only shown (`cnnc compile`), so a model too big for one device can still be read.
 */
export function lowerProgram(program: StepProgram, plan: MemoryPlan, limits: DeviceLimits, diags: DiagnosticBag, severity: 'error' | 'warning' = 'error'): LoweredProgram {
  const report: Report = (code, message, span, extra) => diags.report(severity, code, message, span, extra);
  const ctx: LowerContext = {
    program, plan, maxBindingElements: Math.floor(limits.maxStorageBufferBindingSize / 4 / 64) * 64, subgroups: limits.subgroupMinSize >= 8, counter: 0,
  };
  const lowerAll = (ops: readonly StepOp[]): KernelCall[] => ops.flatMap((op) => {
    try {
      const calls = lowerOp(op, ctx);
      for (const c of calls) checkCall(c, op, limits, report);
      return calls;
    } catch (e) {
      if (!(e instanceof KernelLimitError)) throw e;
      report('E0401', `${e.message} (${op.origin.sources[0] ?? op.origin.ops.join(', ')})`, undefined, { help: 'use a smaller batch or input size' });
      return [];
    }
  });
  for (const [arena, elements] of Object.entries(plan.arenas)) {
    if (elements * 4 > limits.maxBufferSize) {
      report('E0401', `the ${arena} arena needs ${mib(elements * 4)}; this device allows ${mib(limits.maxBufferSize)} per buffer (maxBufferSize)`);
    }
  }
  return { forward: lowerAll(program.forward), evaluate: lowerAll(program.evaluate), train: lowerAll(program.train) };
}
