// Pass: the static memory plan. Every tensor gets an arena and an element offset; views share
// their base's storage, and `work` tensors whose lifetimes do not overlap share memory. The `grad` and optimizer-state arenas mirror the `param` layout exactly, so
// one optimizer dispatch walks all four in step. Offsets are 256-byte aligned, WebGPU's
// minStorageBufferOffsetAlignment, so each tensor can be bound as its own sub-range.
import { numel } from '../ir/graph.ts';
import type { Arena, StepProgram, TensorId } from '../autodiff/step-ir.ts';
import { liveIntervals, type Interval } from './liveness.ts';

export const ALIGN_ELEMENTS = 64;

export interface Placement {
  readonly arena: Arena;
  /** In 4-byte elements from the arena's start. */
  readonly offset: number;
  readonly elements: number;
}

export interface MemoryPlan {
  readonly placements: readonly Placement[];
  /** Elements of each arena; `grad` equals `param`, and so do the optimizer's state arenas it uses. */
  readonly arenas: Readonly<Record<Arena, number>>;
  /** Elements the `work` arena would need without reuse (every tensor its own slot). */
  readonly unplannedWork: number;
}

interface Slot {
  readonly offset: number;
  readonly size: number;
  readonly live: Interval;
}

/**
 * Offsets for `work` tensors: each goes at the lowest offset that no tensor live at the same time
 * occupies (first fit over the intervals, largest first among equal starts). Intervals are
 * inclusive, so a kernel's output never overlaps its inputs.
 */
function reuse(sizes: ReadonlyMap<TensorId, number>, live: ReadonlyMap<TensorId, Interval>): { offsets: Map<TensorId, number>; total: number } {
  const order = [...sizes.keys()].sort((a, b) => (live.get(a)!.first - live.get(b)!.first) || sizes.get(b)! - sizes.get(a)!);
  const placed: Slot[] = [];
  const offsets = new Map<TensorId, number>();
  let total = 0;
  for (const id of order) {
    const size = sizes.get(id)!;
    const iv = live.get(id)!;
    const busy = placed.filter((p) => p.live.first <= iv.last && iv.first <= p.live.last).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + size <= p.offset) break;
      offset = Math.max(offset, p.offset + p.size);
    }
    placed.push({ offset, size, live: iv });
    offsets.set(id, offset);
    total = Math.max(total, offset + size);
  }
  return { offsets, total };
}

const align = (n: number): number => Math.ceil(n / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;

export function planMemory(program: StepProgram): MemoryPlan {
  const sizes: Record<Arena, number> = { param: 0, grad: 0, state1: 0, state2: 0, stats: 0, work: 0, io: 0, metric: 0 };
  const placements: Placement[] = [];
  const paramOf = new Map([...program.gradients].map(([param, grad]) => [grad, param]));
  // Work tensors no op touches (fused away: a pre-activation stored by no kernel) get no memory.
  const live = liveIntervals(program);
  const workSizes = new Map<TensorId, number>();
  for (const t of program.tensors) if (t.arena === 'work' && t.aliasOf === null && live.has(t.id)) workSizes.set(t.id, align(Math.max(1, numel(t.shape))));
  const work = reuse(workSizes, live);
  const place = (id: TensorId): Placement => {
    const t = program.tensors[id]!;
    const elements = Math.max(1, numel(t.shape));
    if (t.arena === 'work' && t.aliasOf === null) return work.offsets.has(id) ? { arena: 'work', offset: work.offsets.get(id)!, elements } : { arena: 'work', offset: 0, elements: 0 };
    if (t.aliasOf !== null) {
      const base = placements[t.aliasOf]!;
      return { ...base, elements };
    }
    if (t.arena === 'grad') {
      const param = paramOf.get(id);
      if (param === undefined) throw new Error(`internal: gradient ${t.name} has no parameter`);
      return { arena: 'grad', offset: placements[param]!.offset, elements };
    }
    const offset = sizes[t.arena];
    sizes[t.arena] = align(offset + elements);
    return { arena: t.arena, offset, elements };
  };
  // Tensors are created in dependency order (views and gradients after their base), so one pass suffices.
  for (const t of program.tensors) placements.push(place(t.id));
  // Optimizer states mirror `param` too: SGD with momentum keeps one per parameter, Adam(W) two, plain SGD none.
  const stateArenas = new Set([...program.optimizerStates.values()].flatMap((states) => states.map((s) => s.arena)));
  sizes.work = work.total;
  sizes.grad = sizes.param;
  sizes.state1 = stateArenas.has('state1') ? sizes.param : 0;
  sizes.state2 = stateArenas.has('state2') ? sizes.param : 0;
  return { placements, arenas: sizes, unplannedWork: [...workSizes.values()].reduce((a, b) => a + b, 0) };
}
