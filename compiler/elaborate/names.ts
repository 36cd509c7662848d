// The names elaboration checks as it goes: the parameter paths layers are given (unique per block
// instance) and a named value that silently continues from the previous one.
import type { Span } from '../diagnostics/diagnostic.ts';
import type { Ident, Stage } from '../syntax/ast.ts';
import type { NodeId } from '../ir/graph.ts';
import type { Scope } from './scope.ts';
import type { ElabState, Frame } from './state.ts';

/** Two layers of one block instance may not share a parameter path (`as` labels). */
export function claimPath(st: ElabState, path: string, span: Span, frame: Frame): void {
  const first = frame.paths.get(path);
  if (first !== undefined) {
    const again = first.start === span.start && first.file === span.file;
    st.fail(
      'E0212',
      `two layers are named \`${path}\`: parameter names such as \`${path}.weight\` must be unique`,
      span,
      {
        notes: again ? [] : [{ message: 'first named here', span: first }],
        help: again
          ? "this label is inside a loop, so every iteration's layer gets it; drop `as` or move the layer out of the loop"
          : 'give each layer its own label',
      },
      frame,
    );
  }
  frame.paths.set(path, span);
}

/**
 * `b2 = conv(...)` after `b1 = x -> ...` chains onto b1, not onto x: the Inception-branch slip.
 * Warned where a named value starts implicitly from a previous named value other than `x`.
 */
export function warnImplicitInput(st: ElabState, name: Ident, first: Stage, scope: Scope, cur: NodeId): void {
  const prev = st.origins.get(cur)?.name ?? null;
  const x = scope.lookup('x');
  if (prev === null || (x?.kind === 'tensor' && x.node === cur) || st.warned.has(first.span.start)) return;
  st.warned.add(first.span.start);
  st.diags.report(
    'warning',
    'W0202',
    `\`${name.name}\` continues from \`${prev}\`, the previous statement's value, not from \`x\``,
    first.span,
    {
      help: `write \`${name.name} = x -> ...\` for a branch from the input, or \`${name.name} = ${prev} -> ...\` to keep the chain and silence this`,
    },
  );
}
