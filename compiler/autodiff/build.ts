// Pass: the training step from the shaped graph. Forward ops in evaluation and training mode, the
// loss, reverse-mode gradients (rules in rules.ts) and the optimizer update, as a StepProgram.
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { formatShape, type NodeId, type ParamRole, type ShapedGraph } from '../ir/graph.ts';
import type { LossKind, OptimizerConfig } from '../ir/recipe.ts';
import type { OptimizerState, StepOp, StepProgram, TensorId } from './step-ir.ts';
import { forwardOp, type ForwardContext } from './forward.ts';
import { TensorTable, originOf } from './tensors.ts';
import { backwardOp } from './rules.ts';

export interface TrainOptions {
  readonly loss: LossKind;
  readonly optimizer: OptimizerConfig;
}

export function buildStepProgram(graph: ShapedGraph, options: TrainOptions, diags: DiagnosticBag): StepProgram | null {
  const table = new TensorTable();
  // Parameters by node and role for the rules; the name (the state_dict key) comes from the shaped graph.
  const params = new Map<NodeId, Map<ParamRole, TensorId>>();
  const grads = new Map<NodeId, Map<ParamRole, TensorId>>();
  const gradients = new Map<TensorId, TensorId>();
  const optimizerStates = new Map<TensorId, readonly OptimizerState[]>();
  const states = stateSlots(options.optimizer);
  const order: TensorId[] = [];
  for (const node of graph.nodes) {
    for (const p of node.params) {
      if (p.role === 'num_batches_tracked') continue;
      // A frozen parameter lives with the buffers: the one update dispatch over `param` skips it.
      const trained = p.learnable && p.frozen !== true;
      const id = table.add(p.name, p.shape, trained ? 'param' : 'stats');
      params.set(node.id, (params.get(node.id) ?? new Map()).set(p.role, id));
      order.push(id);
      if (!trained) continue;
      const grad = table.add(`${p.name}.grad`, p.shape, 'grad');
      grads.set(node.id, (grads.get(node.id) ?? new Map()).set(p.role, grad));
      gradients.set(id, grad);
      optimizerStates.set(id, states);
    }
  }
  const inputNode = graph.nodes.find((n) => n.op === 'input')!;
  const outNode = graph.nodes[graph.output]!;
  const input = table.add('input', inputNode.shape, 'io');
  const classification = options.loss === 'cross_entropy';
  if (classification && outNode.shape.length !== 2) {
    diags.error(
      'E0301',
      `cross-entropy loss needs [N, classes] logits from the model, got ${formatShape(outNode.shape)}`,
      outNode.span,
      { help: 'end the model with `flatten` and `linear(num_classes)`, or use `loss mse_sum` in the train section' },
    );
    return null;
  }
  const target = classification
    ? table.add('labels', [graph.batch], 'io', 'i32')
    : table.add('target', outNode.shape, 'io');
  const padding = table.add('padding', [1], 'io', 'u32');
  const loss = table.add('loss', [1], 'metric');
  const lossSum = table.add('loss_sum', [1], 'metric');
  const correct = classification ? table.add('correct', [1], 'metric', 'u32') : null;

  const run = (mode: 'eval' | 'train'): { ops: StepOp[]; values: Map<NodeId, TensorId>; ctx: ForwardContext } => {
    const ops: StepOp[] = [];
    const values = new Map<NodeId, TensorId>([[inputNode.id, input]]);
    const ctx: ForwardContext = { table, params, mode, saved: new Map() };
    for (const node of graph.nodes) {
      if (node.op === 'input') continue;
      values.set(
        node.id,
        forwardOp(
          node,
          node.inputs.map((i) => values.get(i)!),
          ctx,
          ops,
        ),
      );
    }
    return { ops, values, ctx };
  };
  const lossOrigin = { phase: 'loss' as const, sources: [], ops: [options.loss] };
  const lossOps = (yhat: TensorId, dyhat: TensorId | null): StepOp[] => [
    { op: 'loss', kind: options.loss, yhat, target, loss, correct, dyhat, padding, origin: lossOrigin },
    { op: 'accumulate', source: loss, target: lossSum, origin: lossOrigin },
  ];

  const forward = run('eval');
  const evalOut = forward.values.get(graph.output)!;
  const train = run('train');
  const trainOut = train.values.get(graph.output)!;
  const dOut = table.add(`grad ${graph.output}`, outNode.shape, 'work');
  const trainOps = [...train.ops, ...lossOps(trainOut, dOut)];

  // Reverse mode: each value's gradient contributions are summed (a value used twice, the residual
  // shortcut) before its producer's rule runs. Nodes that do not reach the loss get no gradient.
  const contributions = new Map<NodeId, TensorId[]>([[graph.output, [dOut]]]);
  for (const node of [...graph.nodes].reverse()) {
    const parts = contributions.get(node.id);
    if (!parts || node.op === 'input') continue;
    let dy = parts[0]!;
    for (const more of parts.slice(1)) {
      const sum = table.add(`grad ${node.id}`, node.shape, 'work');
      trainOps.push({ op: 'add', a: dy, b: more, y: sum, origin: originOf(node, 'backward') });
      dy = sum;
    }
    const needs = node.inputs.map((i) => graph.nodes[i]!.op !== 'input');
    const dxs = backwardOp(
      node,
      dy,
      node.inputs.map((i) => train.values.get(i)!),
      needs,
      {
        table,
        params,
        grads,
        saved: train.ctx.saved,
      },
      trainOps,
    );
    node.inputs.forEach((i, k) => {
      const dx = dxs[k];
      if (dx !== undefined && dx !== null) contributions.set(i, [...(contributions.get(i) ?? []), dx]);
    });
  }
  trainOps.push({
    op: 'update',
    optimizer: options.optimizer,
    origin: { phase: 'update', sources: [], ops: [options.optimizer.kind] },
  });

  return {
    model: graph.model,
    batch: graph.batch,
    tensors: table.tensors,
    input,
    target,
    padding,
    output: evalOut,
    loss,
    lossSum,
    correct,
    params: order,
    gradients,
    optimizerStates,
    batchnorms: graph.nodes.filter((n) => n.op === 'batchnorm').map((n) => n.path),
    forward: forward.ops,
    evaluate: [...forward.ops, ...lossOps(evalOut, null)],
    train: trainOps,
  };
}

/** The per-parameter state the optimizer keeps: SGD's momentum buffer (with momentum), Adam(W)'s two moments. */
function stateSlots(o: OptimizerConfig): readonly OptimizerState[] {
  if (o.kind !== 'sgd')
    return [
      { name: 'exp_avg', arena: 'state1' },
      { name: 'exp_avg_sq', arena: 'state2' },
    ];
  return o.momentum > 0 ? [{ name: 'momentum_buffer', arena: 'state1' }] : [];
}
