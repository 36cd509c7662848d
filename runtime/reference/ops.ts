// The float64 CPU reference of every graph op, forward and backward, with PyTorch semantics. Direct
// loops, written to be obviously correct rather than fast: the oracle that tests check the WGSL
// kernels against. NCHW activations, OIHW conv weights, [out, in] linear weights.
export { type Tensor, numel, tensor } from './tensor.ts';
export { conv2d, conv2dBackward } from './conv.ts';
export { linear, linearBackward } from './linear.ts';
export {
  adaptiveAvgpool2d,
  adaptiveAvgpool2dBackward,
  avgpool2d,
  avgpool2dBackward,
  maxpool2d,
  maxpool2dBackward,
} from './pool.ts';
export { conv3d, conv3dBackward } from './conv3d.ts';
export { avgpool3d, avgpool3dBackward, maxpool3d, maxpool3dBackward } from './pool3d.ts';
export {
  batchnormEval,
  batchnormEvalBackward,
  batchnormTrain,
  batchnormTrainBackward,
  updateRunningStats,
} from './norm.ts';
export {
  add,
  dropout,
  dropoutBackward,
  identity,
  leakyRelu,
  leakyReluBackward,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
} from './elementwise.ts';
export { concat, concatBackward, flatten, flattenBackward } from './layout.ts';
export {
  mseMean,
  mseMeanBackward,
  mseSum,
  mseSumBackward,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackward,
} from './loss.ts';
export {
  type AdamHyper,
  type AdamState,
  type SgdHyper,
  type SgdState,
  adamInitState,
  adamStep,
  adamwStep,
  sgdStep,
} from './optim.ts';
