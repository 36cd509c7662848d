// The tuner: for each GEMM site, its candidates (compiler/codegen/tuning/candidates.ts) timed on
// the device, the rules' choice first; a candidate stops after one timed run once it is 3x slower
// than the best so far. The fastest that beats the rules by the margin is timed again against the
// rules, interleaved, and must win every round (other processes share the machine); then it is
// checked against the float64 reference on the site's exact shape; one that fails is refused and
// the next tried. Otherwise the rules' choice stays: tuning never makes a kernel slower than the
// rules as measured.
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import type { KernelFrame } from '../../compiler/codegen/module.ts';
import type { DeviceLimits } from '../../compiler/codegen/limits.ts';
import { candidates } from '../../compiler/codegen/tuning/candidates.ts';
import type { GemmChoice } from '../../compiler/codegen/tuning/choice.ts';
import { type GemmSite, siteKernels } from '../../compiler/codegen/tuning/site.ts';
import type { Gpu } from '../gpu/device.ts';
import { checkKernels } from './check.ts';
import { KernelTimer } from './timing.ts';

/** Candidates timed per kernel by default, the rules' included: the rules' single-knob neighbours, about. */
export const DEFAULT_CANDIDATES = 16;
/** A candidate replaces the rules only when this much faster (timing noise). */
const MARGIN = 0.03;
/** A candidate stops after one timed run once this many times slower than the best so far. */
const STOP_RATIO = 3;

export interface TuneOptions {
  /** Candidates timed per kernel, the rules' included (default DEFAULT_CANDIDATES). */
  readonly candidates?: number;
  /** A line per kernel as it is done. */
  readonly progress?: (line: string) => void;
  /** Test hooks: the candidates and their kernels (defaults: candidates.ts, siteKernels). */
  readonly enumerate?: (site: GemmSite, limits: DeviceLimits, max: number) => GemmChoice[];
  readonly build?: (site: GemmSite, frame: KernelFrame, choice: GemmChoice) => KernelModule[];
}

export interface Timed {
  readonly choice: GemmChoice;
  readonly ms: number;
}

export interface SiteResult {
  readonly key: string;
  readonly rules: Timed;
  /** The kept choice: a candidate, or the rules' (then `tuned.choice` is `rules.choice`). */
  readonly tuned: Timed;
  readonly timed: number;
  /** Candidates stopped early (3x slower than the best). */
  readonly stopped: number;
  /** Candidates the driver refused, and faster ones whose results differ from the reference. */
  readonly refused: readonly { readonly choice: GemmChoice; readonly why: string }[];
}

export interface SiteToTune {
  readonly key: string;
  readonly site: GemmSite;
  readonly origin: KernelOrigin;
}

/** Tunes every site, in order, on one timer (buffers shared by each site's candidates). */
export async function tuneSites(
  gpu: Gpu,
  sites: readonly SiteToTune[],
  options: TuneOptions = {},
): Promise<SiteResult[]> {
  const timer = new KernelTimer(gpu);
  try {
    const out: SiteResult[] = [];
    for (const s of sites) {
      const result = await tuneSite(gpu, timer, s, options);
      options.progress?.(progressLine(result, out.length + 1, sites.length));
      out.push(result);
    }
    return out;
  } finally {
    timer.dispose();
  }
}

function progressLine(r: SiteResult, i: number, n: number): string {
  const speedup = r.rules.ms / r.tuned.ms;
  return `tuned ${i}/${n}: ${r.key}: ${r.rules.ms.toFixed(3)} -> ${r.tuned.ms.toFixed(3)} ms (${speedup.toFixed(2)}x, ${r.timed} candidates)`;
}

interface Run extends Timed {
  readonly kernels: readonly KernelModule[];
  readonly stopped: boolean;
}

async function tuneSite(gpu: Gpu, timer: KernelTimer, s: SiteToTune, options: TuneOptions): Promise<SiteResult> {
  const enumerate = options.enumerate ?? candidates;
  const build = options.build ?? siteKernels;
  const frame: KernelFrame = { name: `tune_${s.site.family}`, origin: s.origin, limits: gpu.limits };
  const runs: Run[] = [];
  let best = Infinity;
  const refused: { choice: GemmChoice; why: string }[] = [];
  for (const choice of enumerate(s.site, gpu.limits, options.candidates ?? DEFAULT_CANDIDATES)) {
    const kernels = build(s.site, frame, choice);
    // A variant the driver refuses is left out; the rules' kernels (the first) must run.
    const t = await timer.time(kernels, STOP_RATIO * best).catch((e: Error) => {
      if (runs.length === 0) throw e;
      refused.push({ choice, why: e.message });
      return null;
    });
    if (!t) continue;
    runs.push({ choice, kernels, ...t });
    if (!t.stopped) best = Math.min(best, t.ms);
  }
  const [rules, ...others] = runs as [Run, ...Run[]];
  const result = { key: s.key, timed: runs.length };
  const stopped = runs.filter((r) => r.stopped).length;
  const keep = (tuned: Timed, rulesMs = rules.ms): SiteResult => ({
    ...result,
    rules: { choice: rules.choice, ms: rulesMs },
    tuned,
    stopped,
    refused,
  });
  const faster = others.filter((r) => !r.stopped && beats(r.ms, rules.ms)).sort((a, b) => a.ms - b.ms);
  for (const candidate of faster) {
    const confirmed = await confirm(timer, rules.kernels, candidate.kernels);
    if (!confirmed) return keep({ choice: rules.choice, ms: rules.ms });
    const [rulesMs, ms] = confirmed;
    const check = await checkKernels(gpu, s.site, candidate.kernels);
    if (check.ok) return keep({ choice: candidate.choice, ms }, rulesMs);
    refused.push({ choice: candidate.choice, why: check.mismatch ?? 'differs from the reference' });
  }
  return keep({ choice: rules.choice, ms: rules.ms });
}

const beats = (ms: number, rulesMs: number): boolean => ms * (1 + MARGIN) < rulesMs;

/** Confirmation rounds: the candidate must beat the rules in every one (a shared machine swings 1.4x). */
const CONFIRM_ROUNDS = 3;

/**
 * Both timed again, alternately: the fastest of each, or null where the candidate failed to beat
 * the rules by the margin in any round (identical kernels measured 1.4x apart under load).
 */
async function confirm(
  timer: KernelTimer,
  rules: readonly KernelModule[],
  candidate: readonly KernelModule[],
): Promise<[number, number] | null> {
  let [best, mine] = [Infinity, Infinity];
  for (let i = 0; i < CONFIRM_ROUNDS; i++) {
    const r = (await timer.time(rules)).ms;
    const c = (await timer.time(candidate)).ms;
    if (!beats(c, r)) return null;
    [best, mine] = [Math.min(best, r), Math.min(mine, c)];
  }
  return [best, mine];
}
