// Tensors past the storage binding size, as compiled (no GPU: the kernels' numbers are checked in
// tests/runtime/split-bindings.test.ts): VGG-11's first linear weight in row blocks and its big
// activations in batch slices at WebGPU's default 128 MiB binding, every window aligned and
// inside its tensor, buffers banked under maxBufferSize, and E0401 naming the layer where no split
// can fit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distinctCalls } from '../../compiler/codegen/index.ts';
import { evenBlocks } from '../../compiler/codegen/lower/blocks.ts';
import { rowBlocks } from '../../compiler/codegen/lower/dense.ts';
import { defaultLimits, type DeviceLimits } from '../../compiler/codegen/limits.ts';
import { compileModel } from '../../compiler/index.ts';

const MiB = 2 ** 20;
const vggPath = 'dsl-examples/vgg.cnn';
const vgg = readFileSync(join(import.meta.dirname, '..', '..', vggPath), 'utf8');

describe('blocks', () => {
  it('split evenly on an aligned grid, none empty, covering the whole', () => {
    expect(evenBlocks(10, 10, 64)).toEqual([{ start: 0, size: 10 }]);
    expect(evenBlocks(128, 10, 1)!.map((b) => b.size)).toEqual([...Array(12).fill(10), 8]);
    expect(evenBlocks(129, 64, 64)).toEqual([
      { start: 0, size: 64 },
      { start: 64, size: 64 },
      { start: 128, size: 1 },
    ]);
    expect(evenBlocks(100, 63, 64)).toBeNull();
    for (const [total, most, step] of [
      [1000, 300, 8],
      [4096, 1337, 64],
      [7, 3, 1],
    ] as const) {
      const blocks = evenBlocks(total, most, step)!;
      expect(blocks.reduce((n, b) => n + b.size, 0)).toBe(total);
      for (const b of blocks) {
        expect(b.start % step).toBe(0);
        expect(b.size).toBeGreaterThan(0);
        expect(b.size).toBeLessThanOrEqual(most);
      }
    }
  });

  it("VGG-11's [4096, 25088] weight: four blocks of 1024 rows (98 MiB) at 128 MiB", () => {
    expect(rowBlocks(4096, 25088, defaultLimits)).toEqual(
      [0, 1024, 2048, 3072].map((start) => ({ start, size: 1024 })),
    );
    expect(rowBlocks(4096, 4096, defaultLimits)).toEqual([{ start: 0, size: 4096 }]);
  });
});

describe('VGG-11 at 224 compiles within the binding limit', () => {
  // Batch 16: the first conv's output (64 x 224 x 224 per sample, 12.25 MiB) is 196 MiB.
  const limits: DeviceLimits = { ...defaultLimits, maxBufferSize: 2 ** 32 - 4 };
  const c = compileModel(vgg, { path: vggPath, batch: 16, limits });
  const calls = [...c.kernels.forward, ...c.kernels.evaluate, ...c.kernels.train];

  it('every binding fits, every window is aligned and inside its tensor', () => {
    let windows = 0;
    for (const call of calls) {
      for (const b of call.kernel.bindings) expect(b.elements * 4).toBeLessThanOrEqual(128 * MiB);
      for (const ref of Object.values(call.args)) {
        if (ref.kind !== 'window') continue;
        windows++;
        expect(ref.offset % 64).toBe(0);
        expect(ref.offset + ref.elements).toBeLessThanOrEqual(c.plan.placements[ref.tensor]!.elements);
      }
    }
    expect(windows).toBeGreaterThan(50);
  });

  it('the first linear layer runs as four row blocks, forward, input and weight gradient', () => {
    const w = c.program.tensors.findIndex((t) => t.name === '6.weight');
    const blocks = (part: string) =>
      c.kernels.train.filter(
        (call) =>
          call.kernel.name.includes(part) &&
          Object.values(call.args).some((a) => a.kind === 'window' && (a.tensor === w || a.tensor === w + 1)),
      );
    for (const part of ['linear_relu', 'linear_grad_input', 'linear_grad_weight']) {
      const found = blocks(part);
      expect(found).toHaveLength(4);
      // Row blocks of one size share one kernel (and pipeline); dx's first block stores, the rest add.
      expect(new Set(found.map((f) => f.kernel.wgsl)).size).toBe(part === 'linear_grad_input' ? 3 : 1);
    }
  });

  it("the first conv's output runs in batch slices that cover the batch", () => {
    const conv = c.kernels.train.filter(
      (call) => call.origin.sources[0]?.includes('conv') && call.kernel.name.includes('conv2d_bias_relu'),
    );
    const y = conv[0]!.args['y']!;
    if (y.kind !== 'window') throw new Error('the first conv binds its whole output');
    const slices = conv.filter((call) => {
      const ref = call.args['y']!;
      return ref.kind === 'window' && ref.tensor === y.tensor;
    });
    const covered = slices.reduce((n, call) => n + (call.args['y'] as { elements: number }).elements, 0);
    expect(slices.length).toBeGreaterThan(1);
    expect(covered).toBe(c.plan.placements[y.tensor]!.elements);
  });

  it('distinctCalls lists each sliced kernel once, at its first call, in call order', () => {
    const listed = distinctCalls(c.kernels.train);
    const firstCall = new Map<unknown, number>();
    c.kernels.train.forEach((call, i) => firstCall.set(call.kernel, firstCall.get(call.kernel) ?? i));
    expect(listed.length).toBeLessThan(c.kernels.train.length);
    expect(listed.map((call) => c.kernels.train.indexOf(call))).toEqual([...firstCall.values()]);
  });
});

