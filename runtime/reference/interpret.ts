// The float64 interpreter of a shaped graph: forward (training or evaluation mode), loss, backward
// and one optimizer step, on the reference ops. The oracle the GPU training step is checked against.
import type { NodeId, ParamRole, ShapedGraph, ShapedNode } from '../../compiler/ir/graph.ts';
import type { LossKind } from '../../compiler/ir/recipe.ts';
import { assertNever } from '../../compiler/diagnostics/diagnostic.ts';
import * as ops from './ops.ts';
import type { Tensor } from './tensor.ts';

export type Params = Map<string, Tensor>;

export interface ForwardResult {
  readonly values: Map<NodeId, Tensor>;
  /** Batch statistics of each batch norm in training mode, for its backward and running stats. */
  readonly bnStats: Map<NodeId, { mean: Tensor; varBiased: Tensor }>;
  readonly output: Tensor;
}

/** Dropout masks per node (1 keep / 0 drop), as the GPU drew them; absent means no dropout. */
export type Masks = ReadonlyMap<NodeId, Tensor>;

/** A parameter's state_dict name, as shape inference gave it (the layer has it: a rule asks only for those). */
const nameOf = (node: ShapedNode, role: ParamRole): string => {
  const name = node.params.find((q) => q.role === role)?.name;
  if (name === undefined) throw new Error(`internal: ${node.op}#${node.id} has no ${role}`);
  return name;
};
const p = (params: Params, node: ShapedNode, role: ParamRole): Tensor => params.get(nameOf(node, role))!;
const opt = (params: Params, node: ShapedNode, role: ParamRole): Tensor | null =>
  node.params.some((q) => q.role === role) ? (params.get(nameOf(node, role)) ?? null) : null;

export function forward(
  g: ShapedGraph,
  params: Params,
  input: Tensor,
  mode: 'train' | 'eval',
  masks: Masks = new Map(),
): ForwardResult {
  const values = new Map<NodeId, Tensor>();
  const bnStats = new Map<NodeId, { mean: Tensor; varBiased: Tensor }>();
  for (const n of g.nodes) {
    const xs = n.inputs.map((i) => values.get(i)!);
    const x = xs[0]!;
    let y: Tensor;
    switch (n.op) {
      case 'input':
        y = input;
        break;
      case 'conv2d':
        y = ops.conv2d(x, p(params, n, 'weight'), opt(params, n, 'bias'), n.attrs);
        break;
      case 'linear':
        y = ops.linear(x, p(params, n, 'weight'), opt(params, n, 'bias'));
        break;
      case 'maxpool2d':
        y = ops.maxpool2d(x, n.attrs);
        break;
      case 'avgpool2d':
        y = ops.avgpool2d(x, n.attrs);
        break;
      case 'adaptive_avgpool2d':
        y = ops.adaptiveAvgpool2d(x, n.attrs.output);
        break;
      case 'conv3d':
        y = ops.conv3d(x, p(params, n, 'weight'), opt(params, n, 'bias'), n.attrs);
        break;
      case 'maxpool3d':
        y = ops.maxpool3d(x, n.attrs);
        break;
      case 'avgpool3d':
        y = ops.avgpool3d(x, n.attrs);
        break;
      case 'batchnorm': {
        if (mode === 'eval') {
          y = ops.batchnormEval(
            x,
            p(params, n, 'weight'),
            p(params, n, 'bias'),
            p(params, n, 'running_mean'),
            p(params, n, 'running_var'),
            n.attrs.eps,
          );
        } else {
          const r = ops.batchnormTrain(x, p(params, n, 'weight'), p(params, n, 'bias'), n.attrs.eps);
          bnStats.set(n.id, { mean: r.mean, varBiased: r.varBiased });
          y = r.y;
        }
        break;
      }
      case 'dropout': {
        const mask = masks.get(n.id);
        y = mode === 'train' && mask ? ops.dropout(x, mask, n.attrs.p) : x;
        break;
      }
      case 'flatten':
        y = ops.flatten(x);
        break;
      case 'relu':
        y = ops.relu(x);
        break;
      case 'sigmoid':
        y = ops.sigmoid(x);
        break;
      case 'tanh':
        y = ops.tanh(x);
        break;
      case 'identity':
        y = x;
        break;
      case 'leaky_relu':
        y = ops.leakyRelu(x, n.attrs.slope);
        break;
      case 'add':
        y = ops.add(x, xs[1]!);
        break;
      case 'concat':
        y = ops.concat(xs);
        break;
      default:
        y = assertNever(n, 'reference');
    }
    values.set(n.id, y);
  }
  return { values, bnStats, output: values.get(g.output)! };
}

