// The training recipe: what the `train { }` section says (optimizer, loss, init, data, batch),
// read by elaborate/train-config.ts and consumed by autodiff, codegen and the runtime.
import type { ConstTensor } from './constant.ts';
import type { Pair } from './ops.ts';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';
export type InitKind = 'xavier_uniform' | 'kaiming' | 'default';
export type LossKind = 'cross_entropy' | 'mse_sum' | 'mse_mean';

export interface OptimizerConfig {
  readonly kind: OptimizerKind;
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly betas: Pair;
  readonly eps: number;
}

/** What the SGD update reads: the WGSL kernel and the float64 reference share it. */
export interface SgdHyper {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/** What the Adam and AdamW updates read (betas as two numbers). */
export interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** Where training data comes from; relative paths are relative to the .cnn file. */
export type DataSource =
  | { readonly kind: 'fashion_mnist' }
  | { readonly kind: 'idx'; readonly dir: string }
  | { readonly kind: 'npy'; readonly inputs: string; readonly targets: string }
  /** Constant tensors of the file, [N, ...] each. */
  | { readonly kind: 'tensors'; readonly inputs: ConstTensor; readonly targets: ConstTensor };

export interface TrainConfig {
  readonly data: DataSource;
  readonly resize: Pair | null;
  readonly batch: number;
  readonly epochs: number;
  readonly optimizer: OptimizerConfig;
  readonly init: InitKind;
  readonly loss: LossKind;
  readonly seed: number;
}
