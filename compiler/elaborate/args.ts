// Binds call arguments (positional, then keyword) to a parameter list, Python-style.
import type { Span } from '../diagnostics/diagnostic.ts';
import { nearest } from '../diagnostics/suggest.ts';
import type { HeldArg } from './values.ts';

export type ArgValue = HeldArg;

export interface ParamSlot {
  readonly name: string;
  readonly required: boolean;
}

export type BindResult =
  | { readonly ok: true; readonly bound: ReadonlyMap<string, ArgValue> }
  | { readonly ok: false; readonly message: string; readonly span: Span | null; readonly help?: string };

/** `callee` names the layer or block in messages; missing optional parameters stay unbound. */
export function bindArgs(callee: string, params: readonly ParamSlot[], args: readonly ArgValue[]): BindResult {
  const bound = new Map<string, ArgValue>();
  let position = 0;
  for (const a of args) {
    if (a.name === null) {
      const p = params[position++];
      if (!p) {
        const list = params.map((q) => q.name).join(', ');
        return {
          ok: false,
          message: `\`${callee}\` takes at most ${params.length} positional argument${params.length === 1 ? '' : 's'} (${list || 'none'}), got more`,
          span: a.span,
        };
      }
      bound.set(p.name, a);
      continue;
    }
    const p = params.find((q) => q.name === a.name);
    if (!p) {
      const near = nearest(
        a.name,
        params.map((q) => q.name),
      );
      return {
        ok: false,
        message: `\`${callee}\` has no parameter \`${a.name}\``,
        span: a.span,
        help: near
          ? `did you mean \`${near}\`?`
          : `its parameters are: ${params.map((q) => q.name).join(', ') || 'none'}`,
      };
    }
    if (bound.has(p.name))
      return { ok: false, message: `\`${callee}\` got two values for \`${p.name}\``, span: a.span };
    bound.set(p.name, a);
  }
  const missing = params.filter((p) => p.required && !bound.has(p.name)).map((p) => `\`${p.name}\``);
  if (missing.length > 0) {
    return {
      ok: false,
      message: `\`${callee}\` is missing required argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      span: null,
    };
  }
  return { ok: true, bound };
}
