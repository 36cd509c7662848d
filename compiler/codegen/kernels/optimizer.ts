// Optimizer updates exactly as torch.optim (SGD, Adam, AdamW; single-tensor path, no amsgrad /
// maximize), in place over a flat range of packed buffers: the runtime can lay every parameter
// (and its gradient and state) out in one buffer each and update them all with one dispatch.
import type { AdamHyper, SgdHyper } from '../../elaborate/train-config.ts';
import type { KernelModule, KernelOrigin } from '../kernel.ts';
import { f32Lit, wgsl } from '../writer.ts';
import { input, output, perItemKernel, stepParams } from './reduce.ts';

/** Elements [offset, offset + count) of buffers holding `bufferElements` each. */
export interface ParamRange {
  readonly bufferElements: number;
  readonly offset: number;
  readonly count: number;
}

export interface SgdSpec {
  readonly name: string;
  readonly origin: KernelOrigin;
  readonly range: ParamRange;
  readonly hyper: SgdHyper;
}

export interface AdamSpec {
  readonly name: string;
  readonly origin: KernelOrigin;
  readonly range: ParamRange;
  readonly hyper: AdamHyper;
}

function checkRange(name: string, r: ParamRange): void {
  const ok = [r.bufferElements, r.offset, r.count].every((v) => Number.isInteger(v) && v >= 0);
  if (!ok || r.count < 1 || r.offset + r.count > r.bufferElements) {
    throw new Error(`kernel ${name}: range [${r.offset}, ${r.offset + r.count}) does not fit a buffer of ${r.bufferElements}`);
  }
}

/**
 * One invocation per element `j` of the range, `p`/`g` its parameter and gradient. Bind `params`
 * only when the body reads the step: 'auto' pipeline layouts drop unused bindings.
 */
function update(spec: SgdSpec | AdamSpec, readsStep: boolean, state: readonly string[], body: string): KernelModule {
  const { range: r } = spec;
  checkRange(spec.name, r);
  const bindings = [
    ...(readsStep ? [stepParams] : []),
    input('grad', r.bufferElements), output('param', r.bufferElements), ...state.map((s) => output(s, r.bufferElements)),
  ];
  const main = wgsl`
    let j = ${r.offset === 0 ? 'i' : `i + ${r.offset}u`};
    let p = param[j];
    var g = grad[j];
  ` + '\n' + body;
  return perItemKernel({ name: spec.name, origin: spec.origin, bindings }, r.count, '', main, 4);
}

/**
 * torch.optim.SGD. Bindings: params (u32 [seed, step]; only with momentum), grad | param,
 * momentum_buf (only with momentum). g += wd * p; buf = g on the first step (params[1] == 0), else
 * buf = momentum * buf + (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf; p -= lr * g.
 */
export function sgdStep(spec: SgdSpec): KernelModule {
  const { lr, momentum, dampening, weightDecay, nesterov } = spec.hyper;
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new Error(`kernel ${spec.name}: Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD)`);
  }
  const decay = weightDecay !== 0 ? `g += ${f32Lit(weightDecay)} * p;\n` : '';
  if (momentum === 0) return update(spec, false, [], `${decay}param[j] = p - ${f32Lit(lr)} * g;`);
  return update(spec, true, ['momentum_buf'], decay + wgsl`
    var buf = g;
    if (params[1] != 0u) {
      buf = ${f32Lit(momentum)} * momentum_buf[j] + ${f32Lit(1 - dampening)} * g;
    }
    momentum_buf[j] = buf;
    param[j] = p - ${f32Lit(lr)} * ${nesterov ? `(g + ${f32Lit(momentum)} * buf)` : 'buf'};
  `);
}

/**
 * torch.optim.Adam / AdamW, step t = params[1] + 1. Bindings: params, grad | param, exp_avg,
 * exp_avg_sq. Adam folds weight decay into g (g += wd * p); AdamW decays the weight itself first
 * (p *= 1 - lr * wd). Then m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 and
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 */
function adamUpdate(spec: AdamSpec, decoupled: boolean): KernelModule {
  const { lr, beta1, beta2, eps, weightDecay } = spec.hyper;
  const decay = weightDecay === 0 ? '' : decoupled
    ? `let decayed = p * ${f32Lit(1 - lr * weightDecay)};\n`
    : `g += ${f32Lit(weightDecay)} * p;\n`;
  const start = decoupled && weightDecay !== 0 ? 'decayed' : 'p';
  return update(spec, true, ['exp_avg', 'exp_avg_sq'], decay + wgsl`
    let t = f32(params[1] + 1u);
    let m = ${f32Lit(beta1)} * exp_avg[j] + ${f32Lit(1 - beta1)} * g;
    let v = ${f32Lit(beta2)} * exp_avg_sq[j] + ${f32Lit(1 - beta2)} * g * g;
    exp_avg[j] = m;
    exp_avg_sq[j] = v;
    let step_size = ${f32Lit(lr)} / (1.0 - pow(${f32Lit(beta1)}, t));
    let denom = sqrt(v) / sqrt(1.0 - pow(${f32Lit(beta2)}, t)) + ${f32Lit(eps)};
    param[j] = ${start} - step_size * m / denom;
  `);
}

export function adamStep(spec: AdamSpec): KernelModule {
  return adamUpdate(spec, false);
}

export function adamwStep(spec: AdamSpec): KernelModule {
  return adamUpdate(spec, true);
}