describe('where no split fits: E0401 naming the layer', () => {
  const compile = (source: string, limits: Partial<DeviceLimits>, batch = 4) =>
    compileModel(source, { path: 'm.cnn', batch, limits: { ...defaultLimits, ...limits } });

  it('a linear weight whose smallest block (64 rows) exceeds a binding', () => {
    const src = 'model M {\n  input [1, 32, 32]\n  flatten\n  linear(100)\n}';
    expect(() => compile(src, { maxStorageBufferBindingSize: 128 * 1024 })).toThrow(
      /E0401.*weight \[100, 1024\] \(0\.4 MiB\) cannot be split.*64 rows.*0\.3 MiB.*m\.cnn:4:3\s+linear\(100\)/s,
    );
    // 256 KiB holds 64 rows: two blocks.
    expect(() => compile(src, { maxStorageBufferBindingSize: 256 * 1024 })).not.toThrow();
  });

  it('one sample larger than a binding', () => {
    const src = 'model M {\n  input [1, 64, 64]\n  conv(16, kernel = 3, padding = 1)\n  flatten\n  linear(2)\n}';
    expect(() => compile(src, { maxStorageBufferBindingSize: 128 * 1024 })).toThrow(
      /E0401.*one sample of .* \[16, 64, 64\] takes 0\.3 MiB.*batch slices cannot help.*m\.cnn:3:3\s+conv\(16/s,
    );
  });

  it('an op that cannot run in slices (training batch norm needs the whole batch)', () => {
    const src =
      'model M {\n  input [1, 64, 64]\n  conv(4, kernel = 3, padding = 1)\n  batchnorm\n  flatten\n  linear(2)\n}';
    expect(() => compile(src, { maxStorageBufferBindingSize: 128 * 1024 }, 16)).toThrow(
      /E0401.*batchnorm.*maxStorageBufferBindingSize.*m\.cnn:4:3/s,
    );
  });

  it('a tensor larger than a buffer', () => {
    const src = 'model M {\n  input [1, 32, 32]\n  flatten\n  linear(512)\n  linear(2)\n}';
    expect(() => compile(src, { maxBufferSize: 1 * MiB })).toThrow(
      /E0401.*1\.weight \[512, 1024\] needs 2\.0 MiB.*maxBufferSize.*m\.cnn:4:3\s+linear\(512\)/s,
    );
    // Weights in two buffers of 2 MiB, each tensor whole in one.
    expect(compile(src, { maxBufferSize: 2 * MiB }).plan.paramBanks.length).toBe(2);
  });
});
