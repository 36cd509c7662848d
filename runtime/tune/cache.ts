// The tuner's cache: one JSON file, $XDG_CACHE_HOME/cnnc/tune.json (default ~/.cache/cnnc/), with
// the tuned choice of every kernel key for every device identity: the adapter's info, subgroup
// sizes, features and limits, the `webgpu` package's version and cnnc's KERNEL_VERSION. A choice
// applies only where all of them match. Written atomically (a temporary file, then a rename); a
// file that cannot be read as a cache, or that holds only other versions' tunings for this
// adapter, is ignored with one warning, never an error.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type GemmChoice, KERNEL_VERSION } from '../../compiler/codegen/tuning/choice.ts';
import type { AdapterFacts } from '../gpu/device.ts';

const FORMAT = 1;

export interface DeviceIdentity {
  readonly adapter: AdapterFacts;
  readonly webgpu: string;
  readonly kernelVersion: number;
}

/** A kernel's tuned choice with the times that chose it. */
export interface TunedEntry {
  readonly choice: GemmChoice;
  readonly rulesMs: number;
  readonly tunedMs: number;
}

interface DeviceRecord {
  readonly identity: DeviceIdentity;
  readonly kernels: Readonly<Record<string, TunedEntry>>;
}

interface CacheFile {
  readonly format: typeof FORMAT;
  readonly devices: readonly DeviceRecord[];
}

export function deviceIdentity(adapter: AdapterFacts): DeviceIdentity {
  const webgpu = (createRequire(import.meta.url)('webgpu/package.json') as { version: string }).version;
  return { adapter, webgpu, kernelVersion: KERNEL_VERSION };
}

/** $XDG_CACHE_HOME/cnnc/tune.json, or ~/.cache/cnnc/tune.json. */
export function cachePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'cnnc', 'tune.json');
}

/** Key order fixed, so that equal identities print equally. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/** The file's records, or why it is not a cache (null: no file). */
function readFile(path: string): { devices: readonly DeviceRecord[] } | { problem: string } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { problem: (e as Error).message };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { problem: `not JSON (${(e as Error).message})` };
  }
  const file = data as Partial<CacheFile> | null;
  if (!file || typeof file !== 'object' || file.format !== FORMAT || !Array.isArray(file.devices))
    return { problem: `not a cnnc tuning cache of format ${FORMAT}` };
  if (
    !file.devices.every((d) => d && typeof d === 'object' && d.identity && d.kernels && typeof d.kernels === 'object')
  )
    return { problem: 'a device record without identity or kernels' };
  return { devices: file.devices };
}

const positiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

/** An entry as the compiler may use it: a well-formed choice (whether it fits its kernel, lowering checks). */
function validEntry(e: unknown): e is TunedEntry {
  const entry = e as Partial<TunedEntry> | null;
  const c = entry?.choice as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object' || typeof entry!.rulesMs !== 'number' || typeof entry!.tunedMs !== 'number')
    return false;
  const t = c['tile'] as Record<string, unknown> | undefined;
  if (t !== undefined && !(positiveInt(t['rowsPerLane']) && positiveInt(t['cols']) && positiveInt(t['lanes'])))
    return false;
  if (t?.['shareU'] !== undefined && typeof t['shareU'] !== 'boolean') return false;
  if (c['runs'] !== undefined && typeof c['runs'] !== 'boolean') return false;
  if (c['splitK'] !== undefined && !positiveInt(c['splitK'])) return false;
  const w = c['workgroup'] as Record<string, unknown> | undefined;
  const sizes = ['rows', 'cols', 'rowsPerLane', 'colsPerLane', 'kBlock'];
  if (w !== undefined && !(typeof w === 'object' && sizes.every((k) => positiveInt(w[k])))) return false;
  if (w?.['vec4'] !== undefined && typeof w['vec4'] !== 'boolean') return false;
  return c['order'] === undefined || c['order'] === 'image' || c['order'] === 'pixel' || c['order'] === 'runs';
}

/**
 * This device's tuned entries by kernel key. `warn` is called at most once: for a file that is
 * not a cache, for malformed entries (left out), or when the file holds tunings for this adapter
 * from another webgpu or kernel version only.
 */
export function readCache(
  path: string,
  identity: DeviceIdentity,
  warn: (message: string) => void,
): Map<string, TunedEntry> {
  const file = readFile(path);
  if (file === null) return new Map();
  if ('problem' in file) {
    warn(`ignoring the tuning cache ${path}: ${file.problem}; kernels use the rules (\`cnnc tune\` rewrites it)`);
    return new Map();
  }
  const key = canonical(identity);
  const mine = file.devices.find((d) => canonical(d.identity) === key);
  if (!mine) {
    const sameAdapter = file.devices.some((d) => canonical(d.identity.adapter) === canonical(identity.adapter));
    if (sameAdapter)
      warn(
        `the tuning cache ${path} holds tunings for this adapter from another webgpu or cnnc kernel version only; ignoring them (run \`cnnc tune\` again)`,
      );
    return new Map();
  }
  const entries = Object.entries(mine.kernels);
  const good = entries.filter(([, e]) => validEntry(e));
  if (good.length < entries.length)
    warn(`ignoring ${entries.length - good.length} malformed entries of the tuning cache ${path}`);
  return new Map(good);
}

/** Adds (or replaces) this device's `entries`, keeping every other record; atomic. An unreadable file is replaced. */
export function writeCache(path: string, identity: DeviceIdentity, entries: ReadonlyMap<string, TunedEntry>): void {
  const file = readFile(path);
  const devices = file && 'devices' in file ? file.devices : [];
  const key = canonical(identity);
  const old = devices.find((d) => canonical(d.identity) === key);
  const record: DeviceRecord = { identity, kernels: { ...(old?.kernels ?? {}), ...Object.fromEntries(entries) } };
  const out: CacheFile = { format: FORMAT, devices: [...devices.filter((d) => d !== old), record] };
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(out, null, 1)}\n`);
  renameSync(temporary, path);
}
