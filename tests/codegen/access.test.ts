// Read-only bindings: every kernel binds what it only reads `read`, except where WebGPU forbids it
// (a dispatch may not bind one buffer both read-only and writable, whatever the ranges: usage is
// tracked per buffer). The memory plan spreads `work` over banks so that inputs and outputs sit in
// different buffers; parameters are read-only outside the optimizer. No GPU: WGSL and plans only
// (the GPU tests run these kernels, and Dawn validates the usage).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { declareWritable, kernelHeader, storageDecl } from '../../compiler/codegen/header.ts';
import type { BindingSpec, KernelModule } from '../../compiler/codegen/kernel.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { operands } from '../../compiler/autodiff/step-ir.ts';
import { compileModel } from '../../compiler/index.ts';

const root = join(import.meta.dirname, '..', '..');

const origin = { phase: 'forward', sources: [], ops: ['add#1'] } as const;
const specs: BindingSpec[] = [
  { name: 'a', access: 'read', type: 'f32', elements: 4 },
  { name: 'b', access: 'read', type: 'f32', elements: 4 },
  { name: 'y', access: 'read_write', type: 'f32', elements: 4 },
];
const kernel: KernelModule = {
  name: 'k00_add',
  bindings: specs,
  workgroupSize: [4, 1, 1],
  dispatch: [1, 1, 1],
  wgsl: `${kernelHeader('k00_add', origin, specs, [1, 1, 1], [4, 1, 1])}\n${specs.map((b, i) => storageDecl(b, i)).join('\n')}\n`,
};

describe('binding access', () => {
  it('declares read bindings read-only, and declareWritable makes named ones read_write in the WGSL and the header', () => {
    expect(kernel.wgsl).toContain('@group(0) @binding(0) var<storage, read> a: array<f32>;');
    expect(kernel.wgsl).toContain('// binds   @0 a[4] r  @1 b[4] r  @2 y[4] rw');
    const k = declareWritable(kernel, new Set(['b']));
    expect(k.bindings.map((b) => b.access)).toEqual(['read', 'read_write', 'read_write']);
    expect(k.wgsl).toContain('@group(0) @binding(0) var<storage, read> a: array<f32>;');
    expect(k.wgsl).toContain('@group(0) @binding(1) var<storage, read_write> b: array<f32>;');
    expect(k.wgsl).toContain('// binds   @0 a[4] r  @1 b[4] rw  @2 y[4] rw');
    expect(k.wgsl.replace('read_write> b', 'read> b').replace('b[4] rw', 'b[4] r')).toBe(kernel.wgsl);
    expect(declareWritable(kernel, new Set())).toBe(kernel);
  });

  // ResNet-18's shortcut adds: the add's gradient reads a tensor in a bank it also writes (a
  // conflict three banks do not separate); those reads stay read_write.
  it.each([
    ['lenet.cnn', 0],
    ['resnet18.cnn', 4],
  ] as const)(
    '%s: no buffer both read-only and writable in a dispatch; parameters read-only outside the optimizer',
    (file, unseparated) => {
      const c = compileModel(readFileSync(join(root, 'dsl-examples', file), 'utf8'), {
        path: file,
        batch: 4,
        limits: { ...defaultLimits, subgroupMinSize: 8 },
        limitSeverity: 'warning',
      });
      const { program, plan } = c;
      let readOnly = 0;
      for (const call of [...c.kernels.forward, ...c.kernels.evaluate, ...c.kernels.train]) {
        const buffers = new Map<string, Set<string>>();
        call.kernel.bindings.forEach((b, i) => {
          const ref = call.args[b.name]!;
          const p = ref.kind === 'tensor' ? plan.placements[ref.tensor]! : null;
          const buffer = p ? `${p.arena}#${p.bank}` : ref.kind === 'range' ? `${ref.arena}#${ref.bank}` : ref.kind;
          buffers.set(buffer, (buffers.get(buffer) ?? new Set()).add(b.access));
          expect(call.kernel.wgsl).toContain(`@binding(${i}) var<storage, ${b.access}> ${b.name}:`);
          if (p?.arena === 'param' && !call.kernel.name.includes('sgd'))
            expect(b.access, `${call.kernel.name} ${b.name}`).toBe('read');
          if (b.access === 'read') readOnly++;
        });
        for (const [buffer, uses] of buffers)
          expect(uses.size, `${call.kernel.name}: ${buffer} bound read-only and writable`).toBe(1);
      }
      expect(readOnly).toBeGreaterThan(0);
      // Ops reading a work tensor from a bank they write.
      const bank = (id: number) => plan.placements[program.tensors[id]!.aliasOf ?? id]!.bank;
      const work = (id: number) => program.tensors[id]!.arena === 'work';
      const shared = [...program.forward, ...program.evaluate, ...program.train].filter((op) => {
        const written = new Set(
          operands(op)
            .filter(([, , a]) => a !== 'read')
            .flatMap(([, v]) => ids(v))
            .filter(work)
            .map(bank),
        );
        return operands(op).some(
          ([, v, a]) =>
            a === 'read' &&
            ids(v)
              .filter(work)
              .some((id) => written.has(bank(id))),
        );
      });
      expect(shared.length).toBe(unseparated);
    },
  );
});

const ids = (v: number | readonly number[] | null): number[] =>
  v === null ? [] : typeof v === 'number' ? [v] : [...v];
