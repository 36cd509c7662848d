// The training-step IR: tensors (with the arena each lives in) and the ops of one forward pass,
// one training step (forward, loss, backward, update) and one evaluation pass. Every op maps to a
// kernel family in codegen; fusion rewrites these op lists.
import type { Shape } from '../ir/graph.ts';
import type { OpAttrs } from '../ir/ops.ts';
import type { KernelOrigin, ScalarType } from '../ir/kernel-facts.ts';
import type { Pool2dAttrs } from '../ir/pool-window.ts';
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

/** An activation applied to an op's result before it is stored. */
export interface FusedAct {
  readonly fn: UnaryFn;
  readonly slope: number;
}

/** Evaluation-mode batch norm folded into the op that produces its input: a per-channel affine map. */
export interface FusedBatchnorm {
  readonly gamma: TensorId;
  readonly beta: TensorId;
  readonly runMean: TensorId;
  readonly runVar: TensorId;
  readonly eps: number;
}

/** A forward op's fused store: evaluation-mode batch norm's affine map, then an activation. */
export interface ForwardEpilogue {
  readonly kind: 'forward';
  readonly bn: FusedBatchnorm | null;
  readonly act: FusedAct | null;
}

/**
 * An activation's gradient applied to an op's result before it is stored: the op computes the
 * gradient of the activation's output and stores that of its input. `x` is the tensor the
 * derivative is evaluated at: the activation's input, or its output where `from` says so.
 */
export interface FusedActGrad extends FusedAct {
  readonly kind: 'act_grad';
  readonly x: TensorId;
  readonly from: 'input' | 'output';
}

/** What fusion put between an op's arithmetic and its store; codegen emits it there. */
export type Epilogue = ForwardEpilogue | FusedActGrad;

interface Base {
  readonly origin: KernelOrigin;
}

