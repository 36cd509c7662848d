// Fully connected layer, PyTorch nn.Linear: y = x w^T + b with x [N, in], w [out, in], b [out].
import { type Tensor, assertRank, at, dim, sameShape, tensor } from './tensor.ts';
import { addChannelBias, channelBiasGrad, checkBias } from './bias.ts';

/** Calls visit(xi, wi, yi) for every product x[xi] * w[wi] summed into y[yi]. */
function forEachLinearTerm(x: Tensor, w: Tensor, visit: (xi: number, wi: number, yi: number) => void): void {
  assertRank(x, [2], 'linear input');
  const [n, fin] = x.shape as [number, number];
  const fout = dim(w.shape, 0);
  if (!sameShape(w.shape, [fout, fin]))
    throw new Error(`linear: weight [${w.shape.join(', ')}] does not take ${fin} inputs`);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < fout; o++) {
      for (let i = 0; i < fin; i++) visit(b * fin + i, o * fin + i, b * fout + o);
    }
  }
}

export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const y = tensor([dim(x.shape, 0), dim(w.shape, 0)]);
  forEachLinearTerm(x, w, (xi, wi, yi) => {
    y.data[yi] = at(y.data, yi) + at(x.data, xi) * at(w.data, wi);
  });
  checkBias(b, dim(w.shape, 0), b !== null, 'linear');
  return addChannelBias(y, b);
}

/** Vector-Jacobian product of linear for the cotangent dy; db is null when `bias` is false. */
export function linearBackward(
  x: Tensor,
  w: Tensor,
  dy: Tensor,
  bias: boolean,
): { dx: Tensor; dw: Tensor; db: Tensor | null } {
  if (!sameShape(dy.shape, [dim(x.shape, 0), dim(w.shape, 0)]))
    throw new Error(`linearBackward: bad dy shape [${dy.shape.join(', ')}]`);
  const dx = tensor(x.shape);
  const dw = tensor(w.shape);
  forEachLinearTerm(x, w, (xi, wi, yi) => {
    dx.data[xi] = at(dx.data, xi) + at(dy.data, yi) * at(w.data, wi);
    dw.data[wi] = at(dw.data, wi) + at(dy.data, yi) * at(x.data, xi);
  });
  return { dx, dw, db: bias ? channelBiasGrad(dy) : null };
}
