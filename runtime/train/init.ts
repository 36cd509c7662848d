// Parameter initialisation as PyTorch does it. `default`: PyTorch's own layer init (weights
// kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases the same bound).
// `xavier_uniform`: d2l's init_cnn, xavier_uniform_ on conv and linear weights, biases default.
// `kaiming`: kaiming_uniform_ (fan_in, ReLU gain). Batch norm: weight 1, bias 0, running var 1.
import type { InitKind } from '../../compiler/ir/recipe.ts';
import type { Shape } from '../../compiler/ir/graph.ts';
import type { OpKind } from '../../compiler/ir/ops.ts';
import { numel } from '../../compiler/ir/graph.ts';
import type { Mulberry32 } from '../random.ts';

export interface ParamToInit {
  readonly name: string;
  readonly shape: Shape;
  /** The layer's weight shape (for a bias, its layer's weight), to get fan-in and fan-out. */
  readonly weightShape: Shape | null;
  readonly role: 'weight' | 'bias' | 'running_mean' | 'running_var';
  /** The op the parameter belongs to: batch norm's are constants, every other's drawn from its fans. */
  readonly layer: OpKind;
}

/** PyTorch's _calculate_fan_in_and_fan_out: fan_in = in * receptive field, fan_out = out * receptive field. */
function fans(w: Shape): { fanIn: number; fanOut: number } {
  const receptive = numel(w.slice(2));
  return { fanIn: w[1]! * receptive, fanOut: w[0]! * receptive };
}

/**
 * Fills `out` (numel(p.shape) values) with p's initial values. The caller owns `out`: filling one
 * reused buffer spares fresh pages, whose first touch cost this machine more than drawing the numbers.
 */
export function initParam(p: ParamToInit, kind: InitKind, random: Mulberry32, out: Float32Array): void {
  if (out.length !== numel(p.shape))
    throw new Error(`internal: ${p.name} has ${numel(p.shape)} values, ${out.length} given`);
  const uniform = (bound: number) => random.fillUniform(out, bound);
  if (p.layer === 'batchnorm') {
    out.fill(p.role === 'weight' || p.role === 'running_var' ? 1 : 0);
    return;
  }
  const { fanIn, fanOut } = fans(p.weightShape!);
  if (p.role === 'bias' || kind === 'default') uniform(1 / Math.sqrt(fanIn));
  else if (kind === 'xavier_uniform') uniform(Math.sqrt(6 / (fanIn + fanOut)));
  else uniform(Math.sqrt(2) * Math.sqrt(3 / fanIn));
}
