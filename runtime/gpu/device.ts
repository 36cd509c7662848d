// The WebGPU device on dawn.node: adapter choice, the adapter's limits, friendly failures.
import { create, globals } from 'webgpu';
import { deviceLimits, type DeviceLimits } from '../../compiler/codegen/limits.ts';
import { UserError } from '../errors.ts';

/** No WebGPU adapter: a set-up problem the user can fix, reported without a stack trace. */
export class GpuUnavailableError extends UserError {}

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapterName: string;
  /** What compilation for this device may use. */
  readonly limits: DeviceLimits;
  /** The device can time passes (timestamp-query): what `Model.profileTrainStep` needs. */
  readonly timestamps: boolean;
  /** What identifies the adapter to the tuner's cache (runtime/tune/cache.ts). */
  readonly adapter: AdapterFacts;
  dispose(): void;
}

export interface AdapterFacts {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly subgroupSizes: readonly [number, number];
  /** Sorted. */
  readonly features: readonly string[];
  /** Every limit the adapter reports, by name. */
  readonly limits: Readonly<Record<string, number>>;
}

// dawn.node crash to avoid: the object returned by create() must outlive the device, or later
// dispatches segfault once it is garbage-collected. Kept here for the process's lifetime.
let navigatorGpu: GPU | null = null;

const limitNames = [
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxBindGroups',
] as const;

export async function openGpu(): Promise<Gpu> {
  if (process.env['XDG_RUNTIME_DIR'] === undefined) process.env['XDG_RUNTIME_DIR'] = '/tmp';
  if (navigatorGpu === null) {
    Object.assign(globalThis, globals);
    // Dawn rounds timestamps to 65.5 us against timing attacks, a browser's concern; the profiler
    // and the tuner time kernels shorter than that.
    navigatorGpu = create(['disable-dawn-features=timestamp_quantization']);
  }
  const adapter = await navigatorGpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      'no WebGPU adapter found: cnnc needs a Vulkan driver. On Debian bookworm run `npm run setup` ' +
        "(it installs libvulkan1 and Mesa >= 24 lavapipe from bookworm-backports), or install your GPU's Vulkan driver.",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of limitNames) requiredLimits[name] = adapter.limits[name];
  const timestamps = adapter.features.has('timestamp-query');
  const info = adapter.info;
  // Subgroups narrower than 8 cannot hold the 8 k steps a shared GEMM load serves.
  const subgroupMinSize = adapter.features.has('subgroups') ? (info.subgroupMinSize ?? 0) : 0;
  const subgroups = subgroupMinSize >= 8;
  const requiredFeatures: GPUFeatureName[] = [
    ...(timestamps ? ['timestamp-query' as const] : []),
    ...(subgroups ? ['subgroups' as const] : []),
  ];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const adapterName =
    [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
  const limits: Record<string, number> = {};
  for (const name in adapter.limits) limits[name] = adapter.limits[name as keyof GPUSupportedLimits] as number;
  return {
    device,
    adapterName,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      subgroupSizes: [info.subgroupMinSize ?? 0, info.subgroupMaxSize ?? 0],
      features: [...adapter.features].sort(),
      limits,
    },
    limits: deviceLimits(device.limits, subgroups ? subgroupMinSize : 0),
    timestamps,
    dispose: () => device.destroy(),
  };
}
