// One optimizer step for one parameter tensor, pure (fresh tensors out), following the
// single-tensor code paths of torch.optim.SGD / Adam / AdamW in PyTorch 1.13 operation by operation.
import type { AdamHyper, SgdHyper } from '../../compiler/ir/recipe.ts';
import { type Tensor, at, generate, map, tensor, zip } from './tensor.ts';

export type { AdamHyper, SgdHyper };

/** g + wd*p, the L2 term torch adds to the gradient (skipped entirely when wd is 0, as torch does). */
function withL2(g: Tensor, p: Tensor, weightDecay: number): Tensor {
  return weightDecay === 0 ? g : zip(g, p, (gi, pi) => gi + weightDecay * pi, 'weight decay');
}

export interface SgdState {
  /** Null before the first step, and always when momentum is 0 (torch keeps no buffer then). */
  readonly momentumBuf: Tensor | null;
}

/**
 * torch.optim.SGD: d = g + wd*p; with momentum, buf = d on the FIRST step (no dampening), else
 * buf = momentum*buf + (1 - dampening)*d; d = nesterov ? d + momentum*buf : buf; p -= lr*d.
 */
export function sgdStep(p: Tensor, g: Tensor, state: SgdState, h: SgdHyper): { p: Tensor; state: SgdState } {
  const d = withL2(g, p, h.weightDecay);
  let step = d;
  let momentumBuf: Tensor | null = null;
  if (h.momentum !== 0) {
    const prev = state.momentumBuf;
    // A copy on the first step (torch clones too): d may be the caller's own gradient tensor.
    const buf =
      prev === null
        ? map(d, (di) => di)
        : zip(prev, d, (bi, di) => bi * h.momentum + di * (1 - h.dampening), 'sgdStep');
    momentumBuf = buf;
    step = h.nesterov ? zip(d, buf, (di, bi) => di + bi * h.momentum, 'sgdStep') : buf;
  }
  return { p: zip(p, step, (pi, si) => pi - h.lr * si, 'sgdStep'), state: { momentumBuf } };
}

export interface AdamState {
  /** First and second moment estimates (exp_avg, exp_avg_sq), zeros before the first step. */
  readonly m: Tensor;
  readonly v: Tensor;
  /** Steps taken so far. */
  readonly step: number;
}

export function adamInitState(p: Tensor): AdamState {
  return { m: tensor(p.shape), v: tensor(p.shape), step: 0 };
}

/**
 * The shared moment update and bias-corrected step of Adam and AdamW (amsgrad off):
 * m = beta1*m + (1-beta1)*g, v = beta2*v + (1-beta2)*g^2,
 * p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps).
 */
function adamMoments(p: Tensor, g: Tensor, state: AdamState, h: AdamHyper): { p: Tensor; state: AdamState } {
  const step = state.step + 1;
  const m = zip(state.m, g, (mi, gi) => mi * h.beta1 + gi * (1 - h.beta1), 'adamStep');
  const v = zip(state.v, g, (vi, gi) => vi * h.beta2 + gi * gi * (1 - h.beta2), 'adamStep');
  const stepSize = h.lr / (1 - h.beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** step);
  const next = generate(
    p.shape,
    (i) => at(p.data, i) - stepSize * (at(m.data, i) / (Math.sqrt(at(v.data, i)) / bc2Sqrt + h.eps)),
  );
  return { p: next, state: { m, v, step } };
}

/** torch.optim.Adam: weight decay is L2 folded into the gradient, g += wd*p. */
export function adamStep(p: Tensor, g: Tensor, state: AdamState, h: AdamHyper): { p: Tensor; state: AdamState } {
  return adamMoments(p, withL2(g, p, h.weightDecay), state, h);
}

/** torch.optim.AdamW: decoupled weight decay, p *= 1 - lr*wd before the Adam step. */
export function adamwStep(p: Tensor, g: Tensor, state: AdamState, h: AdamHyper): { p: Tensor; state: AdamState } {
  return adamMoments(
    map(p, (pi) => pi * (1 - h.lr * h.weightDecay)),
    g,
    state,
    h,
  );
}
