// `cnnc weights W.safetensors [--name PATTERN] [--json]`: the tensors of a checkpoint (a state_dict
// from `cnnc train --save` or PyTorch, or the optimizer file beside it) printed as PyTorch prints
// them, each headed by its name, dtype, shape and min/max/mean/std, after a short header from the
// file's metadata (model, step and epoch; for optimizer files the optimizer's settings).
import { readCheckpoint, type StoredTensor } from '../train/checkpoint.ts';
import { formatScalar, formatTensor, type PrintDType } from '../format/torch-print.ts';
import { UserError } from '../errors.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';

const DTYPE_NAMES: Record<StoredTensor['dtype'], PrintDType> = {
  F32: 'float32',
  F64: 'float64',
  I32: 'int32',
  I64: 'int64',
};

/** torch.min, max, mean and std (unbiased, n - 1) in float64; NaN propagates as in PyTorch. Integer tensors: min and max. */
export interface TensorStats {
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly std: number | null;
}

export function tensorStats(t: StoredTensor): TensorStats {
  const n = t.data.length;
  if (n === 0) return { min: null, max: null, mean: null, std: null };
  const values = t.data instanceof BigInt64Array ? Array.from(t.data, Number) : t.data;
  let [min, max, sum] = [Infinity, -Infinity, 0];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // Math.min/max propagate NaN, as torch.min/max do.
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  if (t.dtype === 'I32' || t.dtype === 'I64') return { min, max, mean: null, std: null };
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
  // torch.std of one element is NaN (n - 1 = 0), not 0.
  return { min, max, mean, std: n > 1 ? Math.sqrt(squares / (n - 1)) : NaN };
}

/**
 * `--name`: a glob on the whole name when PATTERN has a glob character; else the name itself where
 * a tensor has it (`0.weight` is net[0].weight, not also 10.weight), otherwise a substring.
 */
