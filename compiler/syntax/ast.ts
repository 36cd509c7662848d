// The .cnn abstract syntax tree: plain readonly data, `kind` + `span` on every node.
// docs/language.md is the grammar this mirrors.
import type { Span } from '../diagnostics/diagnostic.ts';

export interface Ident {
  readonly kind: 'ident';
  readonly name: string;
  readonly span: Span;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

export interface Arg {
  /** Keyword arguments have a name; positional ones do not. */
  readonly name: Ident | null;
  readonly value: Expr;
  readonly span: Span;
}

export type Expr =
  | { readonly kind: 'num'; readonly value: number; readonly span: Span }
  | { readonly kind: 'str'; readonly value: string; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'tuple'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | 'not'; readonly operand: Expr; readonly span: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly kind: 'ternary'; readonly cond: Expr; readonly then: Expr; readonly else: Expr; readonly span: Span }
  /** `t[i]`; `X[a, b]` indexes with the tuple `(a, b)`, as Python's does. */
  | { readonly kind: 'index'; readonly target: Expr; readonly index: Expr; readonly span: Span }
  /** `start:stop:step` inside an index, each part optional (constant tensors only). */
  | {
      readonly kind: 'slice';
      readonly start: Expr | null;
      readonly stop: Expr | null;
      readonly step: Expr | null;
      readonly span: Span;
    }
  | { readonly kind: 'call'; readonly callee: Expr; readonly args: readonly Arg[]; readonly span: Span }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Body; readonly else: Body | null; readonly span: Span };

export interface Stage {
  readonly expr: Expr;
  /** `stage as name`: overrides the layer's index in parameter paths. */
  readonly label: Ident | null;
  readonly span: Span;
}

export interface Pipeline {
  readonly kind: 'pipeline';
  readonly stages: readonly Stage[];
  readonly span: Span;
}

export type Pattern =
  | { readonly kind: 'bind'; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'destructure'; readonly items: readonly Pattern[]; readonly span: Span };

export type Stmt =
  | { readonly kind: 'input'; readonly dims: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'assign'; readonly name: Ident; readonly value: Pipeline; readonly span: Span }
  | { readonly kind: 'pipeline'; readonly pipeline: Pipeline; readonly span: Span }
  | {
      readonly kind: 'repeat';
      readonly index: Ident | null;
      readonly count: Expr;
      readonly body: Body;
      readonly span: Span;
    }
  | {
      readonly kind: 'for';
      readonly pattern: Pattern;
      readonly iterable: Expr;
      readonly body: Body;
      readonly span: Span;
    }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Body; readonly else: Body | null; readonly span: Span };

export interface Body {
  readonly stmts: readonly Stmt[];
  readonly span: Span;
}

export interface Param {
  readonly name: Ident;
  readonly default: Expr | null;
  readonly span: Span;
}

export interface BlockDef {
  readonly kind: 'block' | 'model';
  readonly name: Ident;
  readonly params: readonly Param[];
  readonly body: Body;
  readonly span: Span;
}

export interface TrainEntry {
  readonly key: Ident;
  readonly value: Expr;
  readonly span: Span;
}

export interface TrainSection {
  readonly kind: 'train';
  readonly entries: readonly TrainEntry[];
  readonly span: Span;
}

/** `import "other.cnn"`: `path` as written, relative to the importing file. */
export interface Import {
  readonly path: string;
  readonly pathSpan: Span;
  readonly span: Span;
}

/** A top-level constant tensor: `K = [[1.0, -1.0]]`, or a slice of one assigned: `X[:, 2:6] = 0`. */
export interface TensorDef {
  readonly kind: 'tensor';
  readonly name: Ident;
  /** The subscripts of `X[...] = value`; null for `X = value`. */
  readonly index: Expr | null;
  readonly value: Expr;
  readonly span: Span;
}

export interface Program {
  readonly imports: readonly Import[];
  readonly defs: readonly BlockDef[];
  readonly train: readonly TrainSection[];
  /** In file order: each may read those before it. */
  readonly tensors: readonly TensorDef[];
  readonly span: Span;
}
