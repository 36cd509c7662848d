// The .cnn grammar (docs/language.md) as a chevrotain CST parser. Rule names are part of the
// contract with messages.ts (they say what was being parsed) and to-ast.ts (they key the CST).
import { CstParser, tokenMatcher } from 'chevrotain';
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import * as T from './tokens.ts';

/** chevrotain's recovery internals that `findReSyncTokenType` uses (not in its typings). */
interface Recovery {
  /** Index of the innermost rule in the rule stack. */
  readonly RULE_STACK_IDX: number;
  /** One key per rule of the stack, outermost first. */
  buildFullFollowKeyStack(): unknown[];
  getFollowSetFromFollowKey(key: unknown): TokenType[];
}

export class CnnParser extends CstParser {
  constructor(errorMessageProvider: IParserErrorMessageProvider) {
    super([...T.parserTokens], { recoveryEnabled: true, nodeLocationTracking: 'onlyOffset', errorMessageProvider });
    this.performSelfAnalysis();
  }

  // chevrotain (11.2, traits/recoverable.ts) looks for the token to resynchronise on once for
  // every rule an error unwinds, each time flattening the follow sets of the whole rule stack and
  // comparing every token ahead with all of them: cubic in the nesting, a thousand stray ']'
  // inside 60 parentheses took 10 s. The answer for a rule is the first token ahead that is in
  // the follow set of a rule at or below it, the first such follow type in stack order. So one
  // error computes the stack's distinct follow types once (those at or below a rule are a prefix
  // of them), and each rule it unwinds resumes the scan where the rule above it stopped.
  private resync: { at: IToken; depth: number; types: TokenType[]; upTo: number[]; k: number } | undefined;

  findReSyncTokenType(): TokenType {
    const engine = this as unknown as Recovery;
    const at = this.LA(1);
    const depth = engine.RULE_STACK_IDX;
    let r = this.resync;
    // The same error, one rule further out: no token was consumed and no rule entered since.
    if (r === undefined || r.at !== at || depth >= r.depth) {
      const types = new Set<TokenType>();
      const upTo = engine.buildFullFollowKeyStack().map((key) => {
        for (const type of engine.getFollowSetFromFollowKey(key)) types.add(type);
        return types.size;
      });
      r = { at, depth, types: [...types], upTo, k: 1 };
      this.resync = r;
    }
    r.depth = depth;
    const follows = r.types.slice(0, r.upTo[depth]);
    for (; ; r.k++) {
      const tok = this.LA(r.k);
      const match = follows.find((type) => tokenMatcher(tok, type));
      // End of file is always among the follows and, past the end, always the token.
      if (match !== undefined) return match;
    }
  }

