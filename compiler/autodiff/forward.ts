// Forward rules: the step ops of each graph op, in evaluation or training mode. Views (flatten,
// identity, eval-mode dropout) cost nothing: their output aliases the input's storage.
import { assertNever } from '../diagnostics/diagnostic.ts';
import type { NodeId, ParamRole, ShapedNode } from '../ir/graph.ts';
import type { OpAttrs } from '../ir/ops.ts';
import type { StepOp, TensorId } from './step-ir.ts';
import { originOf, type TensorTable } from './tensors.ts';

/** A node's parameter tensors (or gradients) by role. */
export type NodeTensors = ReadonlyMap<NodeId, ReadonlyMap<ParamRole, TensorId>>;

/** Tensors a backward rule needs besides inputs and outputs, as the forward saved them. */
export interface Saved {
  readonly argmax?: TensorId;
  readonly mean?: TensorId;
  readonly invstd?: TensorId;
}

export interface ForwardContext {
  readonly table: TensorTable;
  readonly params: NodeTensors;
  readonly mode: 'eval' | 'train';
  /** What each node saved for its gradient: max-pool argmax, batch norm statistics. */
  readonly saved: Map<NodeId, Saved>;
}

/** A 3-D pooling node's window; average pooling has no dilation (PyTorch's AvgPool3d). */
export const window3d = (node: ShapedNode & { op: 'maxpool3d' | 'avgpool3d' }): OpAttrs['maxpool3d'] => ({
  dilation: [1, 1, 1],
  ...node.attrs,
});

export function forwardOp(node: ShapedNode, xs: readonly TensorId[], ctx: ForwardContext, ops: StepOp[]): TensorId {
  const { table, params } = ctx;
  const x = xs[0]!;
  const param = (role: ParamRole): TensorId => params.get(node.id)!.get(role)!;
  const optional = (role: ParamRole): TensorId | null => params.get(node.id)?.get(role) ?? null;
  const origin = originOf(node, 'forward');
  const out = (): TensorId => table.add(`act ${node.id}${ctx.mode === 'eval' ? ' (eval)' : ''}`, node.shape, 'work');
  const emit = (op: StepOp, y: TensorId): TensorId => {
    ops.push(op);
    return y;
  };
  switch (node.op) {
    case 'input':
      return x;
    case 'flatten':
    case 'identity':
      return table.alias(x, `view ${node.id}`, node.shape);
    case 'dropout': {
      if (ctx.mode === 'eval' || node.attrs.p === 0) return table.alias(x, `view ${node.id}`, node.shape);
      const y = out();
      return emit({ op: 'dropout', x, y, p: node.attrs.p, salt: node.id, origin }, y);
    }
    case 'conv2d': {
      const y = out();
      return emit({ op: 'conv2d', x, w: param('weight'), b: optional('bias'), y, attrs: node.attrs, origin }, y);
    }
    case 'linear': {
      const y = out();
      return emit({ op: 'linear', x, w: param('weight'), b: optional('bias'), y, origin }, y);
    }
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'leaky_relu': {
      const y = out();
      const slope = node.op === 'leaky_relu' ? node.attrs.slope : 0;
      return emit({ op: 'unary', fn: node.op, slope, x, y, origin }, y);
    }
    case 'maxpool2d':
    case 'avgpool2d': {
      const y = out();
      const kind = node.op === 'maxpool2d' ? 'max' : 'avg';
      const argmax = kind === 'max' ? table.add(`argmax ${node.id}`, node.shape, 'work', 'i32') : null;
      if (argmax !== null) ctx.saved.set(node.id, { argmax });
      return emit({ op: 'pool', kind, x, y, argmax, attrs: node.attrs, origin }, y);
    }
    case 'conv3d': {
      const y = out();
      return emit({ op: 'conv3d', x, w: param('weight'), b: optional('bias'), y, attrs: node.attrs, origin }, y);
    }
    case 'maxpool3d':
    case 'avgpool3d': {
      const y = out();
      const kind = node.op === 'maxpool3d' ? 'max' : 'avg';
      const argmax = kind === 'max' ? table.add(`argmax ${node.id}`, node.shape, 'work', 'i32') : null;
      if (argmax !== null) ctx.saved.set(node.id, { argmax });
      return emit({ op: 'pool3d', kind, x, y, argmax, attrs: window3d(node), origin }, y);
    }
    case 'adaptive_avgpool2d': {
      const y = out();
      return emit({ op: 'adaptive_pool', x, y, origin }, y);
    }
    case 'batchnorm': {
      const y = out();
      const common = {
        x,
        gamma: param('weight'),
        beta: param('bias'),
        y,
        runMean: param('running_mean'),
        runVar: param('running_var'),
        attrs: node.attrs,
        origin,
      };
      if (ctx.mode === 'eval') return emit({ op: 'bn_eval', ...common }, y);
      const c = [node.shape[1]!];
      const mean = table.add(`bn mean ${node.id}`, c, 'work');
      const invstd = table.add(`bn invstd ${node.id}`, c, 'work');
      ctx.saved.set(node.id, { mean, invstd });
      return emit({ op: 'bn_train', ...common, mean, invstd }, y);
    }
    case 'add': {
      const y = out();
      return emit({ op: 'add', a: x, b: xs[1]!, y, origin }, y);
    }
    case 'concat': {
      const y = out();
      return emit({ op: 'concat', xs, y, origin }, y);
    }
    default:
      return assertNever(node, 'autodiff');
  }
}
