// Batch normalization, PyTorch BatchNorm2d on [N, C, H, W] (statistics per channel over N, H, W),
// BatchNorm3d on [N, C, D, H, W] (over N, D, H, W) and BatchNorm1d on [N, F] (per feature over N), always affine (gamma, beta of shape [C]).
import { type Tensor, assertRank, assertSameShape, at, dim, generate, numel, sameShape } from './tensor.ts';
import { channelSums, mapChannels } from './channels.ts';

/** Values per channel: N*H*W, or N for 2-D input. */
function perChannel(x: Tensor): number {
  return numel(x.shape) / dim(x.shape, 1);
}

function checkChannels(x: Tensor, perChannelTensors: readonly Tensor[], what: string): void {
  assertRank(x, [2, 4, 5], what);
  for (const t of perChannelTensors) {
    if (!sameShape(t.shape, [dim(x.shape, 1)]))
      throw new Error(
        `${what}: per-channel tensor [${t.shape.join(', ')}] does not match input [${x.shape.join(', ')}]`,
      );
  }
}

/** Per-channel mean and biased variance (divide by the count, as PyTorch normalizes in training). */
function channelStats(x: Tensor): { mean: Tensor; varBiased: Tensor } {
  const m = perChannel(x);
  const mean = channelSums(x.shape, (i) => at(x.data, i) / m);
  const varBiased = channelSums(x.shape, (i, c) => (at(x.data, i) - at(mean.data, c)) ** 2 / m);
  return { mean, varBiased };
}

function invStd(variance: Tensor, eps: number): Tensor {
  return generate(variance.shape, (c) => 1 / Math.sqrt(at(variance.data, c) + eps));
}

/** xhat = (x - mean) * invstd, per channel. */
function normalize(x: Tensor, mean: Tensor, invstd: Tensor): Tensor {
  return mapChannels(x.shape, (i, c) => (at(x.data, i) - at(mean.data, c)) * at(invstd.data, c));
}

/** y = gamma * xhat + beta, per channel. */
function affine(xhat: Tensor, gamma: Tensor, beta: Tensor): Tensor {
  return mapChannels(xhat.shape, (i, c) => at(gamma.data, c) * at(xhat.data, i) + at(beta.data, c));
}

/** dgamma = sum dy*xhat and dbeta = sum dy, per channel: the same in both modes. */
function affineGrads(xhat: Tensor, dy: Tensor): { dgamma: Tensor; dbeta: Tensor } {
  return {
    dgamma: channelSums(dy.shape, (i) => at(dy.data, i) * at(xhat.data, i)),
    dbeta: channelSums(dy.shape, (i) => at(dy.data, i)),
  };
}

/** Training-mode forward: normalizes with the batch's own statistics. */
export function batchnormTrain(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  eps: number,
): { y: Tensor; mean: Tensor; varBiased: Tensor; invstd: Tensor } {
  checkChannels(x, [gamma, beta], 'batchnormTrain');
  const { mean, varBiased } = channelStats(x);
  const invstd = invStd(varBiased, eps);
  return { y: affine(normalize(x, mean, invstd), gamma, beta), mean, varBiased, invstd };
}

/**
 * Training-mode VJP, through the batch statistics too. With m values per channel:
 * dx = gamma*invstd/m * (m*dy - dbeta - xhat*dgamma).
 */
export function batchnormTrainBackward(
  x: Tensor,
  gamma: Tensor,
  dy: Tensor,
  eps: number,
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  checkChannels(x, [gamma], 'batchnormTrainBackward');
  assertSameShape(x, dy, 'batchnormTrainBackward');
  const { mean, varBiased } = channelStats(x);
  const invstd = invStd(varBiased, eps);
  const xhat = normalize(x, mean, invstd);
  const { dgamma, dbeta } = affineGrads(xhat, dy);
  const m = perChannel(x);
  const dx = mapChannels(
    x.shape,
    (i, c) =>
      ((at(gamma.data, c) * at(invstd.data, c)) / m) *
      (m * at(dy.data, i) - at(dbeta.data, c) - at(xhat.data, i) * at(dgamma.data, c)),
  );
  return { dx, dgamma, dbeta };
}

/** Eval-mode forward: normalizes with the running statistics (a fixed per-channel affine map). */
export function batchnormEval(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runMean: Tensor,
  runVar: Tensor,
  eps: number,
): Tensor {
  checkChannels(x, [gamma, beta, runMean, runVar], 'batchnormEval');
  return affine(normalize(x, runMean, invStd(runVar, eps)), gamma, beta);
}

/** Eval-mode VJP: the statistics are constants, so dx = dy * gamma * invstd. */
export function batchnormEvalBackward(
  x: Tensor,
  gamma: Tensor,
  runMean: Tensor,
  runVar: Tensor,
  dy: Tensor,
  eps: number,
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  checkChannels(x, [gamma, runMean, runVar], 'batchnormEvalBackward');
  assertSameShape(x, dy, 'batchnormEvalBackward');
  const invstd = invStd(runVar, eps);
  const dx = mapChannels(x.shape, (i, c) => at(dy.data, i) * at(gamma.data, c) * at(invstd.data, c));
  return { dx, ...affineGrads(normalize(x, runMean, invstd), dy) };
}

/**
 * PyTorch's running-statistics update after a training step: running = (1 - m) * running + m * batch,
 * where the variance blended in is the UNBIASED batch variance varBiased * n / (n - 1), n = count
 * values per channel (PyTorch refuses training batch norm with a single value per channel).
 */
export function updateRunningStats(
  runMean: Tensor,
  runVar: Tensor,
  mean: Tensor,
  varBiased: Tensor,
  count: number,
  momentum: number,
): { runMean: Tensor; runVar: Tensor } {
  if (count < 2) throw new Error(`updateRunningStats: need more than 1 value per channel, got ${count}`);
  return {
    runMean: generate(runMean.shape, (c) => momentum * at(mean.data, c) + (1 - momentum) * at(runMean.data, c)),
    runVar: generate(
      runVar.shape,
      (c) => momentum * ((at(varBiased.data, c) * count) / (count - 1)) + (1 - momentum) * at(runVar.data, c),
    ),
  };
}
