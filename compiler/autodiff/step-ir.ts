// The training-step IR: tensors (with the arena each lives in) and the ops of one forward pass,
// one training step (forward, loss, backward, update) and one evaluation pass. Every op maps to a
// kernel family in codegen; fusion rewrites these op lists.
import type { Shape } from '../ir/graph.ts';
import type { OpAttrs } from '../ir/ops.ts';
import type { KernelOrigin, ScalarType } from '../ir/kernel-facts.ts';
import type { LossKind, OptimizerConfig } from '../ir/recipe.ts';

export type TensorId = number;

/**
 * Where a tensor's storage lives. `param`, `grad` and the optimizer states (`state1`, `state2`)
 * share one layout, so one dispatch updates every parameter. `stats` holds batch norm's running
 * statistics (saved in checkpoints, never trained); `work` holds activations and their gradients.
 */
export type Arena = 'param' | 'grad' | 'state1' | 'state2' | 'stats' | 'work' | 'io' | 'metric';

export interface TensorInfo {
  readonly id: TensorId;
  /** Parameter names are state_dict keys; others describe the value (`act 3`, `grad 3`). */
  readonly name: string;
  readonly shape: Shape;
  readonly type: ScalarType;
  readonly arena: Arena;
  /** A view (flatten, identity, eval-mode dropout) shares the storage of another tensor. */
  readonly aliasOf: TensorId | null;
}

export type UnaryFn = 'relu' | 'sigmoid' | 'tanh' | 'leaky_relu';

/** An activation applied to an op's result before it is stored: a fused epilogue. */
export interface FusedAct {
  readonly fn: UnaryFn;
  readonly slope: number;
}

/**
 * An activation's gradient applied to an op's result before it is stored: the op computes the
 * gradient of the activation's output and stores that of its input. `x` is the tensor the
 * derivative is evaluated at: the activation's input, or its output where `from` says so.
 */
export interface FusedActGrad extends FusedAct {
  readonly x: TensorId;
  readonly from: 'input' | 'output';
}

/** Evaluation-mode batch norm folded into the op that produces its input: a per-channel affine map. */
export interface FusedBatchnorm {
  readonly gamma: TensorId;
  readonly beta: TensorId;
  readonly runMean: TensorId;
  readonly runVar: TensorId;
  readonly eps: number;
}

interface Fusable {
  readonly act?: FusedAct;
}

interface BatchnormFusable extends Fusable {
  readonly bn?: FusedBatchnorm;
}

interface GradFusable {
  readonly actGrad?: FusedActGrad;
}

interface Base {
  readonly origin: KernelOrigin;
}

