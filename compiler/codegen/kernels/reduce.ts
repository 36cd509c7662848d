// Plumbing shared by the pooling, normalization, loss and optimizer kernels: one-invocation-per-item
// kernels, workgroup tree sums, and the accumulate kernel that keeps running totals on the GPU so
// training never reads back. Modules are assembled by module.ts.
import { KernelLimitError, type BindingSpec, type KernelModule } from '../kernel.ts';
import { workgroupLanes } from '../limits.ts';
import { buildModule, limitsOf, loopBound, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { WgslWriter, wgsl } from '../writer.ts';

/** Invocations per workgroup of the one-thread-per-item kernels (fewer where the device allows fewer). */
export const ITEM_THREADS = 64;

/**
 * The per-step counters, one small u32 storage binding shared by every kernel that needs them:
 * params[0] = RNG seed, params[1] = 0-based index of the training step being run.
 */
export const stepParams: BindingSpec = { name: 'params', access: 'read', type: 'u32', elements: 2 };

/**
 * The workgroup size of a one-invocation-per-item kernel: `lanes` invocations (fewer where the
 * device allows fewer) instead of ITEM_THREADS, a tuning knob (64-256 on GPUs, where the grid has
 * the work).
 */
export interface ItemLanes {
  readonly lanes?: number;
}

/** A kernel of this family: identity, limits and bindings (inputs first, then outputs, in @binding order). */
export interface ReduceFrame extends KernelFrame, ItemLanes {
  readonly bindings: readonly BindingSpec[];
}

/**
 * One invocation per item, or per `run` neighbouring items: `main` sees `i` (u32), the item's
 * index, for i < count only, and must not `return` when run > 1. On lavapipe an invocation's fixed
 * cost is several times a load's, so the optimizer and dropout take 4 items an invocation
 * (measurements: bench/NOTES.md).
 */
export function perItemKernel(frame: ReduceFrame, count: number, decls: string, main: string, run = 1): KernelModule {
  const threads = workgroupLanes(limitsOf(frame), frame.lanes ?? ITEM_THREADS);
  const w = new WgslWriter();
  if (run === 1) {
    w.chunk(wgsl`
      let i = group * ${threads}u + lid;
      if (i >= ${count}u) {
        return;
      }`).chunk(main);
  } else {
    w.line(`let first = (group * ${threads}u + lid) * ${run}u;`);
    for (let j = 0; j < run; j++) {
      w.block('', () =>
        w.line(`let i = first${j === 0 ? '' : ` + ${j}u`};`).block(`if (i < ${count}u)`, () => w.chunk(main)),
      );
    }
  }
  const { name, origin, limits, bindings } = frame;
  const groups = Math.ceil(count / (threads * run));
  return buildModule({
    name,
    origin,
    limits,
    bindings,
    lid: 'index',
    lanes: threads,
    groups,
    decls,
    main: (m) => m.chunk(w.toString()),
  });
}

/**
 * Workgroup size for a loop over `items` per workgroup: a power of two from 32 to 256, or the
 * largest the frame's limits allow (invocations, and a vec2f tree sum in workgroup memory).
 */
export function reductionThreads(items: number, frame: KernelFrame): number {
  const limits = limitsOf(frame);
  const most = Math.min(workgroupLanes(limits, 256), Math.floor(limits.maxComputeWorkgroupStorageSize / 8));
  let t = 32;
  while (t < 256 && t < items && t * 2 <= most) t *= 2;
  return t;
}

/** A workgroup sum: its module-scope WGSL, and `call(v)`, the expression that sums `v` from `main`. */
export interface WorkgroupSum {
  readonly decls: string;
  readonly call: (v: string) => string;
}

/**
 * `fn <name>(v, lid[, end]) -> T`: the sum of `v` over the workgroup, returned to every invocation
 * (a tree in workgroup memory, log2(threads) barriers). Call it from uniform control flow only.
 * Where the device wants short loops kept (loopBound), the tree's loop ends at `end`, a 0 that
 * `main` passes hidden: unrolled, each step's barrier is one more suspension point for lavapipe to
 * compile (a third of a batch norm kernel's compile time there; bench/NOTES.md).
 */
export function workgroupSum(frame: KernelFrame, name: string, type: 'f32' | 'vec2f', threads: number): WorkgroupSum {
  const kernel = frame.name;
  const bytes = threads * (type === 'f32' ? 4 : 8);
  const most = limitsOf(frame).maxComputeWorkgroupStorageSize;
  if (bytes > most) throw new KernelLimitError(`kernel ${kernel}: ${bytes} bytes of workgroup memory exceed ${most}`);
  if ((threads & (threads - 1)) !== 0)
    throw new Error(`kernel ${kernel}: tree sum needs a power-of-two workgroup, got ${threads}`);
  const hidden = !limitsOf(frame).unrollLoops;
  const decls = wgsl`
    var<workgroup> ${name}_tree: array<${type}, ${threads}>;

    fn ${name}(v: ${type}, lid: u32${hidden ? ', end: u32' : ''}) -> ${type} {
      ${name}_tree[lid] = v;
      workgroupBarrier();
      for (var half = ${threads / 2}u; half > ${hidden ? 'end' : '0u'}; half >>= 1u) {
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
  return { decls, call: (v) => `${name}(${v}, lid${hidden ? `, ${loopBound(frame, '0u')}` : ''})` };
}

export interface AccumulateSpec extends KernelFrame {
  /** Binding names: `target[i] += source[i]`. */
  readonly source: string;
  readonly target: string;
  readonly elements: number;
}

/** target += source elementwise, e.g. a per-epoch loss sum fed by each step's loss. */
export function accumulateKernel(spec: AccumulateSpec): KernelModule {
  const frame = {
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings: [readBinding(spec.source, spec.elements), writeBinding(spec.target, spec.elements)],
  };
  return perItemKernel(frame, spec.elements, '', `${spec.target}[i] += ${spec.source}[i];`);
}