export type StepOp = Base &
  (
    | {
        readonly op: 'conv2d';
        readonly x: TensorId;
        readonly w: TensorId;
        readonly b: TensorId | null;
        readonly y: TensorId;
        readonly attrs: OpAttrs['conv2d'];
        readonly epilogue?: ForwardEpilogue;
      }
    | {
        readonly op: 'conv2d_dx';
        readonly dy: TensorId;
        readonly w: TensorId;
        readonly dx: TensorId;
        readonly attrs: OpAttrs['conv2d'];
        readonly epilogue?: FusedActGrad;
      }
    | {
        readonly op: 'conv2d_dw';
        readonly x: TensorId;
        readonly dy: TensorId;
        readonly dw: TensorId;
        readonly db: TensorId | null;
        readonly attrs: OpAttrs['conv2d'];
      }
    | {
        readonly op: 'linear';
        readonly x: TensorId;
        readonly w: TensorId;
        readonly b: TensorId | null;
        readonly y: TensorId;
        readonly epilogue?: ForwardEpilogue;
      }
    | {
        readonly op: 'linear_dx';
        readonly dy: TensorId;
        readonly w: TensorId;
        readonly dx: TensorId;
        readonly epilogue?: FusedActGrad;
      }
    | {
        readonly op: 'linear_dw';
        readonly x: TensorId;
        readonly dy: TensorId;
        readonly dw: TensorId;
        readonly db: TensorId | null;
      }
    | { readonly op: 'unary'; readonly fn: UnaryFn; readonly slope: number; readonly x: TensorId; readonly y: TensorId }
    /** `x` is the activation's input, or its output where `from` says so (after its forward was fused). */
    | {
        readonly op: 'unary_grad';
        readonly fn: UnaryFn;
        readonly slope: number;
        readonly from: 'input' | 'output';
        readonly x: TensorId;
        readonly dy: TensorId;
        readonly dx: TensorId;
      }
    /** A residual sum in the forward (an activation may follow it), or a gradient sum in the backward. */
    | {
        readonly op: 'add';
        readonly a: TensorId;
        readonly b: TensorId;
        readonly y: TensorId;
        readonly epilogue?: Epilogue;
      }
    | {
        readonly op: 'pool';
        readonly kind: 'max' | 'avg';
        readonly x: TensorId;
        readonly y: TensorId;
        readonly argmax: TensorId | null;
        readonly attrs: Pool2dAttrs;
      }
    | {
        readonly op: 'pool_grad';
        readonly kind: 'max' | 'avg';
        readonly dy: TensorId;
        readonly argmax: TensorId | null;
        readonly dx: TensorId;
        readonly attrs: Pool2dAttrs;
        readonly epilogue?: FusedActGrad;
      }
    /** 3-D ops: direct kernels; conv3d stores through an activation, its dx and pool3d_grad through an activation gradient. */
    | {
        readonly op: 'conv3d';
        readonly x: TensorId;
        readonly w: TensorId;
        readonly b: TensorId | null;
        readonly y: TensorId;
        readonly attrs: OpAttrs['conv3d'];
        readonly epilogue?: ForwardEpilogue;
      }
    | {
        readonly op: 'conv3d_dx';
        readonly dy: TensorId;
        readonly w: TensorId;
        readonly dx: TensorId;
        readonly attrs: OpAttrs['conv3d'];
        readonly epilogue?: FusedActGrad;
      }
    | {
        readonly op: 'conv3d_dw';
        readonly x: TensorId;
        readonly dy: TensorId;
        readonly dw: TensorId;
        readonly db: TensorId | null;
        readonly attrs: OpAttrs['conv3d'];
      }
    /** Average pooling carries dilation 1. */
    | {
        readonly op: 'pool3d';
        readonly kind: 'max' | 'avg';
        readonly x: TensorId;
        readonly y: TensorId;
        readonly argmax: TensorId | null;
        readonly attrs: OpAttrs['maxpool3d'];
      }
    | {
        readonly op: 'pool3d_grad';
        readonly kind: 'max' | 'avg';
        readonly dy: TensorId;
        readonly argmax: TensorId | null;
        readonly dx: TensorId;
        readonly attrs: OpAttrs['maxpool3d'];
        readonly epilogue?: FusedActGrad;
      }
    | { readonly op: 'adaptive_pool'; readonly x: TensorId; readonly y: TensorId }
    | { readonly op: 'adaptive_pool_grad'; readonly dy: TensorId; readonly dx: TensorId }
    | {
        readonly op: 'bn_train';
        readonly x: TensorId;
        readonly gamma: TensorId;
        readonly beta: TensorId;
        readonly y: TensorId;
        readonly mean: TensorId;
        readonly invstd: TensorId;
        readonly runMean: TensorId;
        readonly runVar: TensorId;
        readonly attrs: OpAttrs['batchnorm'];
        readonly epilogue?: ForwardEpilogue;
      }
    | {
        readonly op: 'bn_eval';
        readonly x: TensorId;
        readonly gamma: TensorId;
        readonly beta: TensorId;
        readonly y: TensorId;
        readonly runMean: TensorId;
        readonly runVar: TensorId;
        readonly attrs: OpAttrs['batchnorm'];
        readonly epilogue?: ForwardEpilogue;
      }
    | {
        readonly op: 'bn_grad';
        readonly x: TensorId;
        readonly gamma: TensorId;
        readonly dy: TensorId;
        readonly mean: TensorId;
        readonly invstd: TensorId;
        readonly dx: TensorId;
        readonly dgamma: TensorId;
        readonly dbeta: TensorId;
        readonly attrs: OpAttrs['batchnorm'];
      }
    | { readonly op: 'dropout'; readonly x: TensorId; readonly y: TensorId; readonly p: number; readonly salt: number }
    | {
        readonly op: 'dropout_grad';
        readonly dy: TensorId;
        readonly dx: TensorId;
        readonly p: number;
        readonly salt: number;
      }
    | { readonly op: 'concat'; readonly xs: readonly TensorId[]; readonly y: TensorId }
    | { readonly op: 'concat_grad'; readonly dy: TensorId; readonly dxs: readonly TensorId[] }
    | {
        readonly op: 'loss';
        readonly kind: LossKind;
        readonly yhat: TensorId;
        readonly target: TensorId;
        readonly loss: TensorId;
        readonly correct: TensorId | null;
        readonly dyhat: TensorId | null;
        /** The program's `padding`: how many of the batch's last rows the loss and count leave out. */
        readonly padding: TensorId;
      }
    /** target += source: running totals (the epoch's loss sum) kept on the GPU between readbacks. */
    | { readonly op: 'accumulate'; readonly source: TensorId; readonly target: TensorId }
    /** Every learnable parameter at once, over the packed `param`/`grad`/`state*` arenas. */
    | { readonly op: 'update'; readonly optimizer: OptimizerConfig }
  );

