// Optimizer updates exactly as torch.optim (SGD, Adam, AdamW; single-tensor path, no amsgrad /
// maximize), in place over a flat range of packed buffers: the runtime can lay every parameter
// (and its gradient and state) out in one buffer each and update them all with one dispatch.
import type { AdamHyper, OptimizerConfig, SgdHyper } from '../../ir/recipe.ts';
import type { BindingSpec, KernelModule } from '../kernel.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { f32Lit, wgsl } from '../writer.ts';
import { perItemKernel, stepParams } from './reduce.ts';

/**
 * Adam's view of the per-step words (reduce.ts's `stepParams`, two words longer): params[2] and
 * params[3] hold the f32 bits of lr / (1 - beta1^t) and sqrt(1 - beta2^t), written by the host
 * before each step (`stepWords`).
 */
const adamParams: BindingSpec = { ...stepParams, elements: 4 };

/**
 * Adam's bias corrections at step t as torch.optim.Adam's single-tensor path computes them, in
 * float64 (`step_size = lr / (1 - beta1**t)`, `bias_correction2_sqrt = math.sqrt(1 - beta2**t)`);
 * torch rounds both to float32 where it applies them, and so do the kernels. Computed on the GPU
 * they drifted: WGSL promises `pow` only as exp2(y * log2(x)), and on lavapipe 1 - pow(0.999, 1)
 * was 0.00100010633, every update 5.3e-5 too large.
 */
function adamCorrections(
  hyper: Pick<AdamHyper, 'lr' | 'beta1' | 'beta2'>,
  t: number,
): { stepSize: number; bc2Sqrt: number } {
  return { stepSize: hyper.lr / (1 - hyper.beta1 ** t), bc2Sqrt: Math.sqrt(1 - hyper.beta2 ** t) };
}

/**
 * The words of the `params` binding for 0-based training step `step`: [seed, step], and for Adam
 * and AdamW the f32 bits of the step's bias corrections (step t = step + 1). Written before every
 * submit: writeBuffer is ordered with the queue's submits, so steps queued back to back each read
 * their own.
 */
export function stepWords(
  seed: number,
  step: number,
  optimizer: Pick<OptimizerConfig, 'kind' | 'lr' | 'betas'> | null,
): Uint32Array {
  const words = new Uint32Array(4);
  words[0] = seed >>> 0;
  words[1] = step >>> 0;
  if (optimizer && optimizer.kind !== 'sgd') {
    const { stepSize, bc2Sqrt } = adamCorrections(
      { lr: optimizer.lr, beta1: optimizer.betas[0], beta2: optimizer.betas[1] },
      step + 1,
    );
    new Float32Array(words.buffer, 8, 2).set([stepSize, bc2Sqrt]);
  }
  return words;
}

/** Elements [offset, offset + count) of buffers holding `bufferElements` each. */
export interface ParamRange {
  readonly bufferElements: number;
  readonly offset: number;
  readonly count: number;
}

export interface SgdSpec extends KernelFrame {
  readonly range: ParamRange;
  readonly hyper: SgdHyper;
}

export interface AdamSpec extends KernelFrame {
  readonly range: ParamRange;
  readonly hyper: AdamHyper;
}

function checkRange(name: string, r: ParamRange): void {
  const ok = [r.bufferElements, r.offset, r.count].every((v) => Number.isInteger(v) && v >= 0);
  if (!ok || r.count < 1 || r.offset + r.count > r.bufferElements) {
    throw new Error(
      `kernel ${name}: range [${r.offset}, ${r.offset + r.count}) does not fit a buffer of ${r.bufferElements}`,
    );
  }
}

/**
 * One invocation per element `j` of the range, `p`/`g` its parameter and gradient. Bind `params`
 * only when the body reads it: 'auto' pipeline layouts drop unused bindings.
 */
