// CST -> AST. After error recovery the CST may lack children or hold tokens inserted by the
// parser (NaN offsets); every accessor here tolerates that and yields a placeholder, because
// callers discard the AST of a file with syntax errors but the conversion must never throw.
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { invariant } from '../diagnostics/diagnostic.ts';
import type { Span } from '../diagnostics/diagnostic.ts';
import type { SourceFile } from '../diagnostics/source.ts';
import type {
  Arg,
  BinaryOp,
  Body,
  BlockDef,
  Expr,
  Ident,
  Import,
  Param,
  Pattern,
  Pipeline,
  Program,
  Stage,
  Stmt,
  TensorDef,
  TrainEntry,
  TrainSection,
} from './ast.ts';

type IfExpr = Extract<Expr, { kind: 'if' }>;

function isNode(el: CstElement | undefined): el is CstNode {
  return el !== undefined && 'children' in el;
}

function nodes(n: CstNode, key: string): CstNode[] {
  return (n.children[key] ?? []).filter(isNode);
}

function node(n: CstNode, key: string, i = 0): CstNode | undefined {
  return nodes(n, key)[i];
}

function tokens(n: CstNode, key: string): IToken[] {
  return (n.children[key] ?? []).filter((el): el is IToken => !isNode(el));
}

function token(n: CstNode, key: string): IToken | undefined {
  return tokens(n, key)[0];
}

