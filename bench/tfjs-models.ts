// d2l's LeNet and ResNet-18 written with TensorFlow.js ops, on the weights cnnc wrote (PyTorch
// state_dict names and layouts, converted here to TensorFlow's NHWC / HWIO). Plain ops, as a port of
// the d2l code would use; the optimizer's minimize() records the gradients.
import type * as TF from '@tensorflow/tfjs';

type Weights = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

export interface TfModel {
  /** Logits [N, classes] of an NHWC input. */
  forward(x: TF.Tensor4D): TF.Tensor2D;
  readonly variables: TF.Variable[];
}

/** Variables by state_dict name, each converted to TensorFlow's layout by `layout`. */
function variables(tf: typeof TF, weights: Weights, layout: (name: string, t: TF.Tensor) => TF.Tensor) {
  const vars = new Map<string, TF.Variable>();
  for (const [name, w] of weights) {
    // Batch-norm running statistics do not enter a training-mode forward pass (see bn below).
    if (name.endsWith('running_mean') || name.endsWith('running_var')) continue;
    vars.set(
      name,
      tf.tidy(() => tf.variable(layout(name, tf.tensor(w.data, [...w.shape])), true, name)),
    );
  }
  const get = (name: string): TF.Variable => {
    const v = vars.get(name);
    if (!v) throw new Error(`no weight ${name} in the checkpoint`);
    return v;
  };
  return { get, all: [...vars.values()] };
}

/** Conv [out, in, kh, kw] -> [kh, kw, in, out]; linear [out, in] -> [in, out]. */
const standardLayout =
  (tf: typeof TF) =>
  (_name: string, t: TF.Tensor): TF.Tensor =>
    t.rank === 4 ? tf.transpose(t, [2, 3, 1, 0]) : t.rank === 2 ? tf.transpose(t) : t;

function layers(tf: typeof TF, get: (name: string) => TF.Variable) {
  return {
    conv: (x: TF.Tensor4D, name: string, stride: number, pad: number): TF.Tensor4D =>
      tf.add(tf.conv2d(x, get(`${name}.weight`) as TF.Tensor4D, stride, pad), get(`${name}.bias`)),
    linear: (x: TF.Tensor2D, name: string): TF.Tensor2D =>
      tf.add(tf.matMul(x, get(`${name}.weight`) as TF.Tensor2D), get(`${name}.bias`)),
    // Training mode normalises with the batch's statistics. Updating running_mean/var would add
    // ops that change neither the loss nor the gradients; leaving them out only favours tfjs.
    bn: (x: TF.Tensor4D, name: string): TF.Tensor4D => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(
        x,
        mean,
        variance,
        get(`${name}.bias`) as TF.Tensor1D,
        get(`${name}.weight`) as TF.Tensor1D,
        1e-5,
      ) as TF.Tensor4D;
    },
  };
}

export function lenet(tf: typeof TF, weights: Weights): TfModel {
  const standard = standardLayout(tf);
  // PyTorch flattens [16, 5, 5] channel-major, NHWC flattens channel-minor: permute 7.weight's
  // input axis once here instead of transposing the activations every step.
  const layout = (name: string, t: TF.Tensor): TF.Tensor =>
    name === '7.weight'
      ? tf.reshape(tf.transpose(tf.reshape(t, [120, 16, 5, 5]), [2, 3, 1, 0]), [400, 120])
      : standard(name, t);
  const { get, all } = variables(tf, weights, layout);
  const { conv, linear } = layers(tf, get);
  const forward = (x: TF.Tensor4D): TF.Tensor2D => {
    let y = tf.avgPool(tf.sigmoid(conv(x, '0', 1, 2)), 2, 2, 'valid');
    y = tf.avgPool(tf.sigmoid(conv(y, '3', 1, 0)), 2, 2, 'valid');
    let z = tf.reshape(y, [x.shape[0], -1]) as TF.Tensor2D;
    z = tf.sigmoid(linear(z, '7'));
    z = tf.sigmoid(linear(z, '9'));
    return linear(z, '11');
  };
  return { forward, variables: all };
}

export function resnet18(tf: typeof TF, weights: Weights): TfModel {
  const { get, all } = variables(tf, weights, standardLayout(tf));
  const { conv, linear, bn } = layers(tf, get);
  const residual = (x: TF.Tensor4D, name: string, strides: number, use1x1: boolean): TF.Tensor4D => {
    let y = tf.relu(bn(conv(x, `${name}.conv1`, strides, 1), `${name}.bn1`));
    y = bn(conv(y, `${name}.conv2`, 1, 1), `${name}.bn2`);
    const shortcut = use1x1 ? conv(x, `${name}.conv3`, strides, 0) : x;
    return tf.relu(tf.add(y, shortcut)) as TF.Tensor4D;
  };
  const forward = (x: TF.Tensor4D): TF.Tensor2D => {
    let y = tf.maxPool(tf.relu(bn(conv(x, '0.0', 2, 3), '0.1')), 3, 2, 1);
    for (const [i, stage] of ['b2', 'b3', 'b4', 'b5'].entries()) {
      y = residual(y, `${stage}.0`, i === 0 ? 1 : 2, i !== 0);
      y = residual(y, `${stage}.1`, 1, false);
    }
    return linear(tf.mean(y, [1, 2]) as TF.Tensor2D, 'last.2');
  };
  return { forward, variables: all };
}
