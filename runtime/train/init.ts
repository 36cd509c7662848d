// Parameter initialisation as PyTorch does it. `default`: PyTorch's own layer init (weights
// kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases the same bound).
// `xavier_uniform`: d2l's init_cnn, xavier_uniform_ on conv and linear weights, biases default.
// `kaiming`: kaiming_uniform_ (fan_in, ReLU gain). Batch norm: weight 1, bias 0, running var 1.
import type { InitKind } from '../../compiler/elaborate/train-config.ts';
import type { Shape } from '../../compiler/ir/graph.ts';
import { numel } from '../../compiler/ir/graph.ts';

/** mulberry32: a small seeded PRNG, so the same seed gives the same weights. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ParamToInit {
  readonly name: string;
  readonly shape: Shape;
  /** The layer's weight shape (for a bias, its layer's weight), to get fan-in and fan-out. */
  readonly weightShape: Shape | null;
  readonly role: 'weight' | 'bias' | 'running_mean' | 'running_var';
  readonly layer: 'conv2d' | 'linear' | 'batchnorm';
}

/** PyTorch's _calculate_fan_in_and_fan_out: fan_in = in * receptive field, fan_out = out * receptive field. */
function fans(w: Shape): { fanIn: number; fanOut: number } {
  const receptive = numel(w.slice(2));
  return { fanIn: w[1]! * receptive, fanOut: w[0]! * receptive };
}

export function initParam(p: ParamToInit, kind: InitKind, random: () => number): Float32Array {
  const out = new Float32Array(numel(p.shape));
  const uniform = (bound: number) => {
    for (let i = 0; i < out.length; i++) out[i] = (random() * 2 - 1) * bound;
  };
  if (p.layer === 'batchnorm') {
    out.fill(p.role === 'weight' || p.role === 'running_var' ? 1 : 0);
    return out;
  }
  const { fanIn, fanOut } = fans(p.weightShape!);
  if (p.role === 'bias' || kind === 'default') uniform(1 / Math.sqrt(fanIn));
  else if (kind === 'xavier_uniform') uniform(Math.sqrt(6 / (fanIn + fanOut)));
  else uniform(Math.sqrt(2) * Math.sqrt(3 / fanIn));
  return out;
}
