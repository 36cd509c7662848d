// The single list of graph ops and their attributes. Adding an op here makes the type checker list
// every stage table (shape rules, reference ops, gradients, kernels) that lacks it.

export type Pair = readonly [number, number];
/** (depth, height, width) of a 3-D window. */
export type Triple = readonly [number, number, number];

export interface OpAttrs {
  /** The model input; `shape` excludes the batch dimension ([C, H, W], [C, D, H, W] or [F]). */
  input: { readonly shape: readonly number[] };
  conv2d: {
    readonly outChannels: number;
    readonly kernel: Pair;
    readonly stride: Pair;
    readonly padding: Pair;
    readonly dilation: Pair;
    readonly groups: number;
    readonly bias: boolean;
  };
  linear: { readonly outFeatures: number; readonly bias: boolean };
  /**
   * PyTorch's MaxPool2d. ceilMode rounds the output size up, but a window must start inside the
   * input or its left padding; taps past the input are skipped.
   */
  maxpool2d: {
    readonly kernel: Pair;
    readonly stride: Pair;
    readonly padding: Pair;
    readonly dilation: Pair;
    readonly ceilMode: boolean;
  };
  /**
   * PyTorch's AvgPool2d. countIncludePad: padded zeros count in the divisor, which is clipped to the
   * padded input where a ceilMode window runs past it; otherwise only the input elements count.
   */
  avgpool2d: {
    readonly kernel: Pair;
    readonly stride: Pair;
    readonly padding: Pair;
    readonly ceilMode: boolean;
    readonly countIncludePad: boolean;
  };
  adaptive_avgpool2d: { readonly output: Pair };
  /** PyTorch Conv3d on [N, C, D, H, W]; weight [out, in / groups, kd, kh, kw]. */
  conv3d: {
    readonly outChannels: number;
    readonly kernel: Triple;
    readonly stride: Triple;
    readonly padding: Triple;
    readonly dilation: Triple;
    readonly groups: number;
    readonly bias: boolean;
  };
  /** PyTorch MaxPool3d (ceil_mode = false). */
  maxpool3d: { readonly kernel: Triple; readonly stride: Triple; readonly padding: Triple; readonly dilation: Triple };
  /** PyTorch AvgPool3d (ceil_mode = false, count_include_pad = true). */
  avgpool3d: { readonly kernel: Triple; readonly stride: Triple; readonly padding: Triple };
  batchnorm: { readonly eps: number; readonly momentum: number };
  dropout: { readonly p: number };
  flatten: Record<string, never>;
  relu: Record<string, never>;
  sigmoid: Record<string, never>;
  tanh: Record<string, never>;
  identity: Record<string, never>;
  leaky_relu: { readonly slope: number };
  /** Elementwise sum of two tensors of the same shape (the residual `+`). */
  add: Record<string, never>;
  /** Concatenation along channels (dim 1). */
  concat: Record<string, never>;
}

export type OpKind = keyof OpAttrs;

/** What `cnnc summary` calls each op (PyTorch's module class names, as d2l's layer_summary prints). */
export const opDisplayNames: { readonly [K in OpKind]: string } = {
  input: 'Input',
  conv2d: 'Conv2d',
  linear: 'Linear',
  maxpool2d: 'MaxPool2d',
  avgpool2d: 'AvgPool2d',
  adaptive_avgpool2d: 'AdaptiveAvgPool2d',
  conv3d: 'Conv3d',
  maxpool3d: 'MaxPool3d',
  avgpool3d: 'AvgPool3d',
  batchnorm: 'BatchNorm',
  dropout: 'Dropout',
  flatten: 'Flatten',
  relu: 'ReLU',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  identity: 'Identity',
  leaky_relu: 'LeakyReLU',
  add: 'Add',
  concat: 'Concat',
};
