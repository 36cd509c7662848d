// Activations, the residual add and dropout: elementwise ops and their gradients. Each backward
// takes the forward INPUT x (not the output) and the cotangent dy.
import { type Tensor, map, zip } from './tensor.ts';

export function relu(x: Tensor): Tensor {
  return map(x, (v) => (v > 0 ? v : 0));
}

/** PyTorch's threshold_backward passes the gradient only where x > 0: the gradient at exactly 0 is 0. */
export function reluBackward(x: Tensor, dy: Tensor): Tensor {
  return zip(x, dy, (v, g) => (v > 0 ? g : 0), 'reluBackward');
}

/** 1 / (1 + e^-x), written so that neither branch's exponential overflows. */
function logistic(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

export function sigmoid(x: Tensor): Tensor {
  return map(x, logistic);
}

export function sigmoidBackward(x: Tensor, dy: Tensor): Tensor {
  return zip(
    x,
    dy,
    (v, g) => {
      const s = logistic(v);
      return g * s * (1 - s);
    },
    'sigmoidBackward',
  );
}

export function tanh(x: Tensor): Tensor {
  return map(x, Math.tanh);
}

export function tanhBackward(x: Tensor, dy: Tensor): Tensor {
  return zip(x, dy, (v, g) => g * (1 - Math.tanh(v) ** 2), 'tanhBackward');
}

/** Returns a copy, so no reference op's output aliases its input. */
export function identity(x: Tensor): Tensor {
  return map(x, (v) => v);
}

export function leakyRelu(x: Tensor, slope: number): Tensor {
  return map(x, (v) => (v > 0 ? v : v * slope));
}

/** PyTorch's leaky_relu_backward is `x > 0 ? dy : dy * slope`: the gradient at exactly 0 is the slope. */
export function leakyReluBackward(x: Tensor, dy: Tensor, slope: number): Tensor {
  return zip(x, dy, (v, g) => (v > 0 ? g : g * slope), 'leakyReluBackward');
}

/** The residual sum; its gradient is dy for both operands. */
export function add(a: Tensor, b: Tensor): Tensor {
  return zip(a, b, (u, v) => u + v, 'add');
}

/**
 * Inverted dropout (PyTorch F.dropout in training): y = x * mask / (1 - p) for a 0/1 keep-mask.
 * At p = 1 PyTorch returns x * 0 rather than dividing by zero.
 */
function dropoutScale(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  return p === 1 ? 0 : 1 / (1 - p);
}

export function dropout(x: Tensor, mask: Tensor, p: number): Tensor {
  const scale = dropoutScale(p);
  return zip(x, mask, (v, m) => v * m * scale, 'dropout');
}

export function dropoutBackward(dy: Tensor, mask: Tensor, p: number): Tensor {
  return dropout(dy, mask, p);
}
