// The fused output stage of a kernel: what happens to each computed value between the arithmetic
// and the store. Fusion puts evaluation-mode batch norm and activations here (forward) and
// activation gradients (backward), so no intermediate makes a round trip through memory.
import type { FusedAct, FusedActGrad, FusedBatchnorm } from '../autodiff/step-ir.ts';
import {
  activationForward,
  activationGrad,
  add,
  input,
  mul,
  recip,
  sqrt,
  sub,
  substitute,
  type ScalarExpr,
} from '../ir/expr.ts';
import { exprHelpers, printExpr } from './expr.ts';
import { readBinding } from './module.ts';
import type { BindingSpec } from './kernel.ts';

export interface Epilogue {
  /** Maps the computed value, `input('x')`, to what is stored. */
  readonly expr: ScalarExpr;
  /** Bindings read at the output's own index (a saved activation, for its gradient). */
  readonly reads: readonly string[];
  /** Bindings read at the output's channel (batch norm's statistics and affine parameters). */
  readonly channelReads: readonly string[];
}

/** The binding name under which an activation-gradient epilogue reads its activation tensor. */
export const ACT_BINDING = 'act';
/** Binding names of a folded batch norm's per-channel tensors. */
export const BN_BINDINGS = { gamma: 'bn_gamma', beta: 'bn_beta', runMean: 'bn_mean', runVar: 'bn_var' } as const;

/** What a forward op stores: batch norm's affine map with running statistics, then the activation. */
export function forwardEpilogue(bn: FusedBatchnorm | undefined, act: FusedAct | undefined): Epilogue | undefined {
  if (!bn && !act) return undefined;
  const b = BN_BINDINGS;
  // As the bn_eval kernel: (x - running_mean) * (gamma / sqrt(running_var + eps)) + beta.
  const normalized = bn
    ? add(
        mul(sub(input('x'), input(b.runMean)), mul(input(b.gamma), recip(sqrt(add(input(b.runVar), bn.eps))))),
        input(b.beta),
      )
    : input('x');
  const expr = act ? substitute(activationForward(act.fn, act.slope, input('x')), 'x', normalized) : normalized;
  return { expr, reads: [], channelReads: bn ? [b.gamma, b.beta, b.runMean, b.runVar] : [] };
}

/** The computed value is dL/d(activation output); stored is dL/d(activation input). */
export function activationGradEpilogue(g: Pick<FusedActGrad, 'fn' | 'slope' | 'from'>): Epilogue {
  return {
    expr: activationGrad(g.fn, g.slope, g.from, input(ACT_BINDING), input('x')),
    reads: [ACT_BINDING],
    channelReads: [],
  };
}

/** Read bindings of the epilogue's tensors: the output's size, or one value per channel. */
export function epilogueBindings(e: Epilogue | undefined, outputElements: number, channels: number): BindingSpec[] {
  return [
    ...(e?.reads ?? []).map((name) => readBinding(name, outputElements)),
    ...(e?.channelReads ?? []).map((name) => readBinding(name, channels)),
  ];
}

/** Module-scope helpers the epilogue's expression calls (sigmoid). */
export function epilogueDecls(e: Epilogue | undefined): string {
  return e ? exprHelpers([e.expr]) : '';
}

/**
 * `binding[index] = epilogue(value);` The index is computed once when the epilogue reads other
 * tensors at it, and each tensor is loaded once into a local however often the expression uses
 * it (sigmoid's gradient reads its activation twice, and lavapipe does not merge the two loads;
 * measurements: bench/NOTES.md). `channel` is the output's channel, for channel reads.
 */
export function epilogueStore(
  binding: string,
  index: string,
  value: string,
  e: Epilogue | undefined,
  channel?: string,
): string {
  if (!e) return `${binding}[${index}] = ${value};`;
  if (e.channelReads.length > 0 && channel === undefined)
    throw new Error(`epilogue of ${binding} reads per-channel values, but the kernel gave no channel`);
  const text = printExpr(e.expr, {
    input: (name) =>
      name === 'x' ? 'pre' : e.reads.includes(name) || e.channelReads.includes(name) ? `e_${name}` : fail(name),
  });
  const loads = [
    ...e.reads.map((name) => `let e_${name} = ${name}[at];`),
    ...e.channelReads.map((name) => `let e_${name} = ${name}[${channel}];`),
  ];
  const at = e.reads.length === 0 ? [] : [`let at = ${index};`];
  return `{ ${[...at, `let pre = ${value};`, ...loads, `${binding}[${at.length ? 'at' : index}] = ${text};`].join(' ')} }`;
}

function fail(name: string): never {
  throw new Error(`epilogue reads input('${name}'), which is neither the value ('x') nor one of its reads`);
}
