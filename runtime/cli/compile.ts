// `cnnc compile FILE --emit ir|graph|wgsl|plan|fusion [--out DIR]` and
// `cnnc kernels FILE [--backward] [--filter NAME]`: what the compiler made, for people to read.
import { join } from 'node:path';
import { printStepProgram } from '../../compiler/autodiff/print.ts';
import { distinctCalls, type LoweredCall } from '../../compiler/codegen/index.ts';
import { kernelLimits } from '../../compiler/codegen/limits.ts';
import { CompileError, type Compiled, compileModel } from '../../compiler/index.ts';
import type { KernelModule } from '../../compiler/codegen/kernel.ts';
import { graphToDot } from '../../compiler/ir/dot.ts';
import { printGraph } from '../../compiler/ir/print.ts';
import { printFusion } from '../../compiler/fusion/print.ts';
import { printPlan } from '../../compiler/plan/print.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { modelOption } from './flags.ts';
import { readImport, readSource, type Output } from './io.ts';
import { type CodegenFlags, type Flags, inputOption } from './options.ts';
import { checkOutputs, makeDirectory, writeOutput, type InputPath, type OutputPath } from './outputs.ts';
import { UserError } from '../errors.ts';

/**
 * Compiles for WebGPU's default limits, which every adapter supports, warning where a model
 * exceeds them; with --subgroups for an adapter with subgroups of 8 or more lanes (lavapipe, most
 * GPUs), whose GEMM kernels share loads (what `cnnc train` runs there).
 */
function compiled(file: string, flags: CodegenFlags, io: Output): Compiled | null {
  try {
    const c = compileModel(readSource(file), {
      path: file,
      readFile: readImport,
      training: true,
      ...modelOption(flags),
      ...inputOption(flags),
      limits: kernelLimits(flags.subgroups === true),
      limitSeverity: 'warning',
    });
    if (c.warnings.length > 0) io.err(renderDiagnostics(c.warnings) + '\n');
    return c;
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return null;
  }
}

const distinct = (calls: readonly LoweredCall[]): KernelModule[] => distinctCalls(calls).map((c) => c.kernel);

const emitters = {
  ir: (c: Compiled) => `${printGraph(c.graph)}\n\n${printStepProgram(c.program)}\n`,
  graph: (c: Compiled) => `${graphToDot(c.graph)}\n`,
  plan: (c: Compiled) => `${printPlan(c.program, c.plan)}\n`,
  fusion: (c: Compiled) => printFusion(c.fusion),
  wgsl: (c: Compiled) =>
    distinct(c.kernels.train)
      .map((k) => k.wgsl)
      .join('\n'),
} as const;

export function compileCommand(file: string, flags: Flags<'compile'>, io: Output): number {
  const emit = flags.emit ?? 'ir';
  if (!(emit in emitters))
    throw new UserError(`--emit must be one of ${Object.keys(emitters).join(', ')}, got '${emit}'`);
  const out: OutputPath | null = flags.out !== undefined ? { what: '--out', path: flags.out, directory: true } : null;
  const model: InputPath = { what: 'the model', path: file };
  if (out) checkOutputs([out], [model]);
  const c = compiled(file, flags, io);
  if (!c) return 1;
  if (!out) {
    io.out(emitters[emit as keyof typeof emitters](c));
    return 0;
  }
  const ext = { ir: 'ir.txt', graph: 'dot', plan: 'plan.txt', fusion: 'fusion.txt' } as const;
  const files =
    emit === 'wgsl'
      ? distinct(c.kernels.train).map((k) => ({ name: `${k.name}.wgsl`, text: k.wgsl }))
      : [
          {
            name: `${c.graph.model}.${ext[emit as keyof typeof ext]}`,
            text: emitters[emit as keyof typeof emitters](c),
          },
        ];
  const paths = files.map((f) => ({ what: '--out', path: join(out.path, f.name), text: f.text }));
  makeDirectory(out);
  // The directory may hold a FIFO or a directory of a kernel's name, or be where the model is.
  checkOutputs(paths, [model]);
  for (const p of paths) writeOutput(p.path, p.text);
  io.out(emit === 'wgsl' ? `wrote ${files.length} kernels to ${out.path}\n` : `wrote ${paths[0]!.path}\n`);
  return 0;
}

export function kernelsCommand(file: string, flags: Flags<'kernels'>, io: Output): number {
  const c = compiled(file, flags, io);
  if (!c) return 1;
  // The training step's kernels (forward, loss, backward, update), or the evaluation forward.
  const kernels = distinct(flags.backward ? c.kernels.train : c.kernels.forward);
  const shown = kernels.filter((k) => flags.filter === undefined || k.name.includes(flags.filter));
  if (shown.length === 0) {
    io.err(`cnnc: no kernel matches '${flags.filter}' (kernels: ${kernels.map((k) => k.name).join(', ')})\n`);
    return 1;
  }
  io.out(shown.map((k) => k.wgsl).join('\n'));
  return 0;
}
