// `cnnc tune FILE [--batch-size N] [--json]`: times each GEMM kernel's variants on this adapter
// (runtime/tune/tuner.ts) and keeps the fastest in the tuning cache, which train, eval and predict
// read (`--tune cached`, their default). Per kernel: its key (family and shape), the rules' choice
// and time, the tuned choice and time, and the speed-up. `--tune cached` tunes only the kernels
// the cache lacks, `--tune off` times the rules' kernels alone and writes nothing.
import { describeChoice } from '../../compiler/codegen/tuning/choice.ts';
import { gemmSites } from '../../compiler/codegen/tuning/site.ts';
import { openGpu } from '../gpu/dawn.ts';
import { tuneAndSave, tuneMode } from '../tune/choices.ts';
import type { SiteResult, Timed } from '../tune/tuner.ts';
import { compileOrReport, modelFrontend, modelOption } from './flags.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';

/** A kernel's row: tuned now, or read from the cache (`--tune cached`). */
interface Row {
  readonly key: string;
  readonly source: string | null;
  readonly rules: Timed;
  readonly tuned: Timed;
  readonly from: 'tuned' | 'cache';
  readonly result?: SiteResult;
}

export async function tuneCommand(file: string, flags: Flags<'tune'>, io: Output): Promise<number> {
  const mode = tuneMode(flags.tune, 'search');
  const front = modelFrontend(file, flags, io);
  if (!front) return 1;
  const batch = flags['batch-size'] ?? front.train!.batch;
  const gpu = await openGpu();
  try {
    const compiled = compileOrReport(front, { limits: gpu.limits, batch, training: true, ...modelOption(flags) }, io);
    if (!compiled) return 1;
    const sites = gemmSites(compiled.program, gpu.limits);
    const { path, cached, results } = await tuneAndSave(gpu, sites, {
      onlyMissing: mode === 'cached',
      save: mode !== 'off',
      warn: (line) => io.err(`cnnc: warning: ${line}\n`),
      options: {
        ...(mode === 'off'
          ? { candidates: 1 }
          : flags.candidates !== undefined
            ? { candidates: flags.candidates }
            : {}),
        ...(flags.json ? {} : { progress: (line: string) => io.err(`${line}\n`) }),
      },
    });
    const byKey = new Map(results.map((r) => [r.key, r]));
    const rows: Row[] = sites.map((s) => {
      const source = s.origin.sources[0] ?? null;
      const r = byKey.get(s.key);
      if (r) return { key: s.key, source, rules: r.rules, tuned: r.tuned, from: 'tuned', result: r };
      const e = cached.get(s.key)!;
      return {
        key: s.key,
        source,
        rules: { choice: {}, ms: e.rulesMs },
        tuned: { choice: e.choice, ms: e.tunedMs },
        from: 'cache',
      };
    });
    const what = {
      model: compiled.graph.model,
      batch,
      device: gpu.adapterName,
      method: gpu.timestamps ? 'timestamps' : 'wall-clock',
      cache: mode === 'off' ? null : path,
    };
    io.out(flags.json ? `${JSON.stringify(tuneJson(what, rows), null, 2)}\n` : renderTune(what, rows));
    return 0;
  } finally {
    gpu.dispose();
  }
}

interface Tuned {
  readonly model: string;
  readonly batch: number;
  readonly device: string;
  readonly method: string;
  readonly cache: string | null;
}

const total = (rows: readonly Row[], pick: (r: Row) => number): number => rows.reduce((s, r) => s + pick(r), 0);

function renderTune(what: Tuned, rows: readonly Row[]): string {
  const ms = (v: number): string => `${v.toFixed(3)} ms`;
  const lines = rows.flatMap((r) => {
    const extra = r.result
      ? `${r.result.timed} candidates, ${r.result.stopped} stopped early${r.result.refused.length ? `, ${r.result.refused.length} refused (failed or wrong results)` : ''}`
      : 'from the cache';
    const kept = r.result ? r.tuned.choice !== r.result.rules.choice : true;
    return [
      `${r.key}${r.source ? `  (${r.source})` : ''}`,
      `  rules  ${ms(r.rules.ms).padStart(12)}  ${r.from === 'cache' ? '' : describeChoice(r.rules.choice)}`,
      `  tuned  ${ms(r.tuned.ms).padStart(12)}  ${kept ? describeChoice(r.tuned.choice) : "the rules' choice"}`,
      `  speed-up ${(r.rules.ms / r.tuned.ms).toFixed(2)}x  (${extra})`,
    ];
  });
  const rulesMs = total(rows, (r) => r.rules.ms);
  const tunedMs = total(rows, (r) => r.tuned.ms);
  return (
    `${what.model}, batch ${what.batch}: ${rows.length} GEMM kernels on ${what.device}, timed by ${what.method}\n` +
    `${what.cache ? `  tuning cache: ${what.cache}` : '  --tune off: the rules alone, nothing saved'}\n\n` +
    `${lines.join('\n')}\n\n` +
    `all ${rows.length} kernels once each: rules ${ms(rulesMs)}, tuned ${ms(tunedMs)} (${(rulesMs / tunedMs).toFixed(2)}x)\n`
  );
}

function tuneJson(what: Tuned, rows: readonly Row[]): object {
  return {
    ...what,
    kernels: rows.map((r) => ({
      key: r.key,
      source: r.source,
      from: r.from,
      rules: r.rules,
      tuned: r.tuned,
      speedup: r.rules.ms / r.tuned.ms,
      ...(r.result ? { candidates: r.result.timed, stoppedEarly: r.result.stopped, refused: r.result.refused } : {}),
    })),
    rulesMs: total(rows, (r) => r.rules.ms),
    tunedMs: total(rows, (r) => r.tuned.ms),
  };
}
