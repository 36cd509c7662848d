// Gradient rules: for each op, the step ops that turn the output gradient `dy` into gradients of
// its inputs (and of its parameters, written straight into the `grad` arena). `needs[k]` is false
// for the model input, whose gradient nobody reads, so its dx kernel is never emitted.
import { assertNever } from '../diagnostics/diagnostic.ts';
import type { NodeId, ParamRole, ShapedNode } from '../ir/graph.ts';
import type { StepOp, TensorId } from './step-ir.ts';
import { originOf, type TensorTable } from './tensors.ts';
import { type NodeTensors, type Saved, window3d } from './forward.ts';

export interface BackwardContext {
  readonly table: TensorTable;
  readonly params: NodeTensors;
  /** Learnable parameters' gradients, by node and role like `params`. */
  readonly grads: NodeTensors;
  readonly saved: ReadonlyMap<NodeId, Saved>;
}

export function backwardOp(
  node: ShapedNode,
  dy: TensorId,
  xs: readonly TensorId[],
  needs: readonly boolean[],
  ctx: BackwardContext,
  ops: StepOp[],
): (TensorId | null)[] {
  const { table } = ctx;
  const x = xs[0]!;
  const origin = originOf(node, 'backward');
  const param = (role: ParamRole): TensorId => ctx.params.get(node.id)!.get(role)!;
  const grad = (role: ParamRole): TensorId | null => ctx.grads.get(node.id)?.get(role) ?? null;
  const saved = (what: keyof Saved): TensorId => ctx.saved.get(node.id)![what]!;
  /** A fresh gradient buffer shaped like input k, or null when input k needs none. */
  const dxFor = (k: number): TensorId | null =>
    needs[k] ? table.add(`grad ${node.inputs[k]} from ${node.id}`, table.shape(xs[k]!), 'work') : null;
  const one = (op: (dx: TensorId) => StepOp): (TensorId | null)[] => {
    const dx = dxFor(0);
    if (dx !== null) ops.push(op(dx));
    return [dx];
  };
  switch (node.op) {
    case 'input':
      return [];
    case 'flatten':
    case 'identity':
      return [needs[0] ? table.alias(dy, `grad view ${node.id}`, table.shape(x)) : null];
    case 'dropout':
      // Eval-mode and p = 0 dropout were views in the forward; in training the mask is recomputed.
      if (node.attrs.p === 0) return [needs[0] ? table.alias(dy, `grad view ${node.id}`, table.shape(x)) : null];
      return one((dx) => ({ op: 'dropout_grad', dy, dx, p: node.attrs.p, salt: node.id, origin }));
    case 'conv2d': {
      // A frozen weight (the file's constant) costs no weight gradient; train.ts refuses a frozen
      // weight with a trained bias, which would need the bias gradient alone.
      if (grad('weight') !== null)
        ops.push({ op: 'conv2d_dw', x, dy, dw: grad('weight')!, db: grad('bias'), attrs: node.attrs, origin });
      return one((dx) => ({ op: 'conv2d_dx', dy, w: param('weight'), dx, attrs: node.attrs, origin }));
    }
    case 'linear': {
      if (grad('weight') !== null) ops.push({ op: 'linear_dw', x, dy, dw: grad('weight')!, db: grad('bias'), origin });
      return one((dx) => ({ op: 'linear_dx', dy, w: param('weight'), dx, origin }));
    }
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'leaky_relu': {
      const slope = node.op === 'leaky_relu' ? node.attrs.slope : 0;
      return one((dx) => ({ op: 'unary_grad', fn: node.op as 'relu', slope, from: 'input', x, dy, dx, origin }));
    }
    case 'maxpool2d':
      return one((dx) => ({
        op: 'pool_grad',
        kind: 'max',
        dy,
        argmax: saved('argmax'),
        dx,
        attrs: node.attrs,
        origin,
      }));
    case 'avgpool2d':
      return one((dx) => ({ op: 'pool_grad', kind: 'avg', dy, argmax: null, dx, attrs: node.attrs, origin }));
    case 'conv3d': {
      ops.push({ op: 'conv3d_dw', x, dy, dw: grad('weight')!, db: grad('bias'), attrs: node.attrs, origin });
      return one((dx) => ({ op: 'conv3d_dx', dy, w: param('weight'), dx, attrs: node.attrs, origin }));
    }
    case 'maxpool3d':
      return one((dx) => ({
        op: 'pool3d_grad',
        kind: 'max',
        dy,
        argmax: saved('argmax'),
        dx,
        attrs: window3d(node),
        origin,
      }));
    case 'avgpool3d':
      return one((dx) => ({ op: 'pool3d_grad', kind: 'avg', dy, argmax: null, dx, attrs: window3d(node), origin }));
    case 'adaptive_avgpool2d':
      return one((dx) => ({ op: 'adaptive_pool_grad', dy, dx, origin }));
    case 'batchnorm': {
      // Batch norm's dx depends on dgamma/dbeta's sums, so one kernel computes all three; without
      // a consumer for dx it still runs, into a scratch buffer.
      const dx = dxFor(0) ?? table.add(`grad scratch ${node.id}`, table.shape(x), 'work');
      ops.push({
        op: 'bn_grad',
        x,
        gamma: param('weight'),
        dy,
        mean: saved('mean'),
        invstd: saved('invstd'),
        dx,
        dgamma: grad('weight')!,
        dbeta: grad('bias')!,
        attrs: node.attrs,
        origin,
      });
      return [needs[0] ? dx : null];
    }
    case 'add':
      // d(a + b) = dy for both; the same node twice (y + y) gets dy twice and sums it.
      return [needs[0] ? dy : null, needs[1] ? dy : null];
    case 'concat': {
      const dxs = xs.map((xi, k) =>
        needs[k]
          ? table.add(`grad ${node.inputs[k]} from ${node.id}`, table.shape(xi), 'work')
          : table.add(`grad scratch ${node.id}.${k}`, table.shape(xi), 'work'),
      );
      ops.push({ op: 'concat_grad', dy, dxs, origin });
      return dxs.map((d, k) => (needs[k] ? d : null));
    }
    default:
      return assertNever(node, 'autodiff');
  }
}
