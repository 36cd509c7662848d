// Lexing and the newline filter. The grammar treats a newline as a statement separator, but
// many newlines are only layout (docs/language.md, "Lexical structure"); the filter removes
// those here so the parser only ever sees newlines that end a statement or a train entry.
import { createTokenInstance, Lexer } from 'chevrotain';
import type { IToken, TokenType } from 'chevrotain';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { SourceFile } from '../diagnostics/source.ts';
import * as T from './tokens.ts';

const lexer = new Lexer([...T.allTokens], { ensureOptimizations: true });

// A line that ends with one of these continues on the next line.
const continuesAfter: ReadonlySet<TokenType> = new Set([
  T.Arrow,
  T.Comma,
  T.Assign,
  T.LCurly,
  T.Question,
  T.Colon,
  T.Not,
  T.And,
  T.Or,
  T.Plus,
  T.Minus,
  T.Star,
  T.Slash,
  T.FloorDiv,
  T.Percent,
  T.EqEq,
  T.NotEq,
  T.Lt,
  T.LtEq,
  T.Gt,
  T.GtEq,
]);
// A line that starts with one of these continues the previous line.
const continuesBefore: ReadonlySet<TokenType> = new Set([T.Arrow, T.Else, T.RCurly]);

const closerOf: ReadonlyMap<TokenType, TokenType> = new Map([
  [T.RParen, T.LParen],
  [T.RBracket, T.LBracket],
  [T.RCurly, T.LCurly],
]);

// Hints for characters people bring from other languages.
const charHelp: Readonly<Record<string, string>> = {
  '!': 'write `not` for negation',
  "'": 'strings use double quotes',
  '&': 'write `and`',
  '|': 'write `or`',
};

export interface Tokenized {
  readonly tokens: IToken[];
  readonly diagnostics: readonly Diagnostic[];
}

export function tokenize(file: SourceFile): Tokenized {
  const bag = new DiagnosticBag();
  const result = lexer.tokenize(file.text);
  for (const e of result.errors) {
    const text = file.text.slice(e.offset, e.offset + e.length);
    const first = text[0] ?? '';
    const help = charHelp[first];
    bag.error(
      'E0101',
      `unexpected character${text.length > 1 ? 's' : ''} '${text}'`,
      { file, start: e.offset, end: e.offset + e.length },
      help === undefined ? {} : { help },
    );
  }
  const tokens = result.tokens.map((tok) => checkString(file, tok, bag));
  const tooDeep = firstTooDeep(tokens);
  if (tooDeep !== undefined) {
    // Nothing past the lexer sees this file: the parser would recurse once per level.
    bag.error(
      'E0111',
      `nesting deeper than ${nestingLimit} levels`,
      { file, start: tooDeep.startOffset, end: tooDeep.startOffset + tooDeep.image.length },
      { help: 'brackets, braces and `c ? a : b` each open a level; name the inner parts instead' },
    );
    return { tokens: [], diagnostics: bag.all };
  }
  return { tokens: filterNewlines(tokens), diagnostics: bag.all };
}

/**
 * How deeply brackets, braces and conditionals (`?` up to its `:`) may nest. Every recursive
 * rule of the grammar (parser.ts) opens one of these, so this bounds the recursion of the parser,
 * of the CST-to-AST conversion and of elaboration; chains that do not nest (sums, `else if`,
 * `- - x`, `a ? b : c ? d : e`) are flat in the grammar and need no limit. One level costs the
 * parser about a dozen chevrotain rules, several stack frames each. On Node's default stack
 * (Node 20, called from the CLI) parentheses overflowed at 157 levels and `if` bodies at 194; a
 * syntax error deep inside `if` bodies, whose recovery walks the grammar, at 76. 32 leaves room
 * for callers deeper in the stack, such as a test runner, and is deeper than any real model.
 */
export const nestingLimit = 32;

const nestCloserOf: ReadonlyMap<TokenType, TokenType> = new Map([...closerOf, [T.Colon, T.Question]]);

/** The first opener that goes past `nestingLimit`, if any. */
function firstTooDeep(tokens: readonly IToken[]): IToken | undefined {
  const open: TokenType[] = [];
  for (const tok of tokens) {
    const type = tok.tokenType;
    if (type === T.LParen || type === T.LBracket || type === T.LCurly || type === T.Question) {
      if (open.push(type) > nestingLimit) return tok;
      continue;
    }
    // As in filterNewlines: a closer ends everything up to its opener, and a stray one nothing.
    const opener = nestCloserOf.get(type);
    if (opener !== undefined) {
      const at = open.lastIndexOf(opener);
      if (at >= 0) open.length = at;
    }
  }
  return undefined;
}

// Reports bad escapes and unterminated strings; an unterminated string still parses as a
// string so that one missing quote gives one diagnostic.
function checkString(file: SourceFile, tok: IToken, bag: DiagnosticBag): IToken {
  const isUnterminated = tok.tokenType === T.UnterminatedString;
  if (tok.tokenType !== T.StringLit && !isUnterminated) return tok;
  for (let i = 1; i < tok.image.length; i++) {
    if (tok.image[i] !== '\\') continue;
    const escaped = tok.image[i + 1];
    if (escaped !== undefined && escaped !== '"' && escaped !== '\\') {
      const start = tok.startOffset + i;
      bag.error(
        'E0101',
        `unknown escape '\\${escaped}' in a string`,
        { file, start, end: start + 2 },
        { help: 'only \\" and \\\\ are escapes' },
      );
    }
    i++;
  }
  if (!isUnterminated) return tok;
  bag.error('E0102', "unterminated string: missing closing '\"' on this line", {
    file,
    start: tok.startOffset,
    end: tok.startOffset + tok.image.length,
  });
  return createTokenInstance(
    T.StringLit,
    tok.image,
    tok.startOffset,
    tok.endOffset ?? tok.startOffset,
    NaN,
    NaN,
    NaN,
    NaN,
  );
}

function filterNewlines(tokens: readonly IToken[]): IToken[] {
  const out: IToken[] = [];
  const open: TokenType[] = [];
  tokens.forEach((tok, i) => {
    const type = tok.tokenType;
    if (type === T.Newline) {
      if (!isLayout(out.at(-1), nextSignificant(tokens, i), open.at(-1))) out.push(tok);
      return;
    }
    if (type === T.LParen || type === T.LBracket || type === T.LCurly) open.push(type);
    const opener = closerOf.get(type);
    // Popping back to the matching opener keeps one unclosed '(' from swallowing every
    // newline of the rest of the file.
    if (opener !== undefined && open.includes(opener)) open.length = open.lastIndexOf(opener);
    out.push(tok);
  });
  return out;
}

function isLayout(prev: IToken | undefined, next: IToken | undefined, innermost: TokenType | undefined): boolean {
  // Outside any braces only definitions live, and they need no separators.
  if (innermost === undefined || innermost === T.LParen || innermost === T.LBracket) return true;
  if (prev === undefined || prev.tokenType === T.Newline || continuesAfter.has(prev.tokenType)) return true;
  return next === undefined || continuesBefore.has(next.tokenType);
}

function nextSignificant(tokens: readonly IToken[], i: number): IToken | undefined {
  let j = i + 1;
  while (tokens[j]?.tokenType === T.Newline) j++;
  return tokens[j];
}
