// `--tune off|cached|search` as the model's choices: none (the rules' kernels), the tuning cache's
// for this device, or the cache's after tuning the kernels it lacks (then saved in it).
import { gemmSites } from '../../compiler/codegen/tuning/site.ts';
import { UserError } from '../errors.ts';
import type { ChoicesFor } from '../model.ts';
import { cachePath, deviceIdentity, readCache, type TunedEntry, writeCache } from './cache.ts';
import { type SiteResult, type TuneOptions, tuneSites } from './tuner.ts';

export type TuneMode = 'off' | 'cached' | 'search';

export function tuneMode(flag: string | undefined, fallback: TuneMode = 'cached'): TuneMode {
  if (flag === undefined) return fallback;
  if (flag === 'off' || flag === 'cached' || flag === 'search') return flag;
  throw new UserError(`--tune must be off, cached or search, got '${flag}'`);
}

/** What a tuning keeps in the cache: the kept choice and the times behind it. */
export const entryOf = (r: SiteResult): TunedEntry => ({
  choice: r.tuned.choice,
  rulesMs: r.rules.ms,
  tunedMs: r.tuned.ms,
});

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
    const path = cachePath();
    const identity = deviceIdentity(gpu.adapter);
    const cached = readCache(path, identity, warn);
    if (mode === 'search') {
      const sites = gemmSites(withRules().program, limits).filter((s) => !cached.has(s.key));
      if (sites.length > 0) {
        progress(`tuning ${sites.length} kernels the cache lacks (cnnc tune; results go to ${path})`);
        const tuned = new Map((await tuneSites(gpu, sites, { ...options, progress })).map((r) => [r.key, entryOf(r)]));
        writeCache(path, identity, tuned);
        for (const [key, entry] of tuned) cached.set(key, entry);
      }
    }
    return new Map([...cached].map(([key, e]) => [key, e.choice]));
  };
}
