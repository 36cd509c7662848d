// The one source of the WebGPU limits codegen fits its kernels to: the device's when kernels are
// about to run on it, WebGPU's defaults (what every adapter grants) when they are only shown or
// built outside a compilation (`cnnc compile`/`kernels`, kernel tests). The caller decides which;
// the lowering context carries them to every kernel template.

/** The WebGPU limits (GPUSupportedLimits names) the kernels and the memory plan depend on. */
export interface DeviceLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupStorageSize: number;
  /** The smallest subgroup size with the WGSL subgroups feature enabled; 0 without it. */
  readonly subgroupMinSize: number;
  /**
   * Whether the driver's compiler may unroll short constant loops. False on a CPU (fallback)
   * adapter such as lavapipe: it compiles each pipeline at its first dispatch, one at a time, and
   * unrolled store, short k, class and tree-sum loops made half of LeNet's cold start there for no
   * speed (bench/NOTES.md, "Cold start"); kernels then hide those loops' bounds (module.ts,
   * loopBound).
   */
  readonly unrollLoops: boolean;
}

/** `392.0 MiB`: sizes in the limit diagnostics. */
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** WebGPU's default limits: what any adapter supports, used when compiling without a device. */
export const defaultLimits: DeviceLimits = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxStorageBuffersPerShaderStage: 8,
  maxBufferSize: 256 * 1024 * 1024,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  subgroupMinSize: 0,
  unrollLoops: true,
};

/** GEMM kernels may share loads across 8 subgroup lanes (GemmTile.shareU) where subgroups have at least 8. */
export const hasSubgroups = (limits: DeviceLimits): boolean => limits.subgroupMinSize >= 8;

/**
 * The default limits, with subgroups of 8 lanes for `--subgroups` (an adapter with subgroups of 8 or
 * more): the limits kernels are shown and bundled for without a device.
 */
export const kernelLimits = (subgroups: boolean): DeviceLimits =>
  subgroups ? { ...defaultLimits, subgroupMinSize: 8 } : defaultLimits;

type SupportedLimits = Readonly<Record<Exclude<keyof DeviceLimits, 'subgroupMinSize' | 'unrollLoops'>, number>>;

/** A device's limits as codegen reads them, from its GPUSupportedLimits and what the adapter is. */
export function deviceLimits(
  supported: SupportedLimits,
  subgroupMinSize: number,
  adapter: { readonly isFallbackAdapter: boolean },
): DeviceLimits {
  return {
    maxStorageBufferBindingSize: supported.maxStorageBufferBindingSize,
    maxStorageBuffersPerShaderStage: supported.maxStorageBuffersPerShaderStage,
    maxBufferSize: supported.maxBufferSize,
    maxComputeWorkgroupsPerDimension: supported.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: supported.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: supported.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupStorageSize: supported.maxComputeWorkgroupStorageSize,
    subgroupMinSize,
    unrollLoops: !adapter.isFallbackAdapter,
  };
}

/**
 * Invocations for a 1-D workgroup: the template's `preferred` count (a tuning choice, at most
 * WebGPU's default of 256), or fewer where the device allows fewer. A device that allows more
 * changes nothing: the preferences were measured, not derived from the limit.
 */
export function workgroupLanes(limits: DeviceLimits, preferred: number): number {
  return Math.min(preferred, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
}
