// The WebGPU device from `navigator.gpu` (a browser's, or dawn.node's that runtime/gpu/dawn.ts
// installs under Node): adapter choice, the adapter's limits, friendly failures. Portable: no
// Node module, no `webgpu` package.
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

/** The page's (or the Node process's, once dawn.ts installed it) WebGPU entry point, if any. */
const navigatorGpu = (): GPU | undefined => (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;

/** Opens a device on `entry` (default: `navigator.gpu`). */
export async function openGpu(entry: GPU | undefined = navigatorGpu()): Promise<Gpu> {
  if (entry === undefined)
    throw new GpuUnavailableError(
      'no WebGPU here (navigator.gpu is undefined): use a browser with WebGPU, on a page served from 127.0.0.1 or https',
    );
  const adapter = await entry.requestAdapter({ powerPreference: 'high-performance' });
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
    // Browsers that predate isFallbackAdapter leave it undefined: a GPU, as far as codegen knows.
    limits: deviceLimits(device.limits, subgroups ? subgroupMinSize : 0, {
      isFallbackAdapter: info.isFallbackAdapter === true,
    }),
    timestamps,
    dispose: () => device.destroy(),
  };
}
