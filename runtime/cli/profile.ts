// `cnnc profile FILE [--batch-size N] [--steps K] [--json]`: the GPU time of one training step by
// .cnn layer (forward and backward), the loss and the optimizer, from every kernel's timestamps
// (runtime/profile.ts). The step trains on seeded random data of the model's shapes: kernel times
// do not depend on the values, and no data set need be read.
import { openGpu } from '../gpu/dawn.ts';
import { WALL_CLOCK_REPEATS } from '../model.ts';
import { profileSteps, randomBatch, type StepProfile } from '../profile.ts';
import { compileModel, modelFrontend, modelOption } from './flags.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';

const DEFAULT_STEPS = 10;

export async function profileCommand(file: string, flags: Flags<'profile'>, io: Output): Promise<number> {
  const front = modelFrontend(file, flags, io);
  if (!front) return 1;
  const batch = flags['batch-size'] ?? front.train!.batch;
  const steps = flags.steps ?? DEFAULT_STEPS;
  const gpu = await openGpu();
  try {
    const model = await compileModel(front, { gpu, batch, training: true, ...modelOption(flags) }, io);
    if (!model) return 1;
    try {
      const profile = await profileSteps(model, randomBatch(model), steps, { statistic: 'mean' });
      const { graph } = model.compiled;
      const what = { model: graph.model, batch, input: graph.nodes[0]!.shape.slice(1), device: gpu.adapterName, steps };
      io.out(flags.json ? JSON.stringify(profileJson(what, profile), null, 2) + '\n' : renderProfile(what, profile));
      return 0;
    } finally {
      await model.dispose();
    }
  } finally {
    gpu.dispose();
  }
}

interface Profiled {
  readonly model: string;
  readonly batch: number;
  readonly input: readonly number[];
  readonly device: string;
  readonly steps: number;
}

function methodLine(p: StepProfile, steps: number): string {
  const best = steps === 1 ? 'one step' : `each kernel's mean over ${steps} steps`;
  return p.method === 'timestamps'
    ? `${best}, from GPU timestamp queries`
    : `${best}, on the wall clock over ${WALL_CLOCK_REPEATS} repeated dispatches (this adapter has no timestamp queries: the submit and the wait are included, so small kernels read high)`;
}

/** The table: one row per layer with kernels, then the loss, the optimizer and the total. */
export function renderProfile(what: Profiled, p: StepProfile): string {
  const ms = (v: number): string => v.toFixed(3);
  const share = (v: number): string => `${((100 * v) / p.totalMs).toFixed(1)}%`;
  const head = ['layer', 'op', 'source', 'forward ms', 'backward ms', 'share', 'kernels'];
  const body = p.rows.map((r) => [
    r.layer,
    r.op,
    r.source ?? '',
    ms(r.forwardMs),
    r.backwardMs > 0 || r.source ? ms(r.backwardMs) : '',
    share(r.forwardMs + r.backwardMs),
    String(r.kernels),
  ]);
  const sum = (f: (r: StepProfile['rows'][number]) => number): number => p.rows.reduce((s, r) => s + f(r), 0);
  const total = [
    'total',
    '',
    '',
    ms(sum((r) => r.forwardMs)),
    ms(sum((r) => r.backwardMs)),
    share(p.totalMs),
    String(p.kernels.length),
  ];
  const table = [head, ...body, total];
  const widths = head.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const right = new Set([3, 4, 5, 6]);
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(line(head).length);
  return (
    `${what.model}, batch ${what.batch}, input [${what.input.join(', ')}]: one training step, ${p.kernels.length} kernels, ${ms(p.totalMs)} ms of GPU time\n` +
    `  ${methodLine(p, what.steps)}; on ${what.device}\n` +
    '  a fused kernel counts for the layer of its first op (conv + activation: the conv)\n\n' +
    [line(head), rule, ...body.map(line), rule, line(total)].join('\n') +
    '\n'
  );
}

export function profileJson(what: Profiled, p: StepProfile): object {
  return {
    ...what,
    method: p.method,
    statistic: p.statistic,
    totalMs: p.totalMs,
    layers: p.rows.map((r) => ({ ...r, share: (r.forwardMs + r.backwardMs) / p.totalMs })),
    kernels: p.kernels.map((k) => ({ name: k.kernel, phase: k.origin.phase, ops: k.origin.ops, ms: k.ms })),
  };
}
