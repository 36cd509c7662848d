// Pass: shape inference. Resolves every lazy dimension (in-channels, in-features), names every
// parameter, and refuses shapes PyTorch would refuse, pointing at the layer that made them.
import type { DiagnosticBag, Note } from '../diagnostics/diagnostic.ts';
import {
  formatShape,
  numel,
  type ElaboratedGraph,
  type Node,
  type ParamSpec,
  type Shape,
  type ShapedGraph,
  type ShapedNode,
} from '../ir/graph.ts';
import { fitsShape, type FixedParam } from '../ir/constant.ts';
import { shapeRules } from './rules.ts';

/**
 * The most elements one tensor (activation or parameter) may have: element indices in the kernels
 * are 32-bit, and nothing proportional to a shape is allocated before this check.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export interface ShapeOptions {
  readonly batch: number;
  /** Replaces the model's `input [C, H, W]` (the CLI's --input). */
  readonly inputShape?: readonly number[];
}

function inputNotes(node: Node, graph: ElaboratedGraph, shapes: readonly Shape[]): Note[] {
  const notes: Note[] = node.inputs.map((i) => {
    const from = graph.nodes[i]!;
    return { message: `input ${formatShape(shapes[i]!)} comes from \`${from.op}\``, span: from.span };
  });
  for (const c of node.callers.slice().reverse())
    notes.push({ message: `in block \`${c.block}\` called here`, span: c.span });
  return notes;
}

export function inferShapes(graph: ElaboratedGraph, options: ShapeOptions, diags: DiagnosticBag): ShapedGraph | null {
  const shapes: Shape[] = [];
  const nodes: ShapedNode[] = [];
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => shapes[i]!);
    const n = node.op === 'input' && options.inputShape ? { ...node, attrs: { shape: options.inputShape } } : node;
    const r = (
      shapeRules[n.op] as (n: Node, i: readonly Shape[], b: number) => ReturnType<(typeof shapeRules)['input']>
    )(n, ins, options.batch);
    if (!r.ok) {
      diags.error(r.code, r.message, node.span, {
        notes: inputNotes(node, graph, shapes),
        ...(r.help !== undefined ? { help: r.help } : {}),
      });
      return null;
    }
    if (r.shape.some((d) => d < 1)) {
      diags.error('E0304', `\`${node.op}\` yields an empty tensor ${formatShape(r.shape)}`, node.span, {
        notes: inputNotes(node, graph, shapes),
      });
      return null;
    }
    const huge = [{ what: 'output', shape: r.shape }, ...r.params.map((p) => ({ what: p.role, shape: p.shape }))].find(
      (t) => !(numel(t.shape) <= MAX_ELEMENTS),
    );
    if (huge) {
      const help = node.op === 'input' ? `the first dimension is the batch size (${options.batch})` : undefined;
      diags.error(
        'E0306',
        `\`${node.op}\` ${huge.what} ${formatShape(huge.shape)} has ${numel(huge.shape)} elements, more than the ${MAX_ELEMENTS} a tensor may have`,
        node.span,
        { notes: inputNotes(node, graph, shapes), ...(help !== undefined ? { help } : {}) },
      );
      return null;
    }
    shapes.push(r.shape);
    const params: ParamSpec[] = r.params.map((p) => ({
      name: `${node.path}.${p.role}`,
      role: p.role,
      shape: p.shape,
      learnable: p.role === 'weight' || p.role === 'bias',
      ...(graph.fixed?.get(`${node.path}.${p.role}`)?.trainable === false ? { frozen: true as const } : {}),
    }));
    nodes.push({ ...n, shape: r.shape, params, flops: r.flops } as ShapedNode);
  }
  if (graph.fixed === undefined) return { model: graph.model, nodes, output: graph.output, batch: options.batch };
  return checkFixed(nodes, graph.fixed, diags)
    ? { model: graph.model, nodes, output: graph.output, batch: options.batch, fixed: graph.fixed }
    : null;
}

