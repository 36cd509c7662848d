// The .cnn token set (docs/language.md, "Lexical structure").
// Order in `allTokens` matters: chevrotain tries patterns in order, so longer operators
// (`->`, `//`, `==`, `<=`) come before their prefixes.
import { createToken, Lexer } from 'chevrotain';
import type { TokenType } from 'chevrotain';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: word, longer_alt: Identifier });
}

export const Model = keyword('model');
export const Block = keyword('block');
export const Input = keyword('input');
export const Train = keyword('train');
export const Repeat = keyword('repeat');
export const For = keyword('for');
export const In = keyword('in');
export const If = keyword('if');
export const Else = keyword('else');
export const True = keyword('true');
export const False = keyword('false');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const As = keyword('as');
export const Import = keyword('import');

export const NumberLit = createToken({ name: 'NumberLit', pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
// Any backslash escape is lexed so that the string stays one token; the lexer then reports
// escapes other than \" and \\ itself, with a precise span.
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/ });
// Matches only when the closing quote is missing on that line, so the lexer can report E0102.
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?/ });

// Categories let one CONSUME stand for a precedence level's operators; the CST keeps the
// actual token, so the AST reads the operator from its image.
export const CompareOp = createToken({ name: 'CompareOp', pattern: Lexer.NA });
export const AddOp = createToken({ name: 'AddOp', pattern: Lexer.NA });
export const MulOp = createToken({ name: 'MulOp', pattern: Lexer.NA });

export const Arrow = createToken({ name: 'Arrow', pattern: '->' });
export const FloorDiv = createToken({ name: 'FloorDiv', pattern: '//', categories: MulOp });
export const EqEq = createToken({ name: 'EqEq', pattern: '==', categories: CompareOp });
export const NotEq = createToken({ name: 'NotEq', pattern: '!=', categories: CompareOp });
export const LtEq = createToken({ name: 'LtEq', pattern: '<=', categories: CompareOp });
export const GtEq = createToken({ name: 'GtEq', pattern: '>=', categories: CompareOp });
export const Lt = createToken({ name: 'Lt', pattern: '<', categories: CompareOp });
export const Gt = createToken({ name: 'Gt', pattern: '>', categories: CompareOp });
export const Plus = createToken({ name: 'Plus', pattern: '+', categories: AddOp });
export const Minus = createToken({ name: 'Minus', pattern: '-', categories: AddOp });
export const Star = createToken({ name: 'Star', pattern: '*', categories: MulOp });
export const Slash = createToken({ name: 'Slash', pattern: '/', categories: MulOp });
export const Percent = createToken({ name: 'Percent', pattern: '%', categories: MulOp });
export const Assign = createToken({ name: 'Assign', pattern: '=' });
export const Question = createToken({ name: 'Question', pattern: '?' });
export const Colon = createToken({ name: 'Colon', pattern: ':' });
export const Comma = createToken({ name: 'Comma', pattern: ',' });
export const LParen = createToken({ name: 'LParen', pattern: '(' });
export const RParen = createToken({ name: 'RParen', pattern: ')' });
export const LBracket = createToken({ name: 'LBracket', pattern: '[' });
export const RBracket = createToken({ name: 'RBracket', pattern: ']' });
export const LCurly = createToken({ name: 'LCurly', pattern: '{' });
export const RCurly = createToken({ name: 'RCurly', pattern: '}' });

// CRLF (Windows), LF and a lone CR (classic Mac OS) each end a line, as SourceFile counts lines.
export const Newline = createToken({ name: 'Newline', pattern: /\r\n?|\n/, line_breaks: true });
export const Whitespace = createToken({ name: 'Whitespace', pattern: /[ \t]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\r\n]*/, group: Lexer.SKIPPED });

// `input` must come before `in`: the first pattern that matches wins, and `longer_alt` only
// prefers Identifier when it matches more text than the keyword did.
export const keywords: readonly TokenType[] = [
  Model,
  Block,
  Input,
  Train,
  Repeat,
  For,
  In,
  If,
  Else,
  True,
  False,
  And,
  Or,
  Not,
  As,
  Import,
];

export const allTokens: readonly TokenType[] = [
  Whitespace,
  Comment,
  Newline,
  ...keywords,
  Identifier,
  NumberLit,
  StringLit,
  UnterminatedString,
  Arrow,
  FloorDiv,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Assign,
  Question,
  Colon,
  Comma,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LCurly,
  RCurly,
];

/** Every token type the parser knows: the lexed ones and the operator categories. */
export const parserTokens: readonly TokenType[] = [...allTokens, CompareOp, AddOp, MulOp];