  // Recovery may invent a missing closer, but an invented opener makes the real closer further
  // on match it, so the enclosing body then reports a second, spurious missing '}'.
  override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    return tokType !== T.LCurly && tokType !== T.LParen && tokType !== T.LBracket;
  }

  file = this.RULE('file', () => {
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.definition) },
        { ALT: () => this.SUBRULE(this.trainSection) },
        { ALT: () => this.SUBRULE(this.importDecl) },
        // Only a name followed by `=` or `[` starts a definition: a stray word (`relu` outside a
        // body, or where recovery resumes after an error) is still "expected 'model', ...".
        {
          GATE: () => this.LA(2).tokenType === T.Assign || this.LA(2).tokenType === T.LBracket,
          ALT: () => this.SUBRULE(this.tensorDef),
        },
      ]),
    );
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLit);
  });

  // A constant tensor at the top level: `K = [[1.0, -1.0]]`, `X[:, 2:6] = 0`. Top-level newlines
  // are layout, and none is needed: an expression never runs on into the next name.
  tensorDef = this.RULE('tensorDef', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.indexSuffix));
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expression);
  });

  definition = this.RULE('definition', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Model) }, { ALT: () => this.CONSUME(T.Block) }]);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.params));
    this.SUBRULE(this.defBody);
  });

  params = this.RULE('params', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.param);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.param);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
  });

  param = this.RULE('param', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Assign);
      this.SUBRULE(this.expression);
    });
  });

  trainSection = this.RULE('trainSection', () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.trainEntry) }, { ALT: () => this.CONSUME(T.Newline) }]));
    this.CONSUME(T.RCurly);
  });

  trainEntry = this.RULE('trainEntry', () => {
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.expression);
  });

  // One body rule per owner, so that an error inside names what it is the body of.
  defBody = this.RULE('defBody', () => this.bodyContents());
  repeatBody = this.RULE('repeatBody', () => this.bodyContents());
  forBody = this.RULE('forBody', () => this.bodyContents());
  ifBody = this.RULE('ifBody', () => this.bodyContents());
  elseBody = this.RULE('elseBody', () => this.bodyContents());

  // Statements are separated by newlines; the lexer has already dropped the ones after '{'
  // and before '}', so a body on one line needs none.
  private bodyContents(): void {
    this.CONSUME(T.LCurly);
    this.OPTION(() => this.SUBRULE(this.statement));
    this.MANY(() => {
      this.CONSUME(T.Newline);
      this.SUBRULE2(this.statement);
    });
    this.CONSUME(T.RCurly);
  }

  // An `if` statement parses as a pipeline of one `if` stage; to-ast.ts tells them apart.
  statement = this.RULE('statement', () =>
    this.OR([
      { ALT: () => this.SUBRULE(this.inputStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.SUBRULE(this.repeatStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.pipeline) },
    ]),
  );

  inputStmt = this.RULE('inputStmt', () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.expression);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expression);
    });
    this.CONSUME(T.RBracket);
  });

  assignStmt = this.RULE('assignStmt', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.pipeline);
  });

  repeatStmt = this.RULE('repeatStmt', () => {
    this.CONSUME(T.Repeat);
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.In);
    });
    this.SUBRULE(this.expression);
    this.SUBRULE(this.repeatBody);
  });

  forStmt = this.RULE('forStmt', () => {
    this.CONSUME(T.For);
    this.SUBRULE(this.pattern);
    this.CONSUME(T.In);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.forBody);
  });

  pattern = this.RULE('pattern', () =>
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.pattern);
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.SUBRULE2(this.pattern);
          });
          this.CONSUME(T.RParen);
        },
      },
    ]),
  );

  // `a -> b` and `a b` both chain. Expressions never juxtapose, so a stage ends exactly where
  // its expression cannot continue: `conv(6) sigmoid` is two stages, `a - b` one.
  pipeline = this.RULE('pipeline', () => {
    this.SUBRULE(this.stage);
    this.MANY(() => {
      this.OPTION(() => this.CONSUME(T.Arrow));
      this.SUBRULE2(this.stage);
    });
  });

  stage = this.RULE('stage', () => {
    this.SUBRULE(this.expression);
    this.OPTION(() => {
      this.CONSUME(T.As);
      this.CONSUME(T.Identifier);
    });
  });

  // `a ? b : c ? d : e` is a flat chain (to-ast.ts nests it to the right): a recursive else
  // branch would cost stack per link, and a chain is not nesting (lexer.ts, `nestingLimit`).
  expression = this.RULE('expression', () => {
    this.SUBRULE(this.orExpr);
    this.MANY(() => {
      this.CONSUME(T.Question);
      this.SUBRULE(this.expression);
      this.CONSUME(T.Colon);
      this.SUBRULE2(this.orExpr);
    });
  });

  orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  // Prefix operators repeat rather than recurse, for the same reason.
  notExpr = this.RULE('notExpr', () => {
    this.MANY(() => this.CONSUME(T.Not));
    this.SUBRULE(this.comparison);
  });

  // Comparisons do not chain: `a < b < c` is an error rather than a surprise.
  comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.additive);
    this.OPTION(() => {
      this.CONSUME(T.CompareOp);
      this.SUBRULE2(this.additive);
    });
  });

  additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.CONSUME(T.AddOp);
      this.SUBRULE2(this.multiplicative);
    });
  });

  multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.CONSUME(T.MulOp);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE('unary', () => {
    this.MANY(() => this.CONSUME(T.Minus));
    this.SUBRULE(this.postfix);
  });

  postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => this.SUBRULE(this.suffix));
  });

  // Index and call share one rule so the CST keeps them in source order.
  suffix = this.RULE('suffix', () =>
    this.OR([
      { ALT: () => this.SUBRULE(this.indexSuffix) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.OPTION(() => {
            this.SUBRULE(this.arg);
            this.MANY(() => {
              this.CONSUME(T.Comma);
              this.SUBRULE2(this.arg);
            });
            this.OPTION2(() => this.CONSUME2(T.Comma));
          });
          this.CONSUME(T.RParen);
        },
      },
    ]),
  );

  // `t[i]`, and on constant tensors `X[:, 2:6]`, `X[::2, -1]`.
  indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.subscript);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.subscript);
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
    this.CONSUME(T.RBracket);
  });

  subscript = this.RULE('subscript', () =>
    this.OR([
      {
        ALT: () => {
          this.SUBRULE(this.expression);
          this.OPTION(() => this.SUBRULE(this.sliceTail));
        },
      },
      { ALT: () => this.SUBRULE2(this.sliceTail) },
    ]),
  );

  // `:stop`, `:stop:step`, `::step`, `:` after an optional start.
  sliceTail = this.RULE('sliceTail', () => {
    this.CONSUME(T.Colon);
    this.OPTION(() => this.SUBRULE(this.sliceBound));
    this.OPTION2(() => {
      this.CONSUME2(T.Colon);
      this.OPTION3(() => this.SUBRULE2(this.sliceStep));
    });
  });

  sliceBound = this.RULE('sliceBound', () => this.SUBRULE(this.expression));
  sliceStep = this.RULE('sliceStep', () => this.SUBRULE(this.expression));

  arg = this.RULE('arg', () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier);
      this.CONSUME(T.Assign);
    });
    this.SUBRULE(this.expression);
  });

  primary = this.RULE('primary', () =>
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => this.SUBRULE(this.ifExpr) },
    ]),
  );

  // `(a)` groups, `(a, b)` and `(a,)` are tuples.
  parenthesized = this.RULE('parenthesized', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expression);
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
    this.CONSUME(T.RParen);
  });

  listExpr = this.RULE('listExpr', () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expression);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });

  // `else if` links repeat, so a long chain is flat here too; after a plain `else` body the
  // chain ends.
  ifExpr = this.RULE('ifExpr', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expression);
    this.SUBRULE(this.ifBody);
    let ended = false;
    this.MANY({
      GATE: () => !ended,
      DEF: () => {
        this.CONSUME(T.Else);
        this.OR([
          {
            ALT: () => {
              this.SUBRULE(this.elseBody);
              ended = true;
            },
          },
          {
            ALT: () => {
              this.CONSUME2(T.If);
              this.SUBRULE2(this.expression);
              this.SUBRULE2(this.ifBody);
            },
          },
        ]);
      },
    });
  });
}