function update(
  spec: SgdSpec | AdamSpec,
  params: BindingSpec | null,
  state: readonly string[],
  body: string,
): KernelModule {
  const { range: r } = spec;
  checkRange(spec.name, r);
  const bindings = [
    ...(params ? [params] : []),
    readBinding('grad', r.bufferElements),
    writeBinding('param', r.bufferElements),
    ...state.map((s) => writeBinding(s, r.bufferElements)),
  ];
  const main =
    wgsl`
    let j = ${r.offset === 0 ? 'i' : `i + ${r.offset}u`};
    let p = param[j];
    var g = grad[j];
  ` +
    '\n' +
    body;
  return perItemKernel({ name: spec.name, origin: spec.origin, limits: spec.limits, bindings }, r.count, '', main, 4);
}

/**
 * torch.optim.SGD. Bindings: params (u32 [seed, step]; only with momentum), grad | param,
 * momentum_buf (only with momentum). g += wd * p; buf = g on the first step (params[1] == 0), else
 * buf = momentum * buf + (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf; p -= lr * g.
 */
export function sgdStep(spec: SgdSpec): KernelModule {
  const { lr, momentum, dampening, weightDecay, nesterov } = spec.hyper;
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new Error(
      `kernel ${spec.name}: Nesterov momentum requires a momentum and zero dampening (as torch.optim.SGD)`,
    );
  }
  const decay = weightDecay !== 0 ? `g += ${f32Lit(weightDecay)} * p;\n` : '';
  if (momentum === 0) return update(spec, null, [], `${decay}param[j] = p - ${f32Lit(lr)} * g;`);
  return update(
    spec,
    stepParams,
    ['momentum_buf'],
    decay +
      wgsl`
    var buf = g;
    if (params[1] != 0u) {
      buf = ${f32Lit(momentum)} * momentum_buf[j] + ${f32Lit(1 - dampening)} * g;
    }
    momentum_buf[j] = buf;
    param[j] = p - ${f32Lit(lr)} * ${nesterov ? `(g + ${f32Lit(momentum)} * buf)` : 'buf'};
  `,
  );
}

/**
 * torch.optim.Adam / AdamW. Bindings: params (u32 [seed, step, bits of step_size, bits of
 * bias_correction2_sqrt]; `stepWords`), grad | param, exp_avg, exp_avg_sq. Adam folds weight decay
 * into g (g += wd * p); AdamW decays the weight itself first (p *= 1 - lr * wd). Then
 * m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 and p -= step_size * m / (sqrt(v) / bc2_sqrt + eps),
 * in torch's order of operations.
 */
function adamUpdate(spec: AdamSpec, decoupled: boolean): KernelModule {
  const { lr, beta1, beta2, eps, weightDecay } = spec.hyper;
  const decay =
    weightDecay === 0
      ? ''
      : decoupled
        ? `let decayed = p * ${f32Lit(1 - lr * weightDecay)};\n`
        : `g += ${f32Lit(weightDecay)} * p;\n`;
  const start = decoupled && weightDecay !== 0 ? 'decayed' : 'p';
  return update(
    spec,
    adamParams,
    ['exp_avg', 'exp_avg_sq'],
    decay +
      wgsl`
    let m = ${f32Lit(beta1)} * exp_avg[j] + ${f32Lit(1 - beta1)} * g;
    let v = ${f32Lit(beta2)} * exp_avg_sq[j] + ${f32Lit(1 - beta2)} * g * g;
    exp_avg[j] = m;
    exp_avg_sq[j] = v;
    let step_size = bitcast<f32>(params[2]);
    let denom = sqrt(v) / bitcast<f32>(params[3]) + ${f32Lit(eps)};
    param[j] = ${start} - step_size * m / denom;
  `,
  );
}

export function adamStep(spec: AdamSpec): KernelModule {
  return adamUpdate(spec, false);
}

export function adamwStep(spec: AdamSpec): KernelModule {
  return adamUpdate(spec, true);
}
