// Syntax error wording. chevrotain reports which token it expected and in which rule; this
// turns that into plain words ("expected ')' to close the argument list, found 'relu'").
import { EOF, tokenMatcher } from 'chevrotain';
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import * as T from './tokens.ts';

interface DefName {
  readonly offset: number;
  /** As messages name it: "block `vgg_block`". */
  readonly text: string;
}

const bodyOwner: Readonly<Record<string, string>> = {
  repeatBody: 'the `repeat` body',
  forBody: 'the `for` body',
  ifBody: 'the `if` body',
  elseBody: 'the `else` body',
};

// What a missing token was for, keyed by `rule:TokenName`.
const purpose: Readonly<Record<string, string>> = {
  'suffix:RParen': 'to close the argument list',
  'indexSuffix:RBracket': 'to close the index',
  'tensorDef:Assign': 'after the tensor name (`K = [[1.0, -1.0]]`)',
  'parenthesized:RParen': 'to close the parenthesis',
  'listExpr:RBracket': 'to close the list',
  'inputStmt:LBracket': "after 'input' (a shape like [1, 28, 28])",
  'inputStmt:RBracket': 'to close the input shape',
  'params:RParen': 'to close the parameter list',
  'pattern:RParen': 'to close the loop pattern',
  'forStmt:In': 'after the loop pattern',
  'expression:Colon': 'in the conditional `c ? a : b`',
  'trainSection:LCurly': "after 'train'",
};

const noun: ReadonlyMap<TokenType, string> = new Map([
  [T.Identifier, 'a name'],
  [T.NumberLit, 'a number'],
  [T.StringLit, 'a string'],
  [T.Newline, 'a new line'],
  [EOF, 'end of file'],
]);

const topLevel = "'model', 'block', 'train' or 'import'";
const topLevelKeywords: ReadonlySet<TokenType> = new Set([T.Model, T.Block, T.Train, T.Import]);

// What a rule's alternatives have in common, for "no alternative matched" errors.
const expectedByRule: Readonly<Record<string, string>> = {
  file: topLevel,
  statement: 'a statement',
  notExpr: 'an expression',
  unary: 'an expression',
  primary: 'an expression',
  pattern: "a name or '(' in the loop pattern",
  subscript: "an index or a slice like '1:3'",
  ifExpr: "'{' or 'if' after 'else'",
};

function describeType(type: TokenType): string {
  const label = noun.get(type);
  if (label !== undefined) return label;
  return typeof type.PATTERN === 'string' ? `'${type.PATTERN}'` : type.name;
}

function describeToken(tok: IToken): string {
  if (tok.tokenType === T.Newline) return 'the end of the line';
  return `'${tok.image}'`;
}

function phrase(expected: string, actual: IToken): string {
  if (tokenMatcher(actual, EOF)) return `unexpected end of file: expected ${expected}`;
  return `expected ${expected}, found ${describeToken(actual)}`;
}

// chevrotain's `previous` token is unreliable once recovery has skipped tokens, so the
// provider keeps the token vector and looks up what really preceded the offending token.
export class SyntaxMessages implements IParserErrorMessageProvider {
  private tokens: readonly IToken[] = [];
  private indexOf = new Map<IToken, number>();
  private defs: readonly DefName[] = [];

  reset(tokens: readonly IToken[]): void {
    this.tokens = tokens;
    this.indexOf = new Map(tokens.map((tok, i) => [tok, i]));
    const defs: DefName[] = [];
    tokens.forEach((tok, i) => {
      const name = tokens[i + 1];
      if ((tok.tokenType === T.Model || tok.tokenType === T.Block) && name?.tokenType === T.Identifier) {
        defs.push({ offset: tok.startOffset, text: `${tok.image} \`${name.image}\`` });
      }
    });
    this.defs = defs;
  }

  /** The token before `tok` in the input; for end of file, the last token. */
  private before(tok: IToken): IToken | undefined {
    const i = this.indexOf.get(tok);
    return this.tokens[(i ?? this.tokens.length) - 1];
  }

  private bodyName(ruleName: string, actual: IToken): string {
    const prev = this.before(actual);
    const def = prev === undefined ? undefined : this.defs.findLast((d) => d.offset <= prev.startOffset)?.text;
    if (ruleName === 'defBody') return def === undefined ? 'the body' : `the body of ${def}`;
    const owner = bodyOwner[ruleName] ?? 'the body';
    return def === undefined ? owner : `${owner} in ${def}`;
  }

  // Hints for likely slips: a C-style comment, a chained comparison, an unclosed body.
  private withHint(message: string, actual: IToken): string {
    const prev = this.before(actual)?.tokenType;
    if (topLevelKeywords.has(actual.tokenType)) return `${message} (is a '}' missing before it?)`;
    if (tokenMatcher(actual, T.FloorDiv) && (prev === T.LCurly || prev === T.Newline))
      return `${message} (comments start with '#')`;
    if (tokenMatcher(actual, T.CompareOp)) return `${message} (comparisons do not chain: write \`a < b and b < c\`)`;
    return message;
  }

  buildMismatchTokenMessage(options: {
    expected: TokenType;
    actual: IToken;
    previous: IToken;
    ruleName: string;
  }): string {
    return this.withHint(this.mismatch(options.expected, options.actual, options.ruleName), options.actual);
  }

  private mismatch(expected: TokenType, actual: IToken, ruleName: string): string {
    if (ruleName.endsWith('Body')) {
      const body = this.bodyName(ruleName, actual);
      if (expected === T.LCurly) return phrase(`'{' to open ${body}`, actual);
      if (tokenMatcher(actual, EOF)) return phrase(`'}' to close ${body}`, actual);
      if (this.before(actual)?.tokenType === T.LCurly) return phrase(`a statement or '}' to close ${body}`, actual);
      return phrase("a new line or '}' after the statement", actual);
    }
    if (ruleName === 'trainSection' && expected === T.RCurly) {
      return phrase("a setting such as `epochs 10`, or '}' to close the train section", actual);
    }
    if (ruleName === 'file') return phrase(topLevel, actual);
    if (ruleName === 'definition' && expected === T.Identifier) {
      return phrase(`a name after '${this.before(actual)?.image ?? 'model'}'`, actual);
    }
    if (ruleName === 'stage' && expected === T.Identifier) return phrase("a name after 'as'", actual);
    const why = purpose[`${ruleName}:${expected.name}`];
    return phrase(why === undefined ? describeType(expected) : `${describeType(expected)} ${why}`, actual);
  }

  buildNotAllInputParsedMessage(options: { firstRedundant: IToken; ruleName: string }): string {
    return phrase(topLevel, options.firstRedundant);
  }

  buildNoViableAltMessage(options: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    previous: IToken;
    ruleName: string;
  }): string {
    const actual = options.actual[0] ?? options.previous;
    const expected =
      expectedByRule[options.ruleName] ??
      [...new Set(options.expectedPathsPerAlt.flat().map((path) => describeType(path[0] ?? EOF)))].join(' or ');
    return this.withHint(phrase(expected, actual), actual);
  }

  buildEarlyExitMessage(options: {
    expectedIterationPaths: TokenType[][];
    actual: IToken[];
    previous: IToken;
    ruleName: string;
  }): string {
    const actual = options.actual[0] ?? options.previous;
    return phrase(
      [...new Set(options.expectedIterationPaths.map((p) => describeType(p[0] ?? EOF)))].join(' or '),
      actual,
    );
  }
}