/**
 * A constant given as a parameter must hold the parameter's values: its shape equals the
 * parameter's once leading 1s are dropped from both (a 1x2 kernel `[[1.0, -1.0]]` for a conv
 * weight [1, 1, 1, 2]).
 */
function checkFixed(
  nodes: readonly ShapedNode[],
  fixed: ReadonlyMap<string, FixedParam>,
  diags: DiagnosticBag,
): boolean {
  for (const [name, f] of fixed) {
    const node = nodes.find((n) => n.params.some((p) => p.name === name))!;
    const want = node.params.find((p) => p.name === name)!.shape;
    if (!fitsShape(f.tensor.shape, want)) {
      const layout =
        node.op === 'conv2d'
          ? ' (conv weights are [out, in/groups, kh, kw])'
          : node.op === 'linear'
            ? ' (linear weights are [out, in])'
            : '';
      diags.error(
        'E0234',
        `\`${name}\` is ${formatShape(want)}${layout}, this constant is ${formatShape(f.tensor.shape)}`,
        f.span,
        {
          notes: [{ message: 'the layer', span: node.span }],
          help: 'leading dimensions of size 1 may be left out; reshape the constant otherwise',
        },
      );
      return false;
    }
  }
  return true;
}

export function totalParams(graph: ShapedGraph): number {
  return graph.nodes.reduce(
    (t, n) => t + n.params.filter((p) => p.learnable).reduce((s, p) => s + numel(p.shape), 0),
    0,
  );
}

/**
 * The batch norm layers that cannot train on batches of `batch` samples. Training normalises each
 * channel over the N * H * W values of its input ([N, F]: N), and PyTorch refuses a single one
 * (`Expected more than 1 value per channel when training`): its variance is 0 and the running
 * variance's unbiased estimate divides by 0. Evaluation, on the running statistics, takes any batch.
 */
export function untrainableBatchNorms(graph: ShapedGraph, batch: number = graph.batch): ShapedNode[] {
  return graph.nodes.filter((n) => n.op === 'batchnorm' && batch * numel(n.shape.slice(2)) < 2);
}

/**
 * For the commands that train at the graph's batch (`train`, `compile`): every batch norm layer
 * needs more than 1 value per channel. Returns whether none is short of them.
 */
export function checkTrainingBatch(graph: ShapedGraph, diags: DiagnosticBag): boolean {
  const short = untrainableBatchNorms(graph);
  for (const n of short) {
    diags.error(
      'E0307',
      `batch norm cannot train on 1 value per channel: with a batch of ${graph.batch} its input ${formatShape(n.shape)} has 1 per channel (PyTorch: Expected more than 1 value per channel when training)`,
      n.span,
      {
        help: 'train with a batch of 2 or more (`batch` in the train section, or --batch-size)',
      },
    );
  }
  return short.length === 0;
}

/**
 * Cross-entropy training needs [N, classes] logits with 2 classes or more: a model that ends in a
 * 4-D tensor or one logit would otherwise fail late, on the labels (`not a class 0..0`). For the
 * commands that train or evaluate with that loss; `check` cannot apply it, as a file's train
 * section also covers its shape-study models (densenet.cnn's DenseBlockCheck).
 */
export function checkClassifierOutput(graph: ShapedGraph, diags: DiagnosticBag): void {
  const out = graph.nodes[graph.output]!;
  if (out.shape.length === 2 && out.shape[1]! >= 2) return;
  diags.error(
    'E0213',
    `cross-entropy loss needs [N, classes] logits with at least 2 classes, but the model outputs ${formatShape(out.shape)}`,
    out.span,
    {
      help:
        out.shape.length === 2
          ? 'end the model with `linear(num_classes)`, or use `loss mse_mean`'
          : 'end the model with `flatten` and `linear(num_classes)`, or use `loss mse_mean`',
    },
  );
}
