// `--tune off|cached|search` as the model's choices: none (the rules' kernels), the tuning cache's
// for this device, or the cache's after tuning the kernels it lacks (then saved in it).
import { gemmSites } from '../../compiler/codegen/tuning/site.ts';
import { UserError } from '../errors.ts';
import type { ChoicesFor } from '../model.ts';
import { cachePath, deviceIdentity, readCache, type TunedEntry, writeCache } from './cache.ts';
import type { Gpu } from '../gpu/device.ts';
import { type SiteResult, type SiteToTune, type TuneOptions, tuneSites } from './tuner.ts';

export type TuneMode = 'off' | 'cached' | 'search';

export function tuneMode(flag: string | undefined, fallback: TuneMode = 'cached'): TuneMode {
  if (flag === undefined) return fallback;
  if (flag === 'off' || flag === 'cached' || flag === 'search') return flag;
  throw new UserError(`--tune must be off, cached or search, got '${flag}'`);
}

/** What a tuning keeps in the cache: the kept choice and the times behind it. */
const entryOf = (r: SiteResult): TunedEntry => ({
  choice: r.tuned.choice,
  rulesMs: r.rules.ms,
  tunedMs: r.tuned.ms,
});

/** How tuneAndSave tunes: which sites, whether it saves, and where its lines go. */
export interface TuneAndSave {
  /** Tune only the sites the cache lacks (else all of them). */
  readonly onlyMissing: boolean;
  /** Save the tunings in the cache (`--tune off` times the rules alone and saves nothing). */
  readonly save: boolean;
  /** A cache problem, one line. */
  readonly warn: (line: string) => void;
  /** Called before tuning with the number of sites to tune and the cache's path. */
  readonly starting?: (sites: number, path: string) => void;
  readonly options?: TuneOptions;
}

/**
 * Reads this device's tuning cache, tunes `sites` on the device and saves what they keep; returns
 * the cache's path, its entries (with those just tuned) and the tuning results.
 */
export async function tuneAndSave(
  gpu: Gpu,
  sites: readonly SiteToTune[],
  how: TuneAndSave,
): Promise<{ path: string; cached: Map<string, TunedEntry>; results: SiteResult[] }> {
  const path = cachePath();
  const identity = deviceIdentity(gpu.adapter);
  const cached = readCache(path, identity, how.warn);
  const todo = how.onlyMissing ? sites.filter((s) => !cached.has(s.key)) : sites;
  if (todo.length === 0) return { path, cached, results: [] };
  how.starting?.(todo.length, path);
  const results = await tuneSites(gpu, todo, how.options);
  const tuned = new Map(results.map((r) => [r.key, entryOf(r)]));
  if (how.save) writeCache(path, identity, tuned);
  for (const [key, entry] of tuned) cached.set(key, entry);
  return { path, cached, results };
}

/**
 * The model's choices for `mode`; `warn` and `progress` print a line each (cache problems, tuned
 * kernels); `options` go to the tuner (a search's candidates per kernel).
 */
export function choicesFor(
  mode: TuneMode,
  warn: (line: string) => void,
  progress: (line: string) => void,
  options: Omit<TuneOptions, 'progress'> = {},
): ChoicesFor | undefined {
  if (mode === 'off') return undefined;
  return async (gpu, withRules, limits) => {
    const cached =
      mode === 'search'
        ? (
            await tuneAndSave(gpu, gemmSites(withRules().program, limits), {
              onlyMissing: true,
              save: true,
              warn,
              starting: (n, path) => progress(`tuning ${n} kernels the cache lacks (cnnc tune; results go to ${path})`),
              options: { ...options, progress },
            })
          ).cached
        : readCache(cachePath(), deviceIdentity(gpu.adapter), warn);
    return new Map([...cached].map(([key, e]) => [key, e.choice]));
  };
}
