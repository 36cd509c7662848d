// Losses: scalar values and their gradients with respect to the prediction (upstream gradient 1).
import { type Tensor, assertRank, at, dim, generate, numel, zip } from './tensor.ts';

/** Row n's log-sum-exp, shifted by the row maximum so exp never overflows. */
function logSumExp(logits: Tensor, n: number): number {
  const k = dim(logits.shape, 1);
  const row = logits.data.subarray(n * k, (n + 1) * k);
  const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
  return max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
}

function checkLabels(logits: Tensor, labels: Int32Array): void {
  assertRank(logits, [2], 'softmaxCrossEntropy logits');
  const [n, k] = logits.shape as [number, number];
  if (labels.length !== n) throw new Error(`softmaxCrossEntropy: ${labels.length} labels for a batch of ${n}`);
  for (const l of labels) if (l < 0 || l >= k) throw new Error(`softmaxCrossEntropy: label ${l} outside [0, ${k})`);
}

/** nn.CrossEntropyLoss (reduction 'mean'): mean over the batch of logsumexp(row) - row[label]. */
export function softmaxCrossEntropy(logits: Tensor, labels: Int32Array): number {
  checkLabels(logits, labels);
  const [n, k] = logits.shape as [number, number];
  let total = 0;
  for (let b = 0; b < n; b++) total += logSumExp(logits, b) - at(logits.data, b * k + at(labels, b));
  return total / n;
}

/** d loss / d logits = (softmax(row) - onehot(label)) / N. */
export function softmaxCrossEntropyBackward(logits: Tensor, labels: Int32Array): Tensor {
  checkLabels(logits, labels);
  const [n, k] = logits.shape as [number, number];
  const lse = Array.from({ length: n }, (_, b) => logSumExp(logits, b));
  return generate(logits.shape, (i) => {
    const b = Math.floor(i / k);
    const onehot = i % k === at(labels, b) ? 1 : 0;
    return (Math.exp(at(logits.data, i) - at(lse, b)) - onehot) / n;
  });
}

/** Squared error summed over every element: d2l's `((Y_hat - Y) ** 2).sum()`. */
export function mseSum(yhat: Tensor, y: Tensor): number {
  return zip(yhat, y, (a, b) => (a - b) ** 2, 'mseSum').data.reduce((s, v) => s + v, 0);
}

export function mseSumBackward(yhat: Tensor, y: Tensor): Tensor {
  return zip(yhat, y, (a, b) => 2 * (a - b), 'mseSumBackward');
}

/** nn.MSELoss (reduction 'mean'): the summed squared error over the element count. */
export function mseMean(yhat: Tensor, y: Tensor): number {
  return mseSum(yhat, y) / numel(yhat.shape);
}

export function mseMeanBackward(yhat: Tensor, y: Tensor): Tensor {
  const n = numel(yhat.shape);
  return zip(yhat, y, (a, b) => (2 * (a - b)) / n, 'mseMeanBackward');
}
