// Fuzz inputs for the CLI (issue 13): token edits of the examples, deep nesting and long chains of
// each construct, extreme numbers, unicode, byte order marks and CR line ends, and binary junk.
// Every generator draws only from the seeded generator it is given, so a seed names a case list.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mulberry32 } from '../../runtime/random.ts';
import { nestingLimit } from '../../compiler/syntax/lexer.ts';

export interface FuzzCase {
  /** What was done, to reproduce and to read in a failure. */
  readonly name: string;
  /** The generator that made it (`tokenEdits`, `deep`, `numbers`, ...). */
  readonly generator: string;
  readonly content: string | Uint8Array;
}

const examplesDir = join(import.meta.dirname, '..', '..', 'dsl-examples');
export const examples: readonly { name: string; text: string }[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.cnn'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(join(examplesDir, f), 'utf8') }));

// Close to the lexer's tokens; whitespace and comments are tokens too, so joining gives the text back.
const tokenPattern = /\s+|#[^\n]*|"[^"\n]*"?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|->|\/\/|==|!=|<=|>=|[\s\S]/g;
const tokensOf = (text: string): string[] => text.match(tokenPattern) ?? [];
const isCode = (t: string): boolean => !/^\s|^#/.test(t);
const pool: readonly string[] = [...new Set(examples.flatMap((e) => tokensOf(e.text).filter(isCode)))];

export const extremeNumbers = [
  '1e308',
  '1e400',
  '-0',
  '0',
  '0.0',
  '4294967297',
  '1e39',
  '1e-400',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '-1',
  '2147483648',
  '0.5',
  '1e9',
  '65536',
];
const unicode = ['é', 'Ω', '名前', '😀', '\u200b', '\u00a0', 'ﬁ', '\u202e', 'ß', '\ufeff'];

class Rng {
  private readonly r: Mulberry32;
  constructor(seed: number) {
    this.r = new Mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.r.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

type Made = Omit<FuzzCase, 'generator'>;

function tokenEdits(rng: Rng): Made {
  const ex = rng.pick(examples);
  const toks = tokensOf(ex.text);
  const code = toks.map((t, i) => (isCode(t) ? i : -1)).filter((i) => i >= 0);
  const edits: string[] = [];
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const i = rng.pick(code);
    const j = rng.pick(code);
    const op = rng.pick(['delete', 'duplicate', 'swap', 'replace'] as const);
    if (op === 'delete') toks[i] = '';
    else if (op === 'duplicate') toks[i] = `${toks[i]} ${toks[i]}`;
    else if (op === 'swap') [toks[i], toks[j]] = [toks[j]!, toks[i]!];
    else toks[i] = rng.pick(pool);
    edits.push(`${op}@${i}`);
  }
  return { name: `${ex.name} ${edits.join(' ')}`, content: toks.join('') };
}

/** `stmt` placed right after the `input [...]` line of the example's last model. */
function withStatement(text: string, stmt: string): string {
  const inputs = [...text.matchAll(/^[ \t]*input \[[^\n]*\n/gm)];
  const last = inputs.at(-1);
  if (last === undefined) return `${text}\nmodel Fuzz {\n  input [1, 8, 8]\n  ${stmt}\n}\n`;
  const at = last.index + last[0].length;
  return `${text.slice(0, at)}  ${stmt}\n${text.slice(at)}`;
}

const nested: Readonly<Record<string, (n: number) => string>> = {
  parens: (n) => `z = ${'('.repeat(n)}1${')'.repeat(n)}`,
  lists: (n) => `z = ${'['.repeat(n)}1${']'.repeat(n)}`,
  tuples: (n) => `z = ${'('.repeat(n)}1${',)'.repeat(n)}`,
  calls: (n) => `z = ${'max(1, '.repeat(n)}2${')'.repeat(n)}`,
  index: (n) => `z = ${'[0, 1]['.repeat(n)}0${']'.repeat(n)}`,
  conditionals: (n) => `z = ${'true ? '.repeat(n)}1${' : 2'.repeat(n)}`,
  ifs: (n) => `${'if true { '.repeat(n)}relu${' }'.repeat(n)}`,
  fors: (n) => `${'for i in [1] { '.repeat(n)}relu${' }'.repeat(n)}`,
  repeats: (n) => `${'repeat 1 { '.repeat(n)}relu${' }'.repeat(n)}`,
  patterns: (n) => `for ${'('.repeat(n)}i${')'.repeat(n)} in [1] { relu }`,
};
const chains: Readonly<Record<string, (n: number) => string>> = {
  minus: (n) => `z = ${'-'.repeat(n)}1`,
  nots: (n) => `z = ${'not '.repeat(n)}true`,
  sum: (n) => `z = ${Array(n).fill('1').join(' + ')}`,
  ands: (n) => `z = ${Array(n).fill('true').join(' and ')}`,
  elseIfs: (n) => `${Array(n).fill('if false { relu }').join(' else ')} else { relu }`,
  ternaryElse: (n) => `z = ${'false ? 1 : '.repeat(n)}2`,
  indexChain: (n) => `z = [1]${'[0]'.repeat(n)}`,
  stages: (n) => Array(n).fill('relu').join(' -> '),
};

function deep(rng: Rng): Made {
  const ex = rng.pick(examples);
  if (rng.int(3) === 0) {
    const [name, make] = rng.pick(Object.entries(chains));
    // A pipeline's stages are layers, and compiling is quadratic in layers (fusion), so fewer.
    const n = name === 'stages' ? rng.pick([100, 300]) : rng.pick([100, 2_000, 10_000]);
    return { name: `${ex.name} chain ${name} x${n}`, content: withStatement(ex.text, make(n)) };
  }
  if (rng.int(8) === 0) {
    const n = rng.pick([nestingLimit * 2, 70, 200]);
    const blocks = Array.from({ length: n }, (_, i) => (i === 0 ? 'block F0 { relu }' : `block F${i} { F${i - 1} }`));
    return {
      name: `${ex.name} block chain x${n}`,
      content: withStatement(`${blocks.join('\n')}\n${ex.text}`, `F${n - 1}`),
    };
  }
  const [name, make] = rng.pick(Object.entries(nested));
  const n = rng.pick([nestingLimit - 2, nestingLimit - 1, nestingLimit, nestingLimit + 1, 150, 3_000]);
  return { name: `${ex.name} nest ${name} x${n}`, content: withStatement(ex.text, make(n)) };
}

function numbers(rng: Rng): Made {
  const ex = rng.pick(examples);
  const toks = tokensOf(ex.text);
  const nums = toks.map((t, i) => (/^\d/.test(t) ? i : -1)).filter((i) => i >= 0);
  const edits: string[] = [];
  for (let k = 1 + rng.int(2); k > 0 && nums.length > 0; k--) {
    const i = rng.pick(nums);
    toks[i] = rng.pick(extremeNumbers);
    edits.push(`${i}=${toks[i]}`);
  }
  return { name: `${ex.name} numbers ${edits.join(' ')}`, content: toks.join('') };
}

function unicodeEdit(rng: Rng): Made {
  const ex = rng.pick(examples);
  const toks = tokensOf(ex.text);
  const code = toks.map((t, i) => (isCode(t) ? i : -1)).filter((i) => i >= 0);
  const i = rng.pick(code);
  const u = rng.pick(unicode);
  const how = rng.pick(['append', 'replace', 'string'] as const);
  toks[i] = how === 'append' ? `${toks[i]}${u}` : how === 'replace' ? u : `"${u}"`;
  return { name: `${ex.name} unicode ${how} ${JSON.stringify(u)}@${i}`, content: toks.join('') };
}

function lineEnds(rng: Rng): Made {
  const ex = rng.pick(examples);
  const eol = rng.pick(['\r', '\r\n', 'mixed'] as const);
  let text =
    eol === 'mixed' ? ex.text.replace(/\n/g, () => rng.pick(['\n', '\r', '\r\n'])) : ex.text.replace(/\n/g, eol);
  const bom = rng.int(2) === 0;
  if (bom) text = `\ufeff${text}`;
  // Half the cases also break a line, so that an error's line:col is exercised.
  const broken = rng.int(2) === 0;
  if (broken) text = text.replace(/input \[/, 'input [[');
  return { name: `${ex.name} eol ${JSON.stringify(eol)}${bom ? ' bom' : ''}${broken ? ' broken' : ''}`, content: text };
}

function binary(rng: Rng): Made {
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rng.int(256));
  if (rng.int(2) === 0) {
    const n = 1 + rng.int(400);
    return { name: `binary ${n} bytes`, content: bytes(n) };
  }
  const ex = rng.pick(examples);
  const text = Buffer.from(ex.text, 'utf8');
  const at = rng.int(text.length);
  const junk = bytes(1 + rng.int(16));
  return {
    name: `${ex.name} bytes@${at} x${junk.length}`,
    content: Buffer.concat([text.subarray(0, at), junk, text.subarray(at)]),
  };
}

const generators = [tokenEdits, tokenEdits, tokenEdits, deep, deep, numbers, unicodeEdit, lineEnds, binary];

/** `count` cases drawn from `seed`. */
export function fuzzCases(seed: number, count: number): FuzzCase[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const generator = rng.pick(generators);
    const c = generator(rng);
    return { ...c, generator: generator.name, name: `#${i} ${generator.name} ${c.name}` };
  });
}
