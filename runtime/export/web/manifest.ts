// `cnnc export --web`: a compiled model's evaluation-mode forward pass as data, for the standalone
// loader (loader.ts) to replay on any WebGPU device: its GPU buffers (the memory
// plan's arenas and work banks), each kernel call (WGSL file, bindings as buffer + byte range,
// workgroup counts), where the input, the logits and every weight tensor live, and the limits the
// kernels need (the format: format.ts). The WGSL files and the weights go beside it.
import type { TensorId } from '../../../compiler/autodiff/step-ir.ts';
import { placementOf } from '../../../compiler/codegen/access.ts';
import type { BindingRef } from '../../../compiler/codegen/lower/context.ts';
import type { DeviceLimits } from '../../../compiler/codegen/limits.ts';
import type { Compiled } from '../../../compiler/index.ts';
import { arenaBanks, type Placement } from '../../../compiler/plan/allocate.ts';
import { WEB_FORMAT, type WebKernel, type WebManifest, type WebRange } from './format.ts';

export interface WebBundle {
  /** Without the weights' checksum, which only the file's bytes give. */
  readonly manifest: Omit<WebManifest, 'weights'> & { readonly weights: Omit<WebManifest['weights'], 'checksum'> };
  /** Each kernel's WGSL by its file name. */
  readonly files: ReadonlyMap<string, string>;
}

const WEIGHTS_FILE = 'weights.bin';
/** WebGPU binds at least 4 bytes; an empty tensor still gets a binding. */
const bytes = (elements: number): number => Math.max(4, elements * 4);

/** The forward pass of `compiled` (eval mode) as a bundle; `source` names the .cnn file. */
export function webBundle(compiled: Compiled, source: string, limits: DeviceLimits): WebBundle {
  const { program, plan, kernels, graph } = compiled;
  const calls = kernels.forward;
  const buffers: { label: string; size: number }[] = [];
  const index = new Map<string, number>();
  const bufferOf = (label: string, size: number): number => {
    let i = index.get(label);
    if (i === undefined) {
      i = buffers.push({ label, size }) - 1;
      index.set(label, i);
    }
    return i;
  };
  // One GPU buffer per bank of an arena, as the executor makes them (`arenaBanks`).
  const arena = (p: Pick<Placement, 'arena' | 'bank'>): number =>
    bufferOf(`${p.arena}#${p.bank}`, bytes(arenaBanks(plan, p.arena)[p.bank]!));
  const placed = (p: Placement): WebRange => ({ buffer: arena(p), offset: p.offset * 4, size: bytes(p.elements) });
  const tensor = (id: TensorId): WebRange => placed(plan.placements[id]!);
  // The eval forward pass binds tensors and windows of them (a tensor past the binding limit):
  // per-step words feed training's dropout, scratch the weight gradient's split-K and raw arena
  // ranges the optimizer.
  const bind = (kernel: string, ref: BindingRef): WebRange => {
    if (ref.kind !== 'tensor' && ref.kind !== 'window')
      throw new Error(`internal: forward kernel ${kernel} binds ${ref.kind} storage`);
    return placed(placementOf(ref, plan));
  };

  const input = tensor(program.input);
  const output = tensor(program.output);
  let at = 0;
  const tensors = program.params.flatMap((id) => {
    const t = program.tensors[id]!;
    const p = plan.placements[id]!;
    // num_batches_tracked only counts training steps: the forward pass never reads it.
    if (t.name.endsWith('.num_batches_tracked')) return [];
    const entry = { name: t.name, shape: t.shape, at, to: placed(p) };
    at += p.elements * 4;
    return [entry];
  });
  const files = new Map<string, string>();
  const webKernels = calls.map((c, i): WebKernel => {
    const file = `kernels/${String(i).padStart(3, '0')}_${c.kernel.name}.wgsl`;
    files.set(file, c.kernel.wgsl);
    return {
      name: c.kernel.name,
      file,
      workgroups: c.kernel.dispatch,
      bindings: c.kernel.bindings.map((b) => bind(c.kernel.name, c.args[b.name]!)),
    };
  });
  const max = (values: readonly number[]): number => Math.max(0, ...values);
  const bound = webKernels.flatMap((k) => k.bindings.map((b) => b.size));
  const sizes = calls.map((c) => c.kernel.workgroupSize);
  return {
    manifest: {
      format: WEB_FORMAT,
      model: graph.model,
      source,
      batch: program.batch,
      inputShape: program.tensors[program.input]!.shape.slice(1),
      classes: program.tensors[program.output]!.shape[1] ?? 1,
      limits: {
        maxStorageBufferBindingSize: max(bound),
        maxStorageBuffersPerShaderStage: max(calls.map((c) => c.kernel.bindings.length)),
        maxBufferSize: max(buffers.map((b) => b.size)),
        maxComputeWorkgroupsPerDimension: max(calls.flatMap((c) => c.kernel.dispatch)),
        maxComputeInvocationsPerWorkgroup: max(sizes.map(([x, y, z]) => x * y * z)),
        maxComputeWorkgroupSizeX: max(sizes.map((s) => s[0])),
        maxComputeWorkgroupSizeY: max(sizes.map((s) => s[1])),
        maxComputeWorkgroupSizeZ: max(sizes.map((s) => s[2])),
        // Not recorded per kernel: the templates fit what they were compiled for.
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        subgroupMinSize: limits.subgroupMinSize,
      },
      buffers,
      input,
      output,
      weights: { file: WEIGHTS_FILE, bytes: at },
      tensors,
      kernels: webKernels,
    },
    files,
  };
}