export type StepOp = Base & (
  | BatchnormFusable & { readonly op: 'conv2d'; readonly x: TensorId; readonly w: TensorId; readonly b: TensorId | null; readonly y: TensorId; readonly attrs: OpAttrs['conv2d'] }
  | GradFusable & { readonly op: 'conv2d_dx'; readonly dy: TensorId; readonly w: TensorId; readonly dx: TensorId; readonly attrs: OpAttrs['conv2d'] }
  | { readonly op: 'conv2d_dw'; readonly x: TensorId; readonly dy: TensorId; readonly dw: TensorId; readonly db: TensorId | null; readonly attrs: OpAttrs['conv2d'] }
  | BatchnormFusable & { readonly op: 'linear'; readonly x: TensorId; readonly w: TensorId; readonly b: TensorId | null; readonly y: TensorId }
  | GradFusable & { readonly op: 'linear_dx'; readonly dy: TensorId; readonly w: TensorId; readonly dx: TensorId }
  | { readonly op: 'linear_dw'; readonly x: TensorId; readonly dy: TensorId; readonly dw: TensorId; readonly db: TensorId | null }
  | { readonly op: 'unary'; readonly fn: UnaryFn; readonly slope: number; readonly x: TensorId; readonly y: TensorId }
  /** `x` is the activation's input, or its output where `from` says so (after its forward was fused). */
  | { readonly op: 'unary_grad'; readonly fn: UnaryFn; readonly slope: number; readonly from: 'input' | 'output'; readonly x: TensorId; readonly dy: TensorId; readonly dx: TensorId }
  | Fusable & GradFusable & { readonly op: 'add'; readonly a: TensorId; readonly b: TensorId; readonly y: TensorId }
  | { readonly op: 'pool'; readonly kind: 'max' | 'avg'; readonly x: TensorId; readonly y: TensorId; readonly argmax: TensorId | null; readonly attrs: OpAttrs['maxpool2d'] }
  | GradFusable & { readonly op: 'pool_grad'; readonly kind: 'max' | 'avg'; readonly dy: TensorId; readonly argmax: TensorId | null; readonly dx: TensorId; readonly attrs: OpAttrs['maxpool2d'] }
  | { readonly op: 'adaptive_pool'; readonly x: TensorId; readonly y: TensorId }
  | { readonly op: 'adaptive_pool_grad'; readonly dy: TensorId; readonly dx: TensorId }
  | Fusable & { readonly op: 'bn_train'; readonly x: TensorId; readonly gamma: TensorId; readonly beta: TensorId; readonly y: TensorId; readonly mean: TensorId; readonly invstd: TensorId; readonly runMean: TensorId; readonly runVar: TensorId; readonly attrs: OpAttrs['batchnorm'] }
  | Fusable & { readonly op: 'bn_eval'; readonly x: TensorId; readonly gamma: TensorId; readonly beta: TensorId; readonly y: TensorId; readonly runMean: TensorId; readonly runVar: TensorId; readonly attrs: OpAttrs['batchnorm'] }
  | { readonly op: 'bn_grad'; readonly x: TensorId; readonly gamma: TensorId; readonly dy: TensorId; readonly mean: TensorId; readonly invstd: TensorId; readonly dx: TensorId; readonly dgamma: TensorId; readonly dbeta: TensorId; readonly attrs: OpAttrs['batchnorm'] }
  | { readonly op: 'dropout'; readonly x: TensorId; readonly y: TensorId; readonly p: number; readonly salt: number }
  | { readonly op: 'dropout_grad'; readonly dy: TensorId; readonly dx: TensorId; readonly p: number; readonly salt: number }
  | { readonly op: 'concat'; readonly xs: readonly TensorId[]; readonly y: TensorId }
  | { readonly op: 'concat_grad'; readonly dy: TensorId; readonly dxs: readonly TensorId[] }
  | { readonly op: 'loss'; readonly kind: LossKind; readonly yhat: TensorId; readonly target: TensorId; readonly loss: TensorId; readonly correct: TensorId | null; readonly dyhat: TensorId | null }
  /** target += source: running totals (the epoch's loss sum) kept on the GPU between readbacks. */
  | { readonly op: 'accumulate'; readonly source: TensorId; readonly target: TensorId }
  /** Every learnable parameter at once, over the packed `param`/`grad`/`state*` arenas. */
  | { readonly op: 'update'; readonly optimizer: OptimizerConfig }
);

export type StepOpKind = StepOp['op'];

export interface StepProgram {
  readonly model: string;
  readonly batch: number;
  readonly tensors: readonly TensorInfo[];
  /** The model input [N, ...] and the loss target: class indices (i32 [N]) or a tensor like the output. */
  readonly input: TensorId;
  readonly target: TensorId;
  readonly output: TensorId;
  /** Scalars: this batch's loss; the sum of batch losses and the correct-prediction count since the runtime last zeroed them. */
  readonly loss: TensorId;
  readonly lossSum: TensorId;
  readonly correct: TensorId | null;
  /** Parameters and running statistics in state_dict order, for checkpoints and get/set. */
  readonly params: readonly TensorId[];
  /** Batch norm layers' paths: their `num_batches_tracked` is the number of training steps. */
  readonly batchnorms: readonly string[];
  /** Evaluation-mode forward pass (batch norm uses running statistics, dropout is the identity). */
  readonly forward: readonly StepOp[];
  /** Evaluation: forward plus the loss (no gradient). */
  readonly evaluate: readonly StepOp[];
  /** One training step: forward in training mode, loss, backward, optimizer update. */
  readonly train: readonly StepOp[];
}

/** The program's passes, in schedule order (the memory plan's lifetimes follow it). */
export const PASSES = ['forward', 'evaluate', 'train'] as const;
export type PassName = (typeof PASSES)[number];

/** Op fields that hold numbers but are not tensor ids. */
const scalarFields: ReadonlySet<string> = new Set(['slope', 'p', 'salt']);

/** The tensor-valued fields of an op (names as in the op, null when absent) in declaration order. */
export function tensorFields(op: StepOp): [string, TensorId | readonly TensorId[] | null][] {
  const fields = Object.entries(op).filter(([k, v]) => !scalarFields.has(k) && (typeof v === 'number' || v === null || Array.isArray(v))) as [string, TensorId | readonly TensorId[] | null][];
  if ('actGrad' in op && op.actGrad) fields.push(['actGrad.x', op.actGrad.x]);
  if ('bn' in op && op.bn) fields.push(['bn.gamma', op.bn.gamma], ['bn.beta', op.bn.beta], ['bn.runMean', op.bn.runMean], ['bn.runVar', op.bn.runVar]);
  return fields;
}

/** Every tensor id an op reads or writes (optimizer updates touch whole arenas, not tensors). */
export function opTensors(op: StepOp): TensorId[] {
  return tensorFields(op).flatMap(([, v]) => (v === null ? [] : typeof v === 'number' ? [v] : [...v]));
}
