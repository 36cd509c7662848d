// Whole models on the GPU against the float64 interpreter: evaluation forward, loss, and one
// training step (every op's backward, fan-in sums, batch norm running stats, dropout masks, SGD;
// the 3-D ops too).
// Tolerance: float32 GPU vs float64 reference, rtol 1e-3 atol 1e-5 on outputs and updated weights.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { compile, type Model } from '../../runtime/model.ts';
import {
  backward,
  forward,
  lossOf,
  updatedRunningStats,
  type Masks,
  type Params,
} from '../../runtime/reference/interpret.ts';
import { tensor, type Tensor } from '../../runtime/reference/tensor.ts';
import { dropoutMask } from '../../runtime/gpu/rng.ts';
import { createRng, randn } from '../helpers/random.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { numel } from '../../compiler/ir/graph.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const residual = `
block Residual(c, use_1x1conv = false, strides = 1) {
  y = x -> conv(c, kernel = 3, padding = 1, stride = strides) as conv1 -> batchnorm as bn1 -> relu
        -> conv(c, kernel = 3, padding = 1) as conv2 -> batchnorm as bn2
  shortcut = if use_1x1conv { x -> conv(c, kernel = 1, stride = strides) as conv3 } else { x }
  relu(y + shortcut)
}
model M {
  input [3, 8, 8]
  Residual(3)
  Residual(6, use_1x1conv = true, strides = 2)
  global_avgpool flatten linear(5)
}`;

const branches = `
model M {
  input [4, 7, 7]
  a = x -> conv(3, kernel = 1) leaky_relu(0.1)
  b = x -> maxpool(3, stride = 1, padding = 1) -> conv(2, kernel = (3, 1), padding = (1, 0), dilation = 1) tanh
  c = x -> avgpool(3, stride = 1, padding = 1) -> conv(4, kernel = 3, padding = 2, dilation = 2, groups = 2)
  concat(a, b, c) -> maxpool((2, 3), stride = (2, 2), padding = (0, 1))
  adaptive_avgpool(2, 2) flatten dropout(0.3) linear(8, bias = false) batchnorm sigmoid linear(3)
}`;

const lenet = `
model LeNet {
  input [1, 28, 28]
  conv(6, kernel = 5, padding = 2) sigmoid
  avgpool(2, stride = 2)
  conv(16, kernel = 5) sigmoid
  avgpool(2, stride = 2)
  flatten
  linear(120) sigmoid
  linear(84) sigmoid
  linear(10)
}`;

// Batch 32 lets row blocks divide the batch and N * W: the input gradients take runs (the 5x5
// conv's, as LeNet's) and pixel-major rows (the dilated conv's, with the relu gradient fused).
const unitStride = `
model P {
  input [1, 16, 16]
  conv(6, kernel = 5, padding = 2) relu
  avgpool(2, stride = 2)
  conv(16, kernel = 5, padding = 2) relu
  conv(3, kernel = 3, padding = 2, dilation = 2) relu
  flatten linear(3)
}`;

const corr2d = `
model Corr2d {
  input [1, 6, 8]
  conv(1, kernel = (1, 2), bias = false)
}
train {
  loss mse_sum
  optimizer sgd(lr = 3e-2)
}`;

// PyTorch's pooling options: a dilated ceil_mode max pool (last windows past the input) and a
// ceil_mode average pool counting only input elements, each gradient with an activation's fused.
const poolOptions = `
model PoolOptions {
  input [2, 13, 12]
  conv(4, kernel = 3, padding = 1) relu
  maxpool(3, stride = 2, padding = 1, dilation = 2, ceil_mode = true)
  conv(4, kernel = 1) sigmoid
  avgpool(3, stride = 2, padding = 1, ceil_mode = true, count_include_pad = false)
  flatten linear(3)
}`;

// 3-D: the relu's gradient fuses into the second conv3d's input gradient, tanh's into the max pool's.
const volumes = `
model V {
  input [2, 5, 6, 5]
  conv3d(4, kernel = 3, padding = 1) relu
  conv3d(6, kernel = (2, 3, 2), stride = (1, 2, 1), padding = 1, dilation = (2, 1, 1), groups = 2) batchnorm tanh
  maxpool3d(2, stride = 1, padding = 1)
  avgpool3d((2, 1, 2), padding = (1, 0, 1))
  flatten linear(3)
}`;

const lr = 0.05;

async function params(model: Model): Promise<Params> {
  const out: Params = new Map();
  for (const node of model.compiled.graph.nodes) {
    for (const p of node.params) {
      if (p.role === 'num_batches_tracked') continue;
      out.set(p.name, tensor(p.shape, await model.getParam(p.name)));
    }
  }
  return out;
}

const roundF32 = (t: Tensor): Tensor => tensor(t.shape, Float32Array.from(t.data));

const cases = [
  ['LeNet (conv, sigmoid, avgpool, linear; cross-entropy)', lenet, 4],
  ['two Residual blocks (batch norm, 1x1 shortcut, identity shortcut, fan-in)', residual, 3],
  ['branches (concat, pools with padding, dilation, groups, dropout, batchnorm1d)', branches, 5],
  ['stride-1 convs at batch 32 (input gradients in runs and pixel-major rows)', unitStride, 32],
  ['d2l 7.2 corr2d (no bias; summed squared error)', corr2d, 1],
  ['pooling options (dilation, ceil_mode, count_include_pad)', poolOptions, 3],
  ['3-D volumes (conv3d with dilation and groups, BatchNorm3d, padded 3-D pools)', volumes, 3],
] as const;

