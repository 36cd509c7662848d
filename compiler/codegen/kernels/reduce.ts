// Plumbing shared by the pooling, normalization, loss and optimizer kernels: module assembly
// (header first; grids and limits from indexing.ts), workgroup tree sums,
// and the accumulate kernel that keeps running totals on the GPU so training never reads back.
import { bindingDecls, kernelHeader } from '../header.ts';
import { checkLimits, foldGrid } from '../indexing.ts';
import { KernelLimitError, type BindingSpec, type KernelModule, type KernelOrigin, type ScalarType } from '../kernel.ts';
import { WgslWriter, wgsl } from '../writer.ts';

/** WebGPU's default workgroup memory (design.md); the other limits are checked in indexing.ts. */
export const MAX_WORKGROUP_BYTES = 16384;

/** Invocations per workgroup of the one-thread-per-item kernels. */
export const ITEM_THREADS = 64;

/**
 * The per-step counters, one small u32 storage binding shared by every kernel that needs them:
 * params[0] = RNG seed, params[1] = 0-based index of the training step being run.
 */
export const stepParams: BindingSpec = { name: 'params', access: 'read', type: 'u32', elements: 2 };

export function input(name: string, elements: number, type: ScalarType = 'f32'): BindingSpec {
  return { name, access: 'read', type, elements };
}

export function output(name: string, elements: number, type: ScalarType = 'f32'): BindingSpec {
  return { name, access: 'read_write', type, elements };
}

/** What every kernel of this family carries besides its WGSL: identity and bindings. */
export interface KernelFrame {
  readonly name: string;
  readonly origin: KernelOrigin;
  /** Inputs first, then outputs (read_write), in @binding order. */
  readonly bindings: readonly BindingSpec[];
}

export interface KernelBody {
  /** Invocations per workgroup (1-D). */
  readonly threads: number;
  /** Workgroups to launch; folded into y when above the per-dimension limit. */
  readonly groups: number;
  /** Module-scope WGSL: consts, helper functions, workgroup variables. */
  readonly decls: string;
  /** Body of `main`; sees `group` (u32, the uniform flat workgroup index) and `lid` (u32). */
  readonly main: string;
}

/** Header comment, binding declarations, module-scope declarations, then `main`. */
export function kernelModule(frame: KernelFrame, body: KernelBody): KernelModule {
  const { dispatch, flat } = foldGrid(frame.name, body.groups);
  const workgroupSize = [body.threads, 1, 1] as const;
  const w = new WgslWriter();
  w.chunk(kernelHeader(frame.name, frame.origin, frame.bindings, dispatch, workgroupSize));
  w.line().chunk(bindingDecls(frame.bindings));
  if (body.decls !== '') w.line().chunk(body.decls);
  w.line().line(`@compute @workgroup_size(${body.threads})`);
  w.block('fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32)', () => {
    w.line(`let group = ${flat};`);
    w.chunk(body.main);
  });
  return checkLimits({ name: frame.name, wgsl: w.toString(), bindings: frame.bindings, workgroupSize, dispatch });
}

/**
 * One invocation per item, or per `run` neighbouring items: `main` sees `i` (u32), the item's
 * index, for i < count only, and must not `return` when run > 1. On lavapipe an invocation's fixed
 * cost is several times a load's: 4 items an invocation made SGD over LeNet's 61,706 parameters
 * ~2x faster.
 */
export function perItemKernel(frame: KernelFrame, count: number, decls: string, main: string, run = 1): KernelModule {
  const w = new WgslWriter();
  if (run === 1) {
    w.chunk(wgsl`
      let i = group * ${ITEM_THREADS}u + lid;
      if (i >= ${count}u) {
        return;
      }`).chunk(main);
  } else {
    w.line(`let first = (group * ${ITEM_THREADS}u + lid) * ${run}u;`);
    for (let j = 0; j < run; j++) {
      w.block('', () => w.line(`let i = first${j === 0 ? '' : ` + ${j}u`};`).block(`if (i < ${count}u)`, () => w.chunk(main)));
    }
  }
  return kernelModule(frame, { threads: ITEM_THREADS, groups: Math.ceil(count / (ITEM_THREADS * run)), decls, main: w.toString() });
}

/** Workgroup size for a loop over `items` per workgroup: a power of two from 32 to 256. */
export function reductionThreads(items: number): number {
  let t = 32;
  while (t < 256 && t < items) t *= 2;
  return t;
}

/**
 * `fn <name>(v, lid) -> T`: the sum of `v` over the workgroup, returned to every invocation (a
 * tree in workgroup memory, log2(threads) barriers). Call it from uniform control flow only.
 */
export function workgroupSumFn(kernel: string, name: string, type: 'f32' | 'vec2f', threads: number): string {
  const bytes = threads * (type === 'f32' ? 4 : 8);
  if (bytes > MAX_WORKGROUP_BYTES) {
    throw new KernelLimitError(`kernel ${kernel}: ${bytes} bytes of workgroup memory exceed ${MAX_WORKGROUP_BYTES}`);
  }
  if ((threads & (threads - 1)) !== 0) throw new Error(`kernel ${kernel}: tree sum needs a power-of-two workgroup, got ${threads}`);
  return wgsl`
    var<workgroup> ${name}_tree: array<${type}, ${threads}>;

    fn ${name}(v: ${type}, lid: u32) -> ${type} {
      ${name}_tree[lid] = v;
      workgroupBarrier();
      for (var half = ${threads / 2}u; half > 0u; half >>= 1u) {
        if (lid < half) {
          ${name}_tree[lid] += ${name}_tree[lid + half];
        }
        workgroupBarrier();
      }
      let total = ${name}_tree[0];
      // A later call overwrites the tree: everyone must have read the total first.
      workgroupBarrier();
      return total;
    }
  `;
}

export interface AccumulateSpec {
  readonly name: string;
  readonly origin: KernelOrigin;
  /** Binding names: `target[i] += source[i]`. */
  readonly source: string;
  readonly target: string;
  readonly elements: number;
}

/** target += source elementwise, e.g. a per-epoch loss sum fed by each step's loss. */
export function accumulateKernel(spec: AccumulateSpec): KernelModule {
  const frame = { name: spec.name, origin: spec.origin, bindings: [input(spec.source, spec.elements), output(spec.target, spec.elements)] };
  return perItemKernel(frame, spec.elements, '', `${spec.target}[i] += ${spec.source}[i];`);
}
