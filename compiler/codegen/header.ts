// The comment every generated kernel starts with: name, .cnn source, fused ops, bindings, grid.
import type { BindingSpec, KernelModule, KernelOrigin } from './kernel.ts';

function binding(b: BindingSpec, i: number): string {
  return `@${i} ${b.name}[${b.elements}]${b.type === 'f32' ? '' : `:${b.type}`} ${b.access === 'read' ? 'r' : 'rw'}`;
}

const bindsLine = (bindings: readonly BindingSpec[]): string => `// binds   ${bindings.map(binding).join('  ')}`;

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
    bindsLine(bindings),
    `// grid    (${dispatch.join(', ')})  workgroup_size(${workgroupSize.join(', ')})`,
  ].join('\n');
}

/**
 * One storage binding's declaration, with the binding's access. A `read` binding must not share a
 * GPU buffer with a writable one in the same dispatch (WebGPU tracks storage usage per buffer):
 * lowering declares such bindings `read_write` (`codegen/access.ts`).
 */
export function storageDecl(b: BindingSpec, index: number, element: string = b.type): string {
  return `${declPrefix(index, b.access)} ${b.name}: array<${element}>;`;
}

const declPrefix = (index: number, access: BindingSpec['access']): string =>
  `@group(0) @binding(${index}) var<storage, ${access}>`;

/**
 * `k` with the `read` bindings named in `writable` declared `read_write` (declarations and header):
 * the buffer they read is written by another of the kernel's bindings.
 */
export function declareWritable(k: KernelModule, writable: ReadonlySet<string>): KernelModule {
  let wgsl = k.wgsl;
  const bindings = k.bindings.map((b, i) => {
    if (b.access !== 'read' || !writable.has(b.name)) return b;
    const decl = `${declPrefix(i, 'read')} ${b.name}:`;
    if (!wgsl.includes(decl)) throw new Error(`internal: kernel ${k.name} has no declaration of binding ${b.name}`);
    wgsl = wgsl.replace(decl, `${declPrefix(i, 'read_write')} ${b.name}:`);
    return { ...b, access: 'read_write' as const };
  });
  if (bindings.every((b, i) => b === k.bindings[i])) return k;
  wgsl = wgsl.replace(/^\/\/ binds {3}.*$/m, bindsLine(bindings));
  return { ...k, wgsl, bindings };
}

/** WGSL declarations for a kernel's bindings, in order, group 0. */
export function bindingDecls(bindings: readonly BindingSpec[]): string {
  return bindings.map((b, i) => storageDecl(b, i)).join('\n');
}
