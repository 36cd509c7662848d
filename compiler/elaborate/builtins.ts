// Built-in functions on parameter values: enumerate, range, len, min, max, int, round.
import { num, seq, typeName, type Value } from './values.ts';

type Result = { ok: true; value: Value } | { ok: false; message: string };

const numbers = (name: string, args: readonly Value[]): number[] | string => {
  const flat = args.length === 1 && args[0]?.kind === 'seq' ? args[0].items : args;
  if (flat.length === 0) return `\`${name}\` needs at least one number`;
  const out: number[] = [];
  for (const v of flat) {
    if (v.kind !== 'num') return `\`${name}\` takes numbers, got ${typeName(v)}`;
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
    if (args.length !== 1 || s?.kind !== 'seq') return { ok: false, message: '`enumerate` takes one tuple or list' };
    return { ok: true, value: seq(s.items.map((v, i) => seq([num(i), v]))) };
  },
  range: (args) => {
    const ns = numbers('range', args);
    if (typeof ns === 'string') return { ok: false, message: ns };
    if (ns.length > 2 || !ns.every(Number.isInteger)) return { ok: false, message: '`range` takes one or two integers: range(n) or range(start, end)' };
    const [start, end] = ns.length === 1 ? [0, ns[0]!] : [ns[0]!, ns[1]!];
    return { ok: true, value: seq(Array.from({ length: Math.max(0, end - start) }, (_, i) => num(start + i))) };
  },
  // Python's int() truncates toward zero; round() rounds half to even (d2l: int(round(c * bot_mul))).
  int: (args) => unaryNumber('int', args, Math.trunc),
  round: (args) => unaryNumber('round', args, (x) => {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }),
  len: (args) => {
    const [s] = args;
    if (args.length !== 1 || s?.kind !== 'seq') return { ok: false, message: '`len` takes one tuple or list' };
    return { ok: true, value: num(s.items.length) };
  },
  min: (args) => {
    const ns = numbers('min', args);
    return typeof ns === 'string' ? { ok: false, message: ns } : { ok: true, value: num(Math.min(...ns)) };
  },
  max: (args) => {
    const ns = numbers('max', args);
    return typeof ns === 'string' ? { ok: false, message: ns } : { ok: true, value: num(Math.max(...ns)) };
  },
};

export const builtinFunctions: ReadonlySet<string> = new Set(Object.keys(table));

export function evalBuiltin(name: string, args: readonly Value[]): Result {
  const f = table[name];
  return f ? f(args) : { ok: false, message: `unknown function \`${name}\`` };
}