export function nameMatcher(pattern: string, names: readonly string[]): (name: string) => boolean {
  if (!/[*?[]/.test(pattern))
    return names.includes(pattern) ? (name) => name === pattern : (name) => name.includes(pattern);
  // As Python's fnmatch: `[!...]` negates, a `[` with no `]` after it is literal.
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const close = c === '[' ? pattern.indexOf(']', i + 2) : -1;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (close > 0) {
      const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body.startsWith('^') ? `\\${body}` : body}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${re}$`, 's');
  return (name) => regex.test(name);
}

/** State_dict names in a natural order: dot-separated parts, numbers compared as numbers (2 before 10). */
export function compareNames(a: string, b: string): number {
  const [pa, pb] = [a.split('.'), b.split('.')];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i]!, pb[i]!];
    if (x === y) continue;
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

const group = (x: number): string => x.toLocaleString('en-US');

/** What the metadata says about the file, in a few lines (unknown keys listed as they are). */
function header(path: string, meta: Readonly<Record<string, string>>, count: number, values: number): string[] {
  const optimizer = meta.format === 'cnnc-optimizer';
  const what = meta.model !== undefined ? `${optimizer ? 'optimizer state' : 'weights'} of model ${meta.model}, ` : '';
  const lines = [`${path}: ${what}${count} tensor${count === 1 ? '' : 's'}, ${group(values)} values`];
  const progress = [
    meta.steps !== undefined ? `step ${meta.steps}` : '',
    meta.epoch !== undefined ? `epoch ${meta.epoch}` : '',
  ].filter((s) => s !== '');
  if (meta.epoch_batches !== undefined)
    progress.push(`stopped after batch ${meta.epoch_batches} of epoch ${Number(meta.epoch) + 1}`);
  if (progress.length > 0) lines.push(`  ${progress.join(', ')}`);
  const settings = ['optimizer', 'lr', 'momentum', 'weight_decay', 'seed', 'batch', 'shuffle'].filter(
    (k) => meta[k] !== undefined,
  );
  if (settings.length > 0) lines.push(`  ${settings.map((k) => `${k} ${meta[k]}`).join(', ')}`);
  // Shown above, or cnnc's bookkeeping (the pair id, the curves, the loss sum of a partial epoch).
  const shown = new Set([
    'format',
    'model',
    'steps',
    'epoch',
    'epoch_batches',
    'epoch_samples',
    'epoch_loss_sum',
    'history',
    'pair',
    ...settings,
  ]);
  for (const [k, v] of Object.entries(meta))
    if (!shown.has(k)) lines.push(`  ${k}: ${v.length > 60 ? `${v.slice(0, 57)}...` : v}`);
  return lines;
}

function statsLine(name: string, t: StoredTensor, s: TensorStats): string {
  const dtype = DTYPE_NAMES[t.dtype];
  const shown = (Object.entries(s) as [string, number | null][]).filter(([, v]) => v !== null);
  return [
    `${name}  ${dtype} [${t.shape.join(', ')}]`,
    ...shown.map(([k, v]) => `${k} ${formatScalar(v!, t.dtype === 'F32' || t.dtype === 'F64' ? 'float64' : 'int64')}`),
  ].join('  ');
}

/** A JSON number for a stored value: the shortest decimal that reads back as the same float32; NaN and infinities as strings. */
function jsonValue(v: number | bigint, f32: boolean): number | string {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (!f32) return v;
  // If p digits read back as v, so do p + 1 (a decimal at least as close): bisect 1..9 (9 always
  // do). Checked against a linear search on 2M random float32s and every power of two.
  let [lo, hi] = [1, 9];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Math.fround(Number(v.toPrecision(mid))) === v) hi = mid;
    else lo = mid + 1;
  }
  return Number(v.toPrecision(lo));
}

/** Streams the JSON: a large checkpoint's values would not fit one string. */
function writeJson(
  io: Output,
  path: string,
  meta: Readonly<Record<string, string>>,
  tensors: readonly [string, StoredTensor][],
): void {
  io.out(`{"file":${JSON.stringify(path)},"metadata":${JSON.stringify(meta)},"tensors":[`);
  tensors.forEach(([name, t], i) => {
    const s = tensorStats(t);
    const f32 = t.dtype === 'F32';
    // min and max are stored values; mean and std are float64 results.
    const stat = (v: number | null, stored: boolean) => (v === null ? null : jsonValue(v, stored && f32));
    const head = {
      name,
      dtype: DTYPE_NAMES[t.dtype],
      shape: t.shape,
      numel: t.data.length,
      min: stat(s.min, true),
      max: stat(s.max, true),
      mean: stat(s.mean, false),
      std: stat(s.std, false),
    };
    io.out(`${i > 0 ? ',' : ''}${JSON.stringify(head).slice(0, -1)},"values":[`);
    const CHUNK = 65536;
    for (let at = 0; at < t.data.length; at += CHUNK) {
      const part = Array.from(t.data.subarray(at, at + CHUNK) as ArrayLike<number | bigint>, (v) =>
        JSON.stringify(jsonValue(v, f32)),
      );
      io.out(`${at > 0 ? ',' : ''}${part.join(',')}`);
    }
    io.out(']}');
  });
  io.out(']}\n');
}

export function weightsCommand(file: string, flags: Flags<'weights'>, io: Output): number {
  const ckpt = readCheckpoint(file);
  const all = [...ckpt.tensors].sort(([a], [b]) => compareNames(a, b));
  const match =
    flags.name === undefined
      ? () => true
      : nameMatcher(
          flags.name,
          all.map(([n]) => n),
        );
  const chosen = all.filter(([name]) => match(name));
  if (flags.name !== undefined && chosen.length === 0) {
    const names = all.map(([n]) => n);
    const listed =
      names.length === 0
        ? 'no tensors'
        : names.length > 12
          ? `${names.slice(0, 12).join(', ')}, ...`
          : names.join(', ');
    throw new UserError(`no tensor of ${file} matches '${flags.name}' (it holds ${listed})`);
  }
  if (flags.json) {
    writeJson(io, file, ckpt.metadata, chosen);
    return 0;
  }
  const values = all.reduce((s, [, t]) => s + t.data.length, 0);
  const blocks = chosen.map(
    ([name, t]) =>
      `${statsLine(name, t, tensorStats(t))}\n${formatTensor(t.shape, t.data, { dtype: DTYPE_NAMES[t.dtype] })}`,
  );
  io.out(`${[header(file, ckpt.metadata, all.length, values).join('\n'), ...blocks].join('\n\n')}\n`);
  return 0;
}
