// What the step IR records for the kernels made from it: a tensor's element type and the source
// an op comes from. Codegen reads both (binding types, kernel headers); autodiff and fusion write them.

export type ScalarType = 'f32' | 'i32' | 'u32';

/** Where a kernel comes from, for its header comment: the .cnn layers and the IR ops it implements. */
export interface KernelOrigin {
  readonly phase: 'forward' | 'backward' | 'update' | 'loss';
  /** One entry per layer: `lenet.cnn:4:3  conv(16, kernel = 5)`. */
  readonly sources: readonly string[];
  /** IR ops fused into the kernel: `conv2d#5`, `relu#6`. */
  readonly ops: readonly string[];
}
