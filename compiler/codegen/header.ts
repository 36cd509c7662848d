// The comment every generated kernel starts with: name, .cnn source, fused ops, bindings, grid.
import type { BindingSpec, KernelOrigin } from './kernel.ts';

function binding(b: BindingSpec, i: number): string {
  return `@${i} ${b.name}[${b.elements}]${b.type === 'f32' ? '' : `:${b.type}`} ${b.access === 'read' ? 'r' : 'rw'}`;
}

export function kernelHeader(
  name: string,
  origin: KernelOrigin,
  bindings: readonly BindingSpec[],
  dispatch: readonly [number, number, number],
  workgroupSize: readonly [number, number, number],
): string {
  const sources = origin.sources.length ? origin.sources : ['(generated)'];
  return [
    `// kernel  ${name}   (${origin.phase})`,
    ...sources.map((s, i) => `// ${i === 0 ? 'source ' : '       '} ${s}`),
    `// fuses   ${origin.ops.join(', ')}`,
    `// binds   ${bindings.map(binding).join('  ')}`,
    `// grid    (${dispatch.join(', ')})  workgroup_size(${workgroupSize.join(', ')})`,
  ].join('\n');
}

/**
 * One storage binding's declaration. Always `read_write`, whatever the kernel's `access` says:
 * tensors are sub-ranges of a few arena buffers, and WebGPU tracks usage per buffer, so a kernel
 * reading one range of an arena and writing another would mix read-only and writable usage of
 * one buffer in a dispatch, which validation refuses. Writable usages may share a buffer.
 */
export function storageDecl(b: BindingSpec, index: number, element: string = b.type): string {
  return `@group(0) @binding(${index}) var<storage, read_write> ${b.name}: array<${element}>;`;
}

/** WGSL declarations for a kernel's bindings, in order, group 0. */
export function bindingDecls(bindings: readonly BindingSpec[]): string {
  return bindings.map((b, i) => storageDecl(b, i)).join('\n');
}
