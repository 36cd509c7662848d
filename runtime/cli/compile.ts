// `cnnc compile FILE --emit ir|graph|wgsl|plan|fusion [--out DIR]` and
// `cnnc kernels FILE [--backward] [--filter NAME]`: what the compiler made, for people to read.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printStepProgram } from '../../compiler/autodiff/print.ts';
import { defaultLimits } from '../../compiler/codegen/index.ts';
import type { KernelCall } from '../../compiler/codegen/lower/context.ts';
import { graphToDot } from '../../compiler/ir/dot.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { printFusion } from '../../compiler/fusion/print.ts';
import { printPlan } from '../../compiler/plan/print.ts';
import { CompileError, compileToKernels, type Compiled } from '../model.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { modelOption } from './flags.ts';
import { parseInputFlag, readSource, type Output } from './io.ts';
import { UserError } from '../errors.ts';

export interface CompileFlags {
  readonly input?: string;
  readonly model?: string;
  readonly emit?: string;
  readonly out?: string;
  readonly backward?: boolean;
  readonly filter?: string;
  readonly 'no-fuse'?: boolean;
  readonly subgroups?: boolean;
}

/**
 * Compiles for WebGPU's default limits, which every adapter supports, warning where a model
 * exceeds them; with --subgroups for an adapter with subgroups of 8 or more lanes (lavapipe, most
 * GPUs), whose GEMM kernels share loads (what `cnnc train` runs there).
 */
function compiled(file: string, flags: CompileFlags, io: Output): Compiled | null {
  try {
    const c = compileToKernels(readSource(file), {
      path: file,
      ...modelOption(flags),
      ...(flags.input !== undefined ? parseInputFlag(flags.input) : {}),
    }, flags.subgroups ? { ...defaultLimits, subgroupMinSize: 8 } : defaultLimits, 'warning');
    if (c.warnings.length > 0) io.err(renderDiagnostics(c.warnings) + '\n');
    return c;
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return null;
  }
}

const emitters = {
  ir: (c: Compiled) => `${printGraph(c.graph)}\n\n${printStepProgram(c.program)}\n`,
  graph: (c: Compiled) => `${graphToDot(c.graph)}\n`,
  plan: (c: Compiled) => `${printPlan(c.program, c.plan)}\n`,
  fusion: (c: Compiled) => printFusion(c.fusion),
  wgsl: (c: Compiled) => c.kernels.train.map((k) => k.kernel.wgsl).join('\n'),
} as const;

export function compileCommand(file: string, flags: CompileFlags, io: Output): number {
  const emit = flags.emit ?? 'ir';
  if (!(emit in emitters)) throw new UserError(`--emit must be one of ${Object.keys(emitters).join(', ')}, got '${emit}'`);
  const c = compiled(file, flags, io);
  if (!c) return 1;
  if (flags.out === undefined) {
    io.out(emitters[emit as keyof typeof emitters](c));
    return 0;
  }
  mkdirSync(flags.out, { recursive: true });
  if (emit === 'wgsl') {
    const kernels = c.kernels.train;
    for (const k of kernels) writeFileSync(join(flags.out, `${k.kernel.name}.wgsl`), k.kernel.wgsl);
    io.out(`wrote ${kernels.length} kernels to ${flags.out}\n`);
  } else {
    const path = join(flags.out, `${c.graph.model}.${emit === 'graph' ? 'dot' : emit === 'plan' ? 'plan.txt' : emit === 'fusion' ? 'fusion.txt' : 'ir.txt'}`);
    writeFileSync(path, emitters[emit as keyof typeof emitters](c));
    io.out(`wrote ${path}\n`);
  }
  return 0;
}

export function kernelsCommand(file: string, flags: CompileFlags, io: Output): number {
  const c = compiled(file, flags, io);
  if (!c) return 1;
  // The training step's kernels (forward, loss, backward, update), or the evaluation forward.
  const calls: readonly KernelCall[] = flags.backward ? c.kernels.train : c.kernels.forward;
  const shown = calls.filter((k) => flags.filter === undefined || k.kernel.name.includes(flags.filter));
  if (shown.length === 0) {
    io.err(`cnnc: no kernel matches '${flags.filter}' (kernels: ${calls.map((k) => k.kernel.name).join(', ')})\n`);
    return 1;
  }
  io.out(shown.map((k) => k.kernel.wgsl).join('\n'));
  return 0;
}
