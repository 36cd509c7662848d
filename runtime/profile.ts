// Where a training step's GPU time goes, by the .cnn layer each kernel came from: every kernel of
// a step timed (timestamp queries, or the wall clock where the adapter has none), each kernel's
// best of several steps, then summed per layer and phase. `cnnc profile` prints it;
// bench/profile.ts prints the same measurement by kernel family.
import type { ShapedGraph } from '../compiler/ir/graph.ts';
import type { KernelTime, Model, ProfileMethod } from './model.ts';
import { Mulberry32 } from './random.ts';

/** One row of the profile: a layer of the model, the loss or the optimizer. */
export interface LayerRow {
  /** The layer's parameter path (`0`, `4.0.conv1`), or `loss`, `optimizer`. */
  readonly layer: string;
  /** The layer's op (`conv2d`), the loss (`cross_entropy`) or the optimizer (`sgd`). */
  readonly op: string;
  /** `file.cnn:LINE` of the layer; null for the loss and the optimizer. */
  readonly source: string | null;
  readonly forwardMs: number;
  readonly backwardMs: number;
  /** How many kernels run for it in a step. */
  readonly kernels: number;
}

/**
 * How a kernel's times over the profiled steps become one: the fastest (on a shared machine the
 * run least disturbed by others: the bench's choice), or the mean (the command's).
 */
export type Statistic = 'min' | 'mean';

export interface StepProfile {
  readonly method: ProfileMethod;
  readonly statistic: Statistic;
  /** Every kernel of the step, in dispatch order, with its time over the profiled steps. */
  readonly kernels: readonly KernelTime[];
  readonly rows: readonly LayerRow[];
  readonly totalMs: number;
}

/** A batch of seeded random inputs and targets (labels for cross-entropy) for the model's step. */
export function randomBatch(model: Model, seed = 3): { x: Float32Array; target: Int32Array | Float32Array } {
  const { graph, train } = model.compiled;
  const random = new Mulberry32(seed);
  const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: size(graph.nodes[0]!.shape) }, () => random.next());
  const out = graph.nodes[graph.output]!.shape;
  const target =
    train.loss === 'cross_entropy'
      ? Int32Array.from({ length: graph.batch }, () => Math.floor(random.next() * out[1]!))
      : Float32Array.from({ length: size(out) }, () => random.next());
  return { x, target };
}

/**
 * Profiles `steps` training steps (after two unmeasured ones: the first steps include lazy driver
 * work) and reduces each kernel's times by `statistic`. The model trains on the batch it is given.
 */
export async function profileSteps(
  model: Model,
  batch: { x: Float32Array; target: Int32Array | Float32Array },
  steps: number,
  options: { readonly statistic: Statistic; readonly method?: ProfileMethod },
): Promise<StepProfile> {
  const { statistic } = options;
  const how = options.method ?? model.profileMethod;
  const run = () => model.profileTrainStep(batch.x, batch.target, how);
  for (let i = 0; i < 2; i++) await run();
  const runs: KernelTime[][] = [];
  for (let i = 0; i < steps; i++) runs.push(await run());
  const reduce = (ms: number[]): number =>
    statistic === 'min' ? Math.min(...ms) : ms.reduce((a, b) => a + b, 0) / ms.length;
  const kernels = runs[0]!.map((k, i) => ({ ...k, ms: reduce(runs.map((r) => r[i]!.ms)) }));
  return {
    method: how,
    statistic,
    kernels,
    rows: byLayer(kernels, model.compiled.graph),
    totalMs: kernels.reduce((s, k) => s + k.ms, 0),
  };
}

/**
 * Sums kernel times per layer: a kernel counts for the layer of the first op it implements (a
 * conv with its activation fused in counts for the conv; an activation's gradient fused into the
 * next layer's input gradient, for that layer). Layers in graph order, then the loss, then the
 * optimizer; layers without kernels (views: flatten) are left out.
 */
export function byLayer(kernels: readonly KernelTime[], graph: ShapedGraph): LayerRow[] {
  const rows = new Map<
    string,
    {
      layer: string;
      op: string;
      source: string | null;
      order: number;
      forwardMs: number;
      backwardMs: number;
      kernels: number;
    }
  >();
  for (const k of kernels) {
    const { phase, ops } = k.origin;
    let key: string;
    let make: () => { layer: string; op: string; source: string | null; order: number };
    if (phase === 'loss' || phase === 'update') {
      key = phase;
      const layer = phase === 'loss' ? 'loss' : 'optimizer';
      make = () => ({
        layer,
        op: ops[0] ?? layer,
        source: null,
        order: graph.nodes.length + (phase === 'loss' ? 0 : 1),
      });
    } else {
      const id = Number(/#(\d+)$/.exec(ops[0] ?? '')?.[1]);
      const node = graph.nodes[id];
      if (node === undefined) throw new Error(`internal: kernel ${k.kernel} names no layer (${ops.join(', ')})`);
      key = `#${id}`;
      const { line } = node.span.file.position(node.span.start);
      make = () => ({ layer: node.path || `%${id}`, op: node.op, source: `${node.span.file.path}:${line}`, order: id });
    }
    const row = rows.get(key) ?? { ...make(), forwardMs: 0, backwardMs: 0, kernels: 0 };
    if (phase === 'backward') row.backwardMs += k.ms;
    else row.forwardMs += k.ms;
    row.kernels++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.order - b.order).map(({ order: _, ...row }) => row);
}
