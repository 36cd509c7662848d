// The per-channel bias shared by conv2d and linear: b[c] is added to every element of channel c (dim 1).
import { type Tensor, at, sameShape } from './tensor.ts';
import { channelSums, mapChannels } from './channels.ts';

export function checkBias(b: Tensor | null, channels: number, hasBias: boolean, what: string): void {
  if (hasBias !== (b !== null))
    throw new Error(`${what}: attrs say bias=${hasBias} but bias is ${b === null ? 'null' : 'given'}`);
  if (b !== null && !sameShape(b.shape, [channels]))
    throw new Error(`${what}: bias shape [${b.shape.join(', ')}] is not [${channels}]`);
}

export function addChannelBias(y: Tensor, b: Tensor | null): Tensor {
  return b === null ? y : mapChannels(y.shape, (i, c) => at(y.data, i) + at(b.data, c));
}

/** The bias gradient: dy summed over every dim but the channel. */
export function channelBiasGrad(dy: Tensor): Tensor {
  return channelSums(dy.shape, (i) => at(dy.data, i));
}
