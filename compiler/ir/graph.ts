// Graph IR: nodes in topological order, one output value per node (a value's id is its node's id).
// Two phase types: ElaboratedGraph (no shapes yet, layers lazy) and ShapedGraph (every shape known).
import type { Span } from '../diagnostics/diagnostic.ts';
import type { FixedParam } from './constant.ts';
import type { OpAttrs, OpKind } from './ops.ts';

export type NodeId = number;
export type Shape = readonly number[];

/** One block instantiation on the way from the model to a node: `vgg_block` called at lenet.cnn:4:3. */
export interface CallSite {
  readonly block: string;
  readonly span: Span;
}

export type Node = {
  [K in OpKind]: {
    readonly id: NodeId;
    readonly op: K;
    readonly attrs: OpAttrs[K];
    readonly inputs: readonly NodeId[];
    /** The source text of the layer (the stage or expression that made it). */
    readonly span: Span;
    /** Parameter path prefix, PyTorch state_dict style: "3", "1.0", "2.conv1". Empty for the input. */
    readonly path: string;
    /** Block instantiations from the model down to this node, outermost first. */
    readonly callers: readonly CallSite[];
  };
}[OpKind];

export type NodeOf<K extends OpKind> = Extract<Node, { op: K }>;

export interface ElaboratedGraph {
  readonly model: string;
  readonly nodes: readonly Node[];
  readonly output: NodeId;
  /** Parameters given by the file's constants, by state_dict name (absent: none). */
  readonly fixed?: ReadonlyMap<string, FixedParam>;
}

export type ParamRole = 'weight' | 'bias' | 'running_mean' | 'running_var' | 'num_batches_tracked';

export interface ParamSpec {
  /** Full dotted name, e.g. "0.weight", "1.0.bias". */
  readonly name: string;
  readonly role: ParamRole;
  readonly shape: Shape;
  /** Learnable parameters get gradients; running statistics are buffers. */
  readonly learnable: boolean;
  /** A learnable parameter the file fixes and freezes (`weight = K`): no gradient, no update. */
  readonly frozen?: true;
}

export type ShapedNode = Node & {
  /** Full output shape including the batch dimension. */
  readonly shape: Shape;
  readonly params: readonly ParamSpec[];
  /** Forward FLOPs for the whole batch (multiply-add counts as 2). */
  readonly flops: number;
};

export interface ShapedGraph {
  readonly model: string;
  readonly nodes: readonly ShapedNode[];
  readonly output: NodeId;
  readonly batch: number;
  /** As the elaborated graph's, each checked against its parameter's shape. */
  readonly fixed?: ReadonlyMap<string, FixedParam>;
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