export function lossOf(kind: LossKind, out: Tensor, target: Tensor | Int32Array): { loss: number; grad: Tensor } {
  if (kind === 'cross_entropy') {
    const labels = target as Int32Array;
    return { loss: ops.softmaxCrossEntropy(out, labels), grad: ops.softmaxCrossEntropyBackward(out, labels) };
  }
  const y = target as Tensor;
  return kind === 'mse_sum'
    ? { loss: ops.mseSum(out, y), grad: ops.mseSumBackward(out, y) }
    : { loss: ops.mseMean(out, y), grad: ops.mseMeanBackward(out, y) };
}

/** Gradients of every learnable parameter (by name) from the output gradient, in training mode. */
export function backward(
  g: ShapedGraph,
  params: Params,
  fwd: ForwardResult,
  dOut: Tensor,
  masks: Masks = new Map(),
): Params {
  const grads: Params = new Map();
  const dvals = new Map<NodeId, Tensor>([[g.output, dOut]]);
  const acc = (id: NodeId, d: Tensor) => {
    const prev = dvals.get(id);
    dvals.set(id, prev ? ops.add(prev, d) : d);
  };
  for (const n of [...g.nodes].reverse()) {
    const dy = dvals.get(n.id);
    if (!dy || n.op === 'input') continue;
    const xs = n.inputs.map((i) => fwd.values.get(i)!);
    const x = xs[0]!;
    const [i0] = n.inputs as [NodeId];
    switch (n.op) {
      case 'conv2d':
      case 'conv3d': {
        const w = p(params, n, 'weight');
        const r = n.op === 'conv2d' ? ops.conv2dBackward(x, w, dy, n.attrs) : ops.conv3dBackward(x, w, dy, n.attrs);
        grads.set(nameOf(n, 'weight'), r.dw);
        if (r.db) grads.set(nameOf(n, 'bias'), r.db);
        acc(i0, r.dx);
        break;
      }
      case 'linear': {
        const r = ops.linearBackward(x, p(params, n, 'weight'), dy, n.attrs.bias);
        grads.set(nameOf(n, 'weight'), r.dw);
        if (r.db) grads.set(nameOf(n, 'bias'), r.db);
        acc(i0, r.dx);
        break;
      }
      case 'maxpool2d':
        acc(i0, ops.maxpool2dBackward(x, dy, n.attrs));
        break;
      case 'avgpool2d':
        acc(i0, ops.avgpool2dBackward(x, dy, n.attrs));
        break;
      case 'adaptive_avgpool2d':
        acc(i0, ops.adaptiveAvgpool2dBackward(x, dy, n.attrs.output));
        break;
      case 'maxpool3d':
        acc(i0, ops.maxpool3dBackward(x, dy, n.attrs));
        break;
      case 'avgpool3d':
        acc(i0, ops.avgpool3dBackward(x, dy, n.attrs));
        break;
      case 'batchnorm': {
        const r = ops.batchnormTrainBackward(x, p(params, n, 'weight'), dy, n.attrs.eps);
        grads.set(nameOf(n, 'weight'), r.dgamma);
        grads.set(nameOf(n, 'bias'), r.dbeta);
        acc(i0, r.dx);
        break;
      }
      case 'dropout': {
        const mask = masks.get(n.id);
        acc(i0, mask ? ops.dropoutBackward(dy, mask, n.attrs.p) : dy);
        break;
      }
      case 'flatten':
        acc(i0, ops.flattenBackward(dy, x.shape));
        break;
      case 'relu':
        acc(i0, ops.reluBackward(x, dy));
        break;
      case 'sigmoid':
        acc(i0, ops.sigmoidBackward(x, dy));
        break;
      case 'tanh':
        acc(i0, ops.tanhBackward(x, dy));
        break;
      case 'identity':
        acc(i0, dy);
        break;
      case 'leaky_relu':
        acc(i0, ops.leakyReluBackward(x, dy, n.attrs.slope));
        break;
      case 'add':
        acc(i0, dy);
        acc(n.inputs[1]!, dy);
        break;
      case 'concat':
        ops
          .concatBackward(
            dy,
            xs.map((t) => t.shape[1]!),
          )
          .forEach((d, k) => acc(n.inputs[k]!, d));
        break;
      default:
        assertNever(n, 'reference');
    }
  }
  return grads;
}

/** Running statistics after one training-mode forward, as PyTorch updates them. */
export function updatedRunningStats(g: ShapedGraph, params: Params, fwd: ForwardResult): Params {
  const out: Params = new Map();
  for (const n of g.nodes) {
    const s = fwd.bnStats.get(n.id);
    if (!s || n.op !== 'batchnorm') continue;
    // Values per channel: N times the spatial size ([N, F]: N).
    const count = n.shape.reduce((a, b) => a * b, 1) / n.shape[1]!;
    const r = ops.updateRunningStats(
      p(params, n, 'running_mean'),
      p(params, n, 'running_var'),
      s.mean,
      s.varBiased,
      count,
      n.attrs.momentum,
    );
    out.set(nameOf(n, 'running_mean'), r.runMean);
    out.set(nameOf(n, 'running_var'), r.runVar);
  }
  return out;
}
