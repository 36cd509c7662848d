// The limits a compilation is given (the device's, or WebGPU's defaults) reach every kernel
// family through the lowering context: workgroup sizes, grid folding, workgroup memory, storage
// buffers per kernel and the optimizer's chunks follow them, and a kernel that cannot fit them is
// E0401 naming its layer. No GPU: these compile to WGSL only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KernelModule } from '../../compiler/codegen/kernel.ts';
import { concatKernel } from '../../compiler/codegen/kernels/concat.ts';
import { defaultLimits, type DeviceLimits } from '../../compiler/codegen/limits.ts';
import { compileModel } from '../../compiler/index.ts';

const path = 'dsl-examples/lenet.cnn';
const source = readFileSync(join(import.meta.dirname, '..', '..', path), 'utf8');

/** LeNet's training-step kernels, unfused (so its sigmoids are elementwise kernels), at batch 512. */
function kernels(limits: Partial<DeviceLimits>, severity: 'error' | 'warning' = 'error'): KernelModule[] {
  const c = compileModel(source, {
    path,
    batch: 512,
    fuse: false,
    limits: { ...defaultLimits, ...limits },
    limitSeverity: severity,
  });
  return [...c.kernels.forward, ...c.kernels.train].map((call) => call.kernel);
}
const named = (ks: readonly KernelModule[], part: string): KernelModule[] => ks.filter((k) => k.name.includes(part));
const lanes = (k: KernelModule): number => k.workgroupSize[0] * k.workgroupSize[1] * k.workgroupSize[2];

describe('device limits reach the kernel templates', () => {
  const defaults = kernels({});

  it('workgroups shrink to the invocations the device allows', () => {
    expect(named(defaults, '_sigmoid').map(lanes)).toContain(256);
    expect(named(defaults, '_softmax_xent')[0]!.workgroupSize[0]).toBe(256);
    const small = kernels({ maxComputeWorkgroupSizeX: 64, maxComputeInvocationsPerWorkgroup: 64 });
    expect(Math.max(...small.map(lanes))).toBeLessThanOrEqual(64);
    expect(new Set(named(small, '_sigmoid').map(lanes))).toEqual(new Set([64]));
    expect(named(small, '_softmax_xent')[0]!.workgroupSize[0]).toBe(64);
  });

  it("a tree sum fits the device's workgroup memory", () => {
    // 512 bytes hold a 64-lane vec2f tree.
    const k = named(kernels({ maxComputeWorkgroupStorageSize: 512 }), '_softmax_xent')[0]!;
    expect(k.workgroupSize[0]).toBe(64);
    expect(k.wgsl).toContain('array<vec2f, 64>');
  });

  it("grids fold at the device's workgroups per dimension", () => {
    const sigmoid = (ks: readonly KernelModule[]) => named(ks, '_sigmoid')[0]!;
    expect(sigmoid(defaults).dispatch).toEqual([2352, 1, 1]);
    const folded = kernels({ maxComputeWorkgroupsPerDimension: 1024 });
    expect(sigmoid(folded).dispatch).toEqual([784, 3, 1]);
    expect(sigmoid(folded).wgsl).toContain('let group = wid.x + wid.y * 784u;');
    for (const k of folded) expect(Math.max(...k.dispatch)).toBeLessThanOrEqual(1024);
  });

  it("a grid that cannot fold into the device's limit is E0401 naming the layer", () => {
    expect(() => kernels({ maxComputeWorkgroupsPerDimension: 16 })).toThrow(
      /E0401.*workgroups exceed 16 x 16.*lenet\.cnn:\d+:\d+/s,
    );
  });

  it("the optimizer step is chunked at the device's storage binding size", () => {
    expect(named(defaults, '_sgd')).toHaveLength(1);
    // The param arena (LeNet's 61,706 parameters, aligned) in bindings of 64 KiB (16,384 floats).
    const arena = compileModel(source, { path, batch: 512, fuse: false, limits: defaultLimits }).plan.arenas.param;
    expect(arena).toBeGreaterThan(3 * 16384);
    expect(arena).toBeLessThanOrEqual(4 * 16384);
    const chunked = named(kernels({ maxStorageBufferBindingSize: 64 * 1024 }, 'warning'), '_sgd');
    expect(chunked.map((k) => k.bindings.find((b) => b.name === 'param')!.elements)).toEqual([
      16384,
      16384,
      16384,
      arena - 3 * 16384,
    ]);
  });

  it("storage buffers per kernel: the device's count, not the default 8", () => {
    const parts = Array.from({ length: 8 }, (_, i) => `x${i}`);
    const spec = {
      name: 'k09_concat',
      origin: { phase: 'forward', sources: [], ops: [] } as const,
      direction: 'forward' as const,
      batch: 1,
      channels: parts.map(() => 1),
      spatial: 4,
      parts,
      whole: 'y',
    };
    expect(() => concatKernel(spec)).toThrow(/k09_concat: 9 storage buffers, the limit is 8/);
    expect(
      concatKernel({ ...spec, limits: { ...defaultLimits, maxStorageBuffersPerShaderStage: 10 } }).bindings,
    ).toHaveLength(9);
  });
});
