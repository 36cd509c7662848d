// Built-in functions on parameter values: enumerate, range, len, min, max, int, round.
import type { DiagCode } from '../diagnostics/codes.ts';
import { isSeq, MAX_ITEMS, num, seq, seqItems, seqLength, show, typeName, type Value } from './values.ts';

/** A failure's code defaults to E0204 (wrong argument type). */
type Result = { ok: true; value: Value } | { ok: false; message: string; code?: DiagCode };

type Failure = Extract<Result, { ok: false }>;

const tooLong = (name: string, v: Value): Failure => ({
  ok: false,
  code: 'E0211',
  message: `\`${name}\` would list ${show(v)}, more than ${MAX_ITEMS} items`,
});

const numbers = (name: string, args: readonly Value[]): number[] | Failure => {
  const one = args.length === 1 ? args[0]! : null;
  const flat = one !== null && isSeq(one) ? seqItems(one) : args;
  if (flat === null) return tooLong(name, one!);
  if (flat.length === 0) return { ok: false, message: `\`${name}\` needs at least one number` };
  const out: number[] = [];
  for (const v of flat) {
    if (v.kind !== 'num') return { ok: false, message: `\`${name}\` takes numbers, got ${typeName(v)}` };
    out.push(v.value);
  }
  return out;
};

function unaryNumber(name: string, args: readonly Value[], f: (x: number) => number): Result {
  const [x] = args;
  if (args.length !== 1 || x?.kind !== 'num') return { ok: false, message: `\`${name}\` takes one number` };
  return { ok: true, value: num(f(x.value)) };
}

const table: Record<string, (args: readonly Value[]) => Result> = {
  enumerate: (args) => {
    const [s] = args;
    if (args.length !== 1 || s === undefined || !isSeq(s))
      return { ok: false, message: '`enumerate` takes one tuple or list' };
    const items = seqItems(s);
    if (items === null) return tooLong('enumerate', s);
    return { ok: true, value: seq(items.map((v, i) => seq([num(i), v]))) };
  },
  range: (args) => {
    if (args.length === 0 || args.length > 2 || !args.every((a) => a.kind === 'num' && Number.isInteger(a.value))) {
      return {
        ok: false,
        message: `\`range\` takes one or two integers: range(n) or range(start, end), got ${args.map(show).join(', ') || 'none'}`,
      };
    }
    const ns = args.map((a) => (a as { value: number }).value);
    // Beyond 2^53 consecutive integers are no longer distinct doubles.
    if (!ns.every(Number.isSafeInteger))
      return {
        ok: false,
        code: 'E0211',
        message: `\`range\` bounds must be within +-${Number.MAX_SAFE_INTEGER}, got ${ns.join(', ')}`,
      };
    const [start, end] = ns.length === 1 ? [0, ns[0]!] : [ns[0]!, ns[1]!];
    return { ok: true, value: { kind: 'range', start, end: Math.max(start, end) } };
  },
  // Python's int() truncates toward zero; round() rounds half to even (d2l: int(round(c * bot_mul))).
  int: (args) => unaryNumber('int', args, Math.trunc),
  round: (args) =>
    unaryNumber('round', args, (x) => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    }),
  len: (args) => {
    const [s] = args;
    if (args.length !== 1 || s === undefined || !isSeq(s))
      return { ok: false, message: '`len` takes one tuple or list' };
    return { ok: true, value: num(seqLength(s)) };
  },
  min: (args) => {
    const ns = numbers('min', args);
    return Array.isArray(ns) ? { ok: true, value: num(ns.reduce((a, b) => Math.min(a, b))) } : ns;
  },
  max: (args) => {
    const ns = numbers('max', args);
    return Array.isArray(ns) ? { ok: true, value: num(ns.reduce((a, b) => Math.max(a, b))) } : ns;
  },
};

export const builtinFunctions: ReadonlySet<string> = new Set(Object.keys(table));

export function evalBuiltin(name: string, args: readonly Value[]): Result {
  const f = table[name];
  return f ? f(args) : { ok: false, message: `unknown function \`${name}\`` };
}
