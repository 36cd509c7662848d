// The fused output stage of a kernel: what happens to each computed value between the arithmetic
// and the store. Fusion puts activations here (forward) and activation gradients (backward), so
// the value never makes a round trip through memory as a tensor of its own.
import type { FusedAct, FusedActGrad } from '../autodiff/step-ir.ts';
import { activations, exprHelpers, input, printExpr, type ScalarExpr } from './expr.ts';
import { readBinding } from './indexing.ts';
import type { BindingSpec } from './kernel.ts';

export interface Epilogue {
  /** Maps the computed value, `input('x')`, to what is stored. */
  readonly expr: ScalarExpr;
  /** Bindings read at the output's own index (a saved activation, for its gradient). */
  readonly reads: readonly string[];
}

/** The binding name under which an activation-gradient epilogue reads its activation tensor. */
export const ACT_BINDING = 'act';

// One attrs object serves every activation: only leaky_relu reads `slope`.
const activation = (fn: FusedAct['fn']) => activations[fn] as (typeof activations)['leaky_relu'];

export function activationEpilogue(act: FusedAct): Epilogue {
  return { expr: activation(act.fn).forward(input('x'), { slope: act.slope }), reads: [] };
}

/** The computed value is dL/d(activation output); stored is dL/d(activation input). */
export function activationGradEpilogue(g: Omit<FusedActGrad, 'x'>): Epilogue {
  const f = activation(g.fn);
  const at = input(ACT_BINDING);
  const attrs = { slope: g.slope };
  return { expr: g.from === 'output' ? f.backwardFromOutput(at, input('x'), attrs) : f.backward(at, input('x'), attrs), reads: [ACT_BINDING] };
}

/** Read bindings of the epilogue's tensors, each the size of the output. */
export function epilogueBindings(e: Epilogue | undefined, outputElements: number): BindingSpec[] {
  return (e?.reads ?? []).map((name) => readBinding(name, outputElements));
}

/** Module-scope helpers the epilogue's expression calls (sigmoid). */
export function epilogueDecls(e: Epilogue | undefined): string {
  return e ? exprHelpers([e.expr]) : '';
}

/** `binding[index] = epilogue(value);` */
export function epilogueStore(binding: string, index: string, value: string, e: Epilogue | undefined): string {
  if (!e) return `${binding}[${index}] = ${value};`;
  const text = printExpr(e.expr, { input: (name) => (name === 'x' ? 'pre' : e.reads.includes(name) ? `${name}[at]` : fail(name)) });
  // The index is computed once when the epilogue reads other tensors at it.
  return e.reads.length === 0
    ? `{ let pre = ${value}; ${binding}[${index}] = ${text}; }`
    : `{ let at = ${index}; let pre = ${value}; ${binding}[at] = ${text}; }`;
}

function fail(name: string): never {
  throw new Error(`epilogue reads input('${name}'), which is neither the value ('x') nor one of its reads`);
}