function join(a: Span, b: Span): Span {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

const binaryOps: ReadonlySet<string> = new Set<BinaryOp>([
  '+',
  '-',
  '*',
  '/',
  '//',
  '%',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'and',
  'or',
]);

// Operators are never invented by error recovery (they only occur in optional productions),
// so any other image is a bug in the grammar, not in the input.
function binaryOp(image: string): BinaryOp {
  invariant(binaryOps.has(image), 'syntax', `unknown binary operator '${image}'`);
  return image as BinaryOp;
}

/** The value of a string literal's source text, quotes included (the closing one may be missing). */
function unescapeString(image: string): string {
  let out = '';
  for (let i = 1; i < image.length; i++) {
    const c = image[i]!;
    if (c === '"') break;
    if (c === '\\' && i + 1 < image.length) out += image[++i]!;
    else out += c;
  }
  return out;
}

class Converter {
  private readonly file: SourceFile;

  constructor(file: SourceFile) {
    this.file = file;
  }

  // Where recovery left nothing to point at, the end of the file is as good as anywhere.
  private nowhere(): Span {
    return { file: this.file, start: this.file.text.length, end: this.file.text.length };
  }

  private tokSpan(t: IToken | undefined): Span {
    if (t === undefined || Number.isNaN(t.startOffset) || t.endOffset === undefined || Number.isNaN(t.endOffset))
      return this.nowhere();
    return { file: this.file, start: t.startOffset, end: t.endOffset + 1 };
  }

  private span(n: CstNode | undefined): Span {
    const loc = n?.location;
    if (
      loc === undefined ||
      Number.isNaN(loc.startOffset) ||
      loc.endOffset === undefined ||
      Number.isNaN(loc.endOffset)
    )
      return this.nowhere();
    return { file: this.file, start: loc.startOffset, end: loc.endOffset + 1 };
  }

  private ident(t: IToken | undefined): Ident {
    return {
      kind: 'ident',
      name: t === undefined || t.isInsertedInRecovery === true ? '' : t.image,
      span: this.tokSpan(t),
    };
  }

  private missing(n: CstNode | undefined): Expr {
    return { kind: 'name', name: '', span: this.span(n) };
  }

  program(cst: CstNode | undefined): Program {
    const all: Span = { file: this.file, start: 0, end: this.file.text.length };
    if (cst === undefined) return { imports: [], defs: [], train: [], tensors: [], span: all };
    return {
      imports: nodes(cst, 'importDecl').map((i) => this.importDecl(i)),
      defs: nodes(cst, 'definition').map((d) => this.definition(d)),
      train: nodes(cst, 'trainSection').map((t) => this.train(t)),
      tensors: nodes(cst, 'tensorDef').map((t) => this.tensorDef(t)),
      span: all,
    };
  }

  private importDecl(n: CstNode): Import {
    const path = token(n, 'StringLit');
    return {
      path: path === undefined ? '' : unescapeString(path.image),
      pathSpan: this.tokSpan(path),
      span: this.span(n),
    };
  }

  private tensorDef(n: CstNode): TensorDef {
    const index = node(n, 'indexSuffix');
    return {
      kind: 'tensor',
      name: this.ident(token(n, 'Identifier')),
      index: index === undefined ? null : this.subscripts(index),
      value: this.expr(node(n, 'expression')),
      span: this.span(n),
    };
  }

  /** One subscript is itself; several are a tuple, as `X[a, b]` is `X[(a, b)]` in Python. */
  private subscripts(n: CstNode): Expr {
    const items = nodes(n, 'subscript').map((s) => this.subscript(s));
    const only = items.length === 1 && token(n, 'Comma') === undefined ? items[0] : undefined;
    return only ?? { kind: 'tuple', items, span: this.span(n) };
  }

  private subscript(n: CstNode): Expr {
    const start = node(n, 'expression');
    const tail = node(n, 'sliceTail');
    if (tail === undefined) return this.expr(start);
    const part = (rule: string): Expr | null => {
      const p = node(tail, rule);
      return p === undefined ? null : this.expr(node(p, 'expression'));
    };
    return {
      kind: 'slice',
      start: start === undefined ? null : this.expr(start),
      stop: part('sliceBound'),
      step: part('sliceStep'),
      span: this.span(n),
    };
  }

  private definition(n: CstNode): BlockDef {
    const params = node(n, 'params');
    return {
      kind: token(n, 'Model') === undefined ? 'block' : 'model',
      name: this.ident(token(n, 'Identifier')),
      params: params === undefined ? [] : nodes(params, 'param').map((p) => this.param(p)),
      body: this.body(node(n, 'defBody')),
      span: this.span(n),
    };
  }

  param(n: CstNode): Param {
    const dflt = node(n, 'expression');
    return {
      name: this.ident(token(n, 'Identifier')),
      default: dflt === undefined ? null : this.expr(dflt),
      span: this.span(n),
    };
  }

  private train(n: CstNode): TrainSection {
    const entries = nodes(n, 'trainEntry').map(
      (e): TrainEntry => ({
        key: this.ident(token(e, 'Identifier')),
        value: this.expr(node(e, 'expression')),
        span: this.span(e),
      }),
    );
    return { kind: 'train', entries, span: this.span(n) };
  }

  private body(n: CstNode | undefined): Body {
    if (n === undefined) return { stmts: [], span: this.nowhere() };
    return { stmts: nodes(n, 'statement').map((s) => this.statement(s)), span: this.span(n) };
  }

  private statement(n: CstNode): Stmt {
    const span = this.span(n);
    const input = node(n, 'inputStmt');
    if (input !== undefined) return { kind: 'input', dims: nodes(input, 'expression').map((e) => this.expr(e)), span };
    const assign = node(n, 'assignStmt');
    if (assign !== undefined) {
      return {
        kind: 'assign',
        name: this.ident(token(assign, 'Identifier')),
        value: this.pipeline(node(assign, 'pipeline')),
        span,
      };
    }
    const repeat = node(n, 'repeatStmt');
    if (repeat !== undefined) {
      const index = token(repeat, 'Identifier');
      return {
        kind: 'repeat',
        index: index === undefined ? null : this.ident(index),
        count: this.expr(node(repeat, 'expression')),
        body: this.body(node(repeat, 'repeatBody')),
        span,
      };
    }
    const loop = node(n, 'forStmt');
    if (loop !== undefined) {
      return {
        kind: 'for',
        pattern: this.pattern(node(loop, 'pattern')),
        iterable: this.expr(node(loop, 'expression')),
        body: this.body(node(loop, 'forBody')),
        span,
      };
    }
    const pipeline = this.pipeline(node(n, 'pipeline'));
    // A lone unlabelled `if` stage is the `if` statement of the grammar.
    const only = pipeline.stages.length === 1 ? pipeline.stages[0] : undefined;
    if (only !== undefined && only.label === null && only.expr.kind === 'if') return ifStmt(only.expr);
    return { kind: 'pipeline', pipeline, span };
  }

  private pattern(n: CstNode | undefined): Pattern {
    const span = this.span(n);
    const name = n === undefined ? undefined : token(n, 'Identifier');
    if (n === undefined || name !== undefined) return { kind: 'bind', name: this.ident(name), span };
    const items = nodes(n, 'pattern').map((p) => this.pattern(p));
    // `(i)` is just `i`, as `(a)` is just `a` in expressions.
    if (items.length === 1 && items[0] !== undefined) return { ...items[0], span };
    return { kind: 'destructure', items, span };
  }

  private pipeline(n: CstNode | undefined): Pipeline {
    const stages =
      n === undefined
        ? []
        : nodes(n, 'stage').map((s): Stage => {
            const label = token(s, 'As') === undefined ? null : this.ident(token(s, 'Identifier'));
            return { expr: this.expr(node(s, 'expression')), label, span: this.span(s) };
          });
    return { kind: 'pipeline', stages, span: this.span(n) };
  }

  private expr(n: CstNode | undefined): Expr {
    if (n === undefined) return this.missing(n);
    switch (n.name) {
      case 'expression':
        return this.ternaryChain(n);
      case 'orExpr':
        return this.fold(n, 'andExpr', tokens(n, 'Or'));
      case 'andExpr':
        return this.fold(n, 'notExpr', tokens(n, 'And'));
      case 'comparison':
        return this.fold(n, 'additive', tokens(n, 'CompareOp'));
      case 'additive':
        return this.fold(n, 'multiplicative', tokens(n, 'AddOp'));
      case 'multiplicative':
        return this.fold(n, 'unary', tokens(n, 'MulOp'));
      case 'notExpr':
        return this.prefixed(tokens(n, 'Not'), 'not', this.expr(node(n, 'comparison')));
      case 'unary':
        return this.prefixed(tokens(n, 'Minus'), '-', this.expr(node(n, 'postfix')));
      case 'postfix':
        return nodes(n, 'suffix').reduce((target, s) => this.suffix(target, s), this.expr(node(n, 'primary')));
      case 'primary':
        return this.primary(n);
      default:
        return this.missing(n);
    }
  }

  // `c0 ? t0 : c1 ? t1 : e`: conditions are the orExprs, branches the expressions; the last
  // orExpr is the final else. Nested from the right, as a recursive grammar would.
  private ternaryChain(n: CstNode): Expr {
    const conds = nodes(n, 'orExpr').map((c) => this.expr(c));
    const thens = nodes(n, 'expression');
    let acc = conds.at(-1) ?? this.missing(n);
    for (let i = conds.length - 2; i >= 0; i--) {
      const cond = conds[i]!;
      acc = { kind: 'ternary', cond, then: this.expr(thens[i]), else: acc, span: join(cond.span, acc.span) };
    }
    return acc;
  }

  // `- - x`: the innermost operator applies first.
  private prefixed(ops: readonly IToken[], op: '-' | 'not', operand: Expr): Expr {
    let acc = operand;
    for (let i = ops.length - 1; i >= 0; i--)
      acc = { kind: 'unary', op, operand: acc, span: join(this.tokSpan(ops[i]), acc.span) };
    return acc;
  }

  // Left-associative chain: operands[0] op[0] operands[1] op[1] ...
  private fold(n: CstNode, operandRule: string, ops: readonly IToken[]): Expr {
    const operands = nodes(n, operandRule);
    let left = this.expr(operands[0]);
    ops.forEach((op, i) => {
      const right = this.expr(operands[i + 1]);
      left = { kind: 'binary', op: binaryOp(op.image), left, right, span: join(left.span, right.span) };
    });
    return left;
  }

  private suffix(target: Expr, s: CstNode): Expr {
    const span = join(target.span, this.span(s));
    const index = node(s, 'indexSuffix');
    if (index !== undefined) return { kind: 'index', target, index: this.subscripts(index), span };
    const args = nodes(s, 'arg').map((a): Arg => {
      const name = token(a, 'Identifier');
      return {
        name: name === undefined ? null : this.ident(name),
        value: this.expr(node(a, 'expression')),
        span: this.span(a),
      };
    });
    return { kind: 'call', callee: target, args, span };
  }

  private primary(n: CstNode): Expr {
    const span = this.span(n);
    const num = token(n, 'NumberLit');
    if (num !== undefined) return { kind: 'num', value: Number(num.image), span };
    const str = token(n, 'StringLit');
    if (str !== undefined) return { kind: 'str', value: unescapeString(str.image), span };
    if (token(n, 'True') !== undefined) return { kind: 'bool', value: true, span };
    if (token(n, 'False') !== undefined) return { kind: 'bool', value: false, span };
    const name = token(n, 'Identifier');
    if (name !== undefined) return { kind: 'name', name: name.image, span };
    const paren = node(n, 'parenthesized');
    if (paren !== undefined) {
      const items = nodes(paren, 'expression').map((e) => this.expr(e));
      const only = items.length === 1 && token(paren, 'Comma') === undefined ? items[0] : undefined;
      // A grouped expression spans its parentheses, so errors about it underline them too.
      return only === undefined ? { kind: 'tuple', items, span } : { ...only, span };
    }
    const list = node(n, 'listExpr');
    if (list !== undefined) return { kind: 'list', items: nodes(list, 'expression').map((e) => this.expr(e)), span };
    const ifExpr = node(n, 'ifExpr');
    return ifExpr === undefined ? this.missing(n) : this.ifExpr(ifExpr);
  }

  // `if c0 {..} else if c1 {..} else {..}`: the i-th `if` token, condition and body belong
  // together. `else if` is an `else` body holding one `if` statement, built from the last link.
  private ifExpr(n: CstNode): IfExpr {
    const ifs = tokens(n, 'If');
    const conds = nodes(n, 'expression');
    const bodies = nodes(n, 'ifBody');
    const elseBody = node(n, 'elseBody');
    const whole = this.span(n);
    let otherwise: Body | null = elseBody === undefined ? null : this.body(elseBody);
    for (let i = Math.max(ifs.length, 1) - 1; i >= 1; i--) {
      const span = { ...whole, start: this.tokSpan(ifs[i]).start };
      const link: Stmt = { kind: 'if', cond: this.expr(conds[i]), then: this.body(bodies[i]), else: otherwise, span };
      otherwise = { stmts: [link], span };
    }
    return { kind: 'if', cond: this.expr(conds[0]), then: this.body(bodies[0]), else: otherwise, span: whole };
  }
}

function ifStmt(e: IfExpr): Stmt {
  return { kind: 'if', cond: e.cond, then: e.then, else: e.else, span: e.span };
}

export function toAst(file: SourceFile, cst: CstNode | undefined): Program {
  return new Converter(file).program(cst);
}

/** One `param` (NAME = VALUE), parsed on its own for `--set`. */
export function toParam(file: SourceFile, cst: CstNode): Param {
  return new Converter(file).param(cst);
}
