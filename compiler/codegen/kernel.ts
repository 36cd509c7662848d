// What codegen hands the runtime: one WGSL module per kernel, with its bindings and dispatch size.

// The step IR's facts, re-exported: the kernels below are described in their terms.
import type { ScalarType } from '../ir/kernel-facts.ts';
export type { KernelOrigin, ScalarType } from '../ir/kernel-facts.ts';

export interface BindingSpec {
  /** The WGSL variable name; also the key the runtime binds buffers by. */
  readonly name: string;
  readonly access: 'read' | 'read_write';
  readonly type: ScalarType;
  /** Element count of the buffer (storage bindings are flat arrays). */
  readonly elements: number;
}

export interface KernelModule {
  /** Deterministic name from the fused ops, e.g. `k07_conv2d_bias_relu`. */
  readonly name: string;
  readonly wgsl: string;
  /** In @binding order (group 0). */
  readonly bindings: readonly BindingSpec[];
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
}

/**
 * The code without its header comment: kernels that differ only in name and source line (repeated
 * layers, the forward shared by evaluation) share one pipeline, in the runtime and in a web bundle.
 */
export const pipelineKey = (wgsl: string): string => wgsl.replace(/^(\/\/.*\n)+/, '');

/**
 * A kernel template cannot fit a WebGPU limit for its shape (workgroups, workgroup memory, storage
 * buffers). Lowering turns it into a diagnostic naming the layer; any other Error is a cnnc bug.
 */
export class KernelLimitError extends Error {}