export type StepOpKind = StepOp['op'];
export type StepOpOf<K extends StepOpKind> = Extract<StepOp, { op: K }>;

/** An optimizer state kept per parameter, in an arena laid out like `param` (torch.optim's state names). */
export interface OptimizerState {
  readonly name: 'momentum_buffer' | 'exp_avg' | 'exp_avg_sq';
  readonly arena: 'state1' | 'state2';
}

export interface StepProgram {
  readonly model: string;
  readonly batch: number;
  readonly tensors: readonly TensorInfo[];
  /** The model input [N, ...] and the loss target: class indices (i32 [N]) or a tensor like the output. */
  readonly input: TensorId;
  readonly target: TensorId;
  /**
   * How many of the batch's last rows are padding (u32 [1], zero unless the runtime writes it): a
   * short batch is evaluated at the compiled size, its rows padded, instead of compiling the model
   * again for its size. The loss and the correct count leave the padded rows out.
   */
  readonly padding: TensorId;
  readonly output: TensorId;
  /** Scalars: this batch's loss; the sum of batch losses and the correct-prediction count since the runtime last zeroed them. */
  readonly loss: TensorId;
  readonly lossSum: TensorId;
  readonly correct: TensorId | null;
  /** Parameters and running statistics in state_dict order, for checkpoints and get/set. */
  readonly params: readonly TensorId[];
  /** Each learnable parameter's gradient: the `grad` arena mirrors `param`, so it sits at the parameter's offset. */
  readonly gradients: ReadonlyMap<TensorId, TensorId>;
  /** Each learnable parameter's optimizer states, at the parameter's offset of their arenas. */
  readonly optimizerStates: ReadonlyMap<TensorId, readonly OptimizerState[]>;
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

/** How an op uses a tensor: reads it, writes it, or both (running statistics and totals). */
export type Access = 'read' | 'write' | 'update';

/** One tensor operand of an op: its name in the op (`bn.gamma` for an epilogue's), its ids, its access. */
export type Operand = readonly [field: string, ids: TensorId | readonly TensorId[] | null, access: Access];

const read = (field: string, ids: TensorId | readonly TensorId[] | null): Operand => [field, ids, 'read'];
const write = (field: string, ids: TensorId | readonly TensorId[] | null): Operand => [field, ids, 'write'];
const update = (field: string, ids: TensorId): Operand => [field, ids, 'update'];

function epilogueOperands(e: Epilogue | undefined): Operand[] {
  if (e === undefined) return [];
  if (e.kind === 'act_grad') return [read('actGrad.x', e.x)];
  const bn = e.bn;
  return bn
    ? [
        read('bn.gamma', bn.gamma),
        read('bn.beta', bn.beta),
        read('bn.runMean', bn.runMean),
        read('bn.runVar', bn.runVar),
      ]
    : [];
}

/** Every op's tensor operands, in the order `cnnc compile --emit ir` prints them. */
const operandTable: { readonly [K in StepOpKind]: (op: StepOpOf<K>) => readonly Operand[] } = {
  conv2d: (op) => [
    read('x', op.x),
    read('w', op.w),
    read('b', op.b),
    write('y', op.y),
    ...epilogueOperands(op.epilogue),
  ],
  conv2d_dx: (op) => [read('dy', op.dy), read('w', op.w), write('dx', op.dx), ...epilogueOperands(op.epilogue)],
  conv2d_dw: (op) => [read('x', op.x), read('dy', op.dy), write('dw', op.dw), write('db', op.db)],
  linear: (op) => [
    read('x', op.x),
    read('w', op.w),
    read('b', op.b),
    write('y', op.y),
    ...epilogueOperands(op.epilogue),
  ],
  linear_dx: (op) => [read('dy', op.dy), read('w', op.w), write('dx', op.dx), ...epilogueOperands(op.epilogue)],
  linear_dw: (op) => [read('x', op.x), read('dy', op.dy), write('dw', op.dw), write('db', op.db)],
  unary: (op) => [read('x', op.x), write('y', op.y)],
  unary_grad: (op) => [read('x', op.x), read('dy', op.dy), write('dx', op.dx)],
  add: (op) => [read('a', op.a), read('b', op.b), write('y', op.y), ...epilogueOperands(op.epilogue)],
  pool: (op) => [read('x', op.x), write('y', op.y), write('argmax', op.argmax)],
  pool_grad: (op) => [
    read('dy', op.dy),
    read('argmax', op.argmax),
    write('dx', op.dx),
    ...epilogueOperands(op.epilogue),
  ],
  conv3d: (op) => [
    read('x', op.x),
    read('w', op.w),
    read('b', op.b),
    write('y', op.y),
    ...epilogueOperands(op.epilogue),
  ],
  conv3d_dx: (op) => [read('dy', op.dy), read('w', op.w), write('dx', op.dx), ...epilogueOperands(op.epilogue)],
  conv3d_dw: (op) => [read('x', op.x), read('dy', op.dy), write('dw', op.dw), write('db', op.db)],
  pool3d: (op) => [read('x', op.x), write('y', op.y), write('argmax', op.argmax)],
  pool3d_grad: (op) => [
    read('dy', op.dy),
    read('argmax', op.argmax),
    write('dx', op.dx),
    ...epilogueOperands(op.epilogue),
  ],
  adaptive_pool: (op) => [read('x', op.x), write('y', op.y)],
  adaptive_pool_grad: (op) => [read('dy', op.dy), write('dx', op.dx)],
  // Training-mode batch norm also moves the running statistics towards this batch's.
  bn_train: (op) => [
    read('x', op.x),
    read('gamma', op.gamma),
    read('beta', op.beta),
    write('y', op.y),
    update('runMean', op.runMean),
    update('runVar', op.runVar),
    write('mean', op.mean),
    write('invstd', op.invstd),
  ],
  bn_eval: (op) => [
    read('x', op.x),
    read('gamma', op.gamma),
    read('beta', op.beta),
    write('y', op.y),
    read('runMean', op.runMean),
    read('runVar', op.runVar),
  ],
  bn_grad: (op) => [
    read('x', op.x),
    read('gamma', op.gamma),
    read('dy', op.dy),
    read('mean', op.mean),
    read('invstd', op.invstd),
    write('dx', op.dx),
    write('dgamma', op.dgamma),
    write('dbeta', op.dbeta),
  ],
  dropout: (op) => [read('x', op.x), write('y', op.y)],
  dropout_grad: (op) => [read('dy', op.dy), write('dx', op.dx)],
  concat: (op) => [read('xs', op.xs), write('y', op.y)],
  concat_grad: (op) => [read('dy', op.dy), write('dxs', op.dxs)],
  loss: (op) => [
    read('yhat', op.yhat),
    read('target', op.target),
    read('padding', op.padding),
    write('loss', op.loss),
    write('correct', op.correct),
    write('dyhat', op.dyhat),
  ],
  accumulate: (op) => [read('source', op.source), update('target', op.target)],
  // The update reads and writes whole arenas (`param`, `grad`, the states), not tensors.
  update: () => [],
};

/** An op's tensor operands, named as in the op. */
export function operands(op: StepOp): readonly Operand[] {
  // TypeScript does not relate `op.op` to `op` across the union; the table's type checks each entry against its own op.
  return (operandTable[op.op] as (op: StepOp) => readonly Operand[])(op);
}

const ids = (list: readonly Operand[]): TensorId[] =>
  list.flatMap(([, v]) => (v === null ? [] : typeof v === 'number' ? [v] : [...v]));

/** The tensors an op reads (running statistics and totals it updates included). */
export const reads = (op: StepOp): TensorId[] => ids(operands(op).filter(([, , a]) => a !== 'write'));
/** The tensors an op writes. */
export const writes = (op: StepOp): TensorId[] => ids(operands(op).filter(([, , a]) => a !== 'read'));
/** Every tensor an op reads or writes. */
export const opTensors = (op: StepOp): TensorId[] => ids(operands(op));
