// The manifest of a `cnnc export --web` bundle (model.json): what manifest.ts makes and the
// bundle's loader (loader.ts) reads. Types and the format's name only: the loader bundles this
// file, so it imports nothing but types.
import type { DeviceLimits } from '../../../compiler/codegen/limits.ts';

/** The manifest's format; the loader refuses any other. */
export const WEB_FORMAT = 'cnnc-web-1';

/** A byte range of one of the bundle's buffers. */
export interface WebRange {
  readonly buffer: number;
  readonly offset: number;
  readonly size: number;
}

/** One state_dict tensor: its bytes in weights.bin and the range of a buffer they are copied to. */
export interface WebTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Byte offset in weights.bin (float32, little-endian). */
  readonly at: number;
  readonly to: WebRange;
}

export interface WebKernel {
  readonly name: string;
  /** The WGSL file, relative to the manifest. */
  readonly file: string;
  readonly workgroups: readonly [number, number, number];
  /** In @binding order. */
  readonly bindings: readonly WebRange[];
}

/** What a device must allow for the kernels (GPUSupportedLimits names) and the subgroup width they assume. */
export type WebLimits = Readonly<Record<Exclude<keyof DeviceLimits, 'subgroupMinSize' | 'unrollLoops'>, number>> & {
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupSizeZ: number;
  /** 0: the kernels use no subgroup operations. */
  readonly subgroupMinSize: number;
};

export interface WebManifest {
  readonly format: typeof WEB_FORMAT;
  readonly model: string;
  /** The .cnn file the kernels were compiled from (their headers name its lines). */
  readonly source: string;
  /** The batch the kernels are specialised to. */
  readonly batch: number;
  readonly inputShape: readonly number[];
  readonly classes: number;
  readonly limits: WebLimits;
  /** Byte sizes of the GPU buffers the kernels bind, by index. */
  readonly buffers: readonly { readonly label: string; readonly size: number }[];
  readonly input: WebRange;
  /** The logits [batch, classes]. */
  readonly output: WebRange;
  readonly weights: { readonly file: string; readonly bytes: number; readonly checksum: number };
  readonly tensors: readonly WebTensor[];
  readonly kernels: readonly WebKernel[];
}
