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

/** WGSL declarations for a kernel's bindings, in order, group 0. */
export function bindingDecls(bindings: readonly BindingSpec[]): string {
  return bindings
    .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<${b.type}>;`)
    .join('\n');
}