// Fused (activations and their gradients in neighbouring kernels' epilogues) and unfused (every
// op its own kernel), with GEMM loads shared through subgroups (where the adapter has them) and
// without, must all match the same float64 reference.
const variants = [
  { fuse: true, subgroups: true, label: 'fused' },
  { fuse: false, subgroups: true, label: 'unfused' },
  { fuse: true, subgroups: false, label: 'fused, no subgroups' },
] as const;
describe.each(
  cases.flatMap(([name, source, batch]) =>
    variants.map((v) => [`${name}, ${v.label}`, source, batch, v.fuse, v.subgroups] as const),
  ),
)('%s', (name, source, batch, fuse, subgroups) => {
  let model: Model;
  beforeAll(async () => {
    model = await compile(source, {
      gpu,
      batch,
      seed: 7,
      fuse,
      subgroups,
      optimizer: { kind: 'sgd', lr, momentum: 0, weightDecay: 0 },
    });
  });
  afterAll(() => model.dispose());

  it(
    fuse
      ? 'fuses every activation of the training step into a neighbouring kernel'
      : 'keeps every activation a kernel of its own',
    () => {
      // Loads are shared through subgroups where the adapter has them, by the 2-D conv kernels:
      // the 3-D model has none, and its one GEMM is small (matmul.ts gives those an unshared tile).
      const shared = model.compiled.kernels.train.some((c) => c.kernel.wgsl.includes('subgroupShuffle'));
      expect(shared).toBe(subgroups && gpu.limits.subgroupMinSize >= 8 && !name.startsWith('3-D'));
      const train = model.compiled.program.train;
      const activations = train.filter((op) => op.op === 'unary').length;
      if (!fuse) {
        expect(model.compiled.fusion).toBeNull();
        expect(activations).toBe(
          model.compiled.graph.nodes.filter((n) => ['relu', 'sigmoid', 'tanh', 'leaky_relu'].includes(n.op)).length,
        );
        return;
      }
      // Each of these models has an op with an epilogue before every activation.
      expect(activations).toBe(0);
      expect(
        model.compiled.fusion!.filter((d) => d.pass === 'train' && d.op.startsWith('unary(')).every((d) => d.fused),
      ).toBe(true);
      if (name.startsWith('LeNet')) expect(train.filter((op) => op.op === 'unary_grad')).toHaveLength(0);
    },
  );

  it('evaluation forward and one SGD step match the float64 interpreter (rtol 1e-3, atol 1e-5)', async () => {
    const g = model.compiled.graph;
    const input = g.nodes[0]!.shape;
    const out = g.nodes[g.output]!.shape;
    const rng = createRng(11);
    const x = roundF32(randn(rng, input));
    const classification = model.compiled.train.loss === 'cross_entropy';
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % out[1]!);
    const target = classification ? labels : roundF32(randn(rng, out));
    // Batch norm starts as the identity (mean 0, var 1, weight 1, bias 0), which would hide a wrong
    // folded affine map in the evaluation forward: give its statistics and parameters real values.
    for (const node of g.nodes.filter((n) => n.op === 'batchnorm')) {
      for (const p of node.params) {
        if (p.role === 'num_batches_tracked') continue;
        const values = randn(rng, p.shape).data;
        model.setParam(
          p.name,
          Float32Array.from(values, (v) =>
            p.role === 'running_var' ? 0.5 + v * v : p.role === 'weight' ? 1 + 0.3 * v : 0.3 * v,
          ),
        );
      }
    }
    const p0 = await params(model);

    const y = await model.forward(Float32Array.from(x.data));
    expectAllclose(y, forward(g, p0, x, 'eval').output.data, { rtol: 1e-3, atol: 1e-5 }, 'eval output');

    model.trainStep(Float32Array.from(x.data), classification ? labels : Float32Array.from((target as Tensor).data));
    const masks: Masks = new Map(
      g.nodes
        .filter((n) => n.op === 'dropout')
        .map((n) => {
          const p = (n.attrs as { p: number }).p;
          return [n.id, tensor(n.shape, dropoutMask(numel(n.shape), p, { seed: 7, step: 0, stream: n.id }))];
        }),
    );
    const fwd = forward(g, p0, x, 'train', masks);
    const { loss, grad } = lossOf(model.compiled.train.loss, fwd.output, target);
    expect(await model.lastLoss()).toBeCloseTo(loss, 4);
    const grads = backward(g, p0, fwd, grad, masks);
    const stats = updatedRunningStats(g, p0, fwd);
    for (const [name, p] of p0) {
      const got = await model.getParam(name);
      const g1 = grads.get(name);
      const want = g1 ? p.data.map((v, i) => v - lr * g1.data[i]!) : (stats.get(name)?.data ?? p.data);
      expectAllclose(got, want, { rtol: 1e-3, atol: 1e-5 }, name);
    }
  });
});
