// A compact S-expression rendering of the AST, for tests and debugging: it makes precedence,
// pipelines and nesting visible on one line (`(-> x (call conv 6 kernel=5) relu)`).
import { assertNever } from '../diagnostics/diagnostic.ts';
import type { Body, Expr, Pattern, Pipeline, Program, Stmt } from './ast.ts';

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'num':
      return String(e.value);
    case 'str':
      return JSON.stringify(e.value);
    case 'bool':
      return String(e.value);
    case 'name':
      return e.name;
    case 'tuple':
      return `(tuple${e.items.map((i) => ` ${printExpr(i)}`).join('')})`;
    case 'list':
      return `[${e.items.map(printExpr).join(' ')}]`;
    case 'unary':
      return `(${e.op} ${printExpr(e.operand)})`;
    case 'binary':
      return `(${e.op} ${printExpr(e.left)} ${printExpr(e.right)})`;
    case 'ternary':
      return `(? ${printExpr(e.cond)} ${printExpr(e.then)} ${printExpr(e.else)})`;
    case 'index':
      return `(index ${printExpr(e.target)} ${printExpr(e.index)})`;
    case 'slice':
      return `(slice ${[e.start, e.stop, e.step].map((x) => (x === null ? '_' : printExpr(x))).join(' ')})`;
    case 'call': {
      const args = e.args.map((a) => ` ${a.name === null ? '' : `${a.name.name}=`}${printExpr(a.value)}`);
      return `(call ${printExpr(e.callee)}${args.join('')})`;
    }
    case 'if':
      return printIf(e.cond, e.then, e.else);
    default:
      return assertNever(e, 'print');
  }
}

function printIf(cond: Expr, then: Body, otherwise: Body | null): string {
  return `(if ${printExpr(cond)} ${printBody(then)}${otherwise === null ? '' : ` else ${printBody(otherwise)}`})`;
}

function printPipeline(p: Pipeline): string {
  const stages = p.stages.map((s) =>
    s.label === null ? printExpr(s.expr) : `(as ${printExpr(s.expr)} ${s.label.name})`,
  );
  return `(->${stages.map((s) => ` ${s}`).join('')})`;
}

function printPattern(p: Pattern): string {
  return p.kind === 'bind' ? p.name.name : `(${p.items.map(printPattern).join(' ')})`;
}

export function printStmt(s: Stmt): string {
  switch (s.kind) {
    case 'input':
      return `(input ${s.dims.map(printExpr).join(' ')})`;
    case 'assign':
      return `(= ${s.name.name} ${printPipeline(s.value)})`;
    case 'pipeline':
      return printPipeline(s.pipeline);
    case 'repeat':
      return `(repeat ${s.index === null ? '' : `${s.index.name} in `}${printExpr(s.count)} ${printBody(s.body)})`;
    case 'for':
      return `(for ${printPattern(s.pattern)} in ${printExpr(s.iterable)} ${printBody(s.body)})`;
    case 'if':
      return printIf(s.cond, s.then, s.else);
    default:
      return assertNever(s, 'print');
  }
}

export function printBody(b: Body): string {
  return `{${b.stmts.map(printStmt).join('; ')}}`;
}

/** One line per definition and train section, in source order. */
export function printProgram(p: Program): string {
  const defs = p.defs.map((d) => {
    const params = d.params.map((q) => (q.default === null ? q.name.name : `${q.name.name}=${printExpr(q.default)}`));
    return { at: d.span.start, text: `(${d.kind} ${d.name.name} (${params.join(' ')}) ${printBody(d.body)})` };
  });
  const trains = p.train.map((t) => ({
    at: t.span.start,
    text: `(train${t.entries.map((e) => ` ${e.key.name}=${printExpr(e.value)}`).join('')})`,
  }));
  const tensors = p.tensors.map((t) => ({
    at: t.span.start,
    text: `(tensor ${t.name.name}${t.index === null ? '' : ` ${printExpr(t.index)}`} ${printExpr(t.value)})`,
  }));
  return [...defs, ...trains, ...tensors]
    .sort((a, b) => a.at - b.at)
    .map((x) => x.text)
    .join('\n');
}
