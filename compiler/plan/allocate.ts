// Pass: the static memory plan. Every tensor gets an arena and an element offset; views share
// their base's storage, and `work` tensors whose lifetimes do not overlap share memory. The `grad`
// and optimizer-state arenas mirror the `param` layout exactly, so one optimizer dispatch walks all
// four in step. Offsets are 256-byte aligned, WebGPU's minStorageBufferOffsetAlignment, so each
// tensor can be bound as its own sub-range.
//
// `work` is split into banks (one GPU buffer each) so that kernels can bind their inputs read-only:
// WebGPU tracks storage usage per buffer, and a dispatch may not bind one buffer both read-only and
// writable. An op's read tensors and written tensors go to different banks where the banks allow.
// No buffer grows past the device's largest (maxBufferSize): `work` opens another bank where none
// has room, and `param` (with its mirrors) goes on in a new buffer where the next tensor would not
// fit (VGG-11's 491 MiB of weights against WebGPU's default 256 MiB).
import { numel } from '../ir/graph.ts';
import { PASSES, operands, type Arena, type StepProgram, type TensorId } from '../autodiff/step-ir.ts';
import { liveIntervals, type Interval } from './liveness.ts';

export const ALIGN_ELEMENTS = 64;

export interface Placement {
  readonly arena: Arena;
  /** Which buffer of the arena: a `work` bank, a `param` bank (and its mirrors'); 0 for the other arenas, one buffer each. */
  readonly bank: number;
  /** In 4-byte elements from the arena's start. */
  readonly offset: number;
  readonly elements: number;
}

export interface MemoryPlan {
  readonly placements: readonly Placement[];
  /** Elements of each arena; `grad` equals `param`, and so do the optimizer's state arenas it uses. `work`: its banks' sum. */
  readonly arenas: Readonly<Record<Arena, number>>;
  /** Elements of each `work` bank (one buffer each). */
  readonly workBanks: readonly number[];
  /** Elements of each `param` bank (one buffer each), and of the `grad` and state banks that mirror them. */
  readonly paramBanks: readonly number[];
  /** Elements the `work` arena would need without reuse (every tensor its own slot). */
  readonly unplannedWork: number;
}

interface Slot {
  readonly offset: number;
  readonly size: number;
  readonly live: Interval;
}

/** At most this many `work` buffers; a conflict the banks cannot separate stays `read_write` (codegen/access.ts). */
export const WORK_BANKS = 3;

/**
 * Work tensors that must not share a bank: one read by an op that writes the other (a view counts
 * as its base). Tensors an op updates in place count as written.
 */
function conflicts(program: StepProgram): Map<TensorId, Set<TensorId>> {
  const base = (id: TensorId): TensorId => program.tensors[id]!.aliasOf ?? id;
  const isWork = (id: TensorId): boolean => program.tensors[id]!.arena === 'work';
  const out = new Map<TensorId, Set<TensorId>>();
  const edge = (a: TensorId, b: TensorId): void => {
    if (a === b) return;
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const set = out.get(x) ?? new Set();
      set.add(y);
      out.set(x, set);
    }
  };
  const idsOf = (v: TensorId | readonly TensorId[] | null): TensorId[] =>
    v === null ? [] : typeof v === 'number' ? [v] : [...v];
  for (const pass of PASSES) {
    for (const op of program[pass]) {
      const read: TensorId[] = [];
      const written: TensorId[] = [];
      for (const [, v, access] of operands(op))
        for (const id of idsOf(v)) if (isWork(id)) (access === 'read' ? read : written).push(base(id));
      for (const r of read) for (const w of written) edge(r, w);
    }
  }
  return out;
}

interface WorkPlan {
  readonly at: Map<TensorId, { bank: number; offset: number }>;
  readonly banks: number[];
}

/**
 * Bank and offset for `work` tensors, placed in `order`: each goes, in a bank no conflicting tensor
 * already placed occupies, at the lowest offset that no tensor of that bank live at the same time
 * occupies (first fit over the intervals); among the banks it may use, the one whose peak grows
 * least, so the banks' sum stays near one buffer's peak. Intervals are inclusive, so a kernel's
 * output never overlaps its inputs.
 */
function reuse(
  order: readonly TensorId[],
  sizes: ReadonlyMap<TensorId, number>,
  live: ReadonlyMap<TensorId, Interval>,
  conflict: ReadonlyMap<TensorId, ReadonlySet<TensorId>>,
  capacity: number,
): WorkPlan {
  const placed: Slot[][] = Array.from({ length: WORK_BANKS }, () => []);
  const banks = Array.from({ length: WORK_BANKS }, () => 0);
  const at = new Map<TensorId, { bank: number; offset: number }>();
  for (const id of order) {
    const size = sizes.get(id)!;
    const iv = live.get(id)!;
    const taken = new Set([...(conflict.get(id) ?? [])].flatMap((n) => (at.has(n) ? [at.get(n)!.bank] : [])));
    const firstFit = (bank: number): number => {
      const busy = placed[bank]!.filter((p) => p.live.first <= iv.last && iv.first <= p.live.last).sort(
        (a, b) => a.offset - b.offset,
      );
      let offset = 0;
      for (const p of busy) {
        if (offset + size <= p.offset) break;
        offset = Math.max(offset, p.offset + p.size);
      }
      return offset;
    };
    const all = banks.map((_, b) => b);
    const fits = (bank: number): boolean => firstFit(bank) + size <= capacity;
    const allowed = all.filter((b) => !taken.has(b) && fits(b));
    // Every bank conflicts: any with room will do, codegen declares the shared bank's bindings
    // read_write. None with room: a new bank.
    const candidates = allowed.length > 0 ? allowed : taken.size === banks.length ? all.filter(fits) : [];
    if (candidates.length === 0) {
      candidates.push(banks.length);
      placed.push([]);
      banks.push(0);
    }
    let best: { bank: number; offset: number; growth: number } | null = null;
    for (const bank of candidates) {
      const offset = firstFit(bank);
      const growth = Math.max(0, offset + size - banks[bank]!);
      if (best === null || growth < best.growth) best = { bank, offset, growth };
    }
    placed[best!.bank]!.push({ offset: best!.offset, size, live: iv });
    at.set(id, { bank: best!.bank, offset: best!.offset });
    banks[best!.bank] = Math.max(banks[best!.bank]!, best!.offset + size);
  }
  return { at, banks };
}

/**
 * The smaller of two placements: tensors by first use (largest first among equal starts), and by
 * size (largest first). Neither wins everywhere once tensors are spread over banks (LeNet at batch
 * 32: 1.39 against 1.49 MiB; ResNet-18 at 96x96: 122.7 against 114.2 MiB).
 */
function placeWork(
  sizes: ReadonlyMap<TensorId, number>,
  live: ReadonlyMap<TensorId, Interval>,
  conflict: ReadonlyMap<TensorId, ReadonlySet<TensorId>>,
  capacity: number,
): WorkPlan {
  const ids = [...sizes.keys()];
  const first = (id: TensorId): number => live.get(id)!.first;
  const size = (id: TensorId): number => sizes.get(id)!;
  const plans = [
    ids.toSorted((a, b) => first(a) - first(b) || size(b) - size(a)),
    ids.toSorted((a, b) => size(b) - size(a) || first(a) - first(b)),
  ].map((order) => reuse(order, sizes, live, conflict, capacity));
  const total = (p: WorkPlan): number => p.banks.reduce((a, b) => a + b, 0);
  return plans.reduce((best, p) => (total(p) < total(best) ? p : best));
}

/**
 * Elements of each GPU buffer of an arena: `work` in its banks; `param` and the arenas that mirror
 * its layout (`grad`, the optimizer states in use) in the param banks; the others one buffer whole.
 */
export function arenaBanks(plan: MemoryPlan, arena: Arena): readonly number[] {
  if (arena === 'work') return plan.workBanks;
  const elements = plan.arenas[arena];
  const mirrorsParam =
    arena === 'param' || arena === 'grad' || (elements > 0 && (arena === 'state1' || arena === 'state2'));
  return mirrorsParam ? plan.paramBanks : [elements];
}

const align = (n: number): number => Math.ceil(n / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;

/**
 * `bufferElements`: the most elements one GPU buffer may hold (the device's maxBufferSize / 4);
 * a tensor bigger than that gets a buffer of its own, which lowering reports.
 */
export function planMemory(program: StepProgram, bufferElements = Number.POSITIVE_INFINITY): MemoryPlan {
  const sizes: Record<Arena, number> = { param: 0, grad: 0, state1: 0, state2: 0, stats: 0, work: 0, io: 0, metric: 0 };
  const capacity = Math.floor(bufferElements / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;
  const paramBanks = [0];
  const placements: Placement[] = [];
  const paramOf = new Map([...program.gradients].map(([param, grad]) => [grad, param]));
  // Work tensors no op touches (fused away: a pre-activation stored by no kernel) get no memory.
  const live = liveIntervals(program);
  const workSizes = new Map<TensorId, number>();
  for (const t of program.tensors)
    if (t.arena === 'work' && t.aliasOf === null && live.has(t.id))
      workSizes.set(t.id, align(Math.max(1, numel(t.shape))));
  const work = placeWork(workSizes, live, conflicts(program), capacity);
  const place = (id: TensorId): Placement => {
    const t = program.tensors[id]!;
    const elements = Math.max(1, numel(t.shape));
    if (t.arena === 'work' && t.aliasOf === null)
      return {
        arena: 'work',
        ...(work.at.get(id) ?? { bank: 0, offset: 0 }),
        elements: work.at.has(id) ? elements : 0,
      };
    if (t.aliasOf !== null) {
      const base = placements[t.aliasOf]!;
      return { ...base, elements };
    }
    if (t.arena === 'grad') {
      const param = paramOf.get(id);
      if (param === undefined) throw new Error(`internal: gradient ${t.name} has no parameter`);
      const { bank, offset } = placements[param]!;
      return { arena: 'grad', bank, offset, elements };
    }
    if (t.arena === 'param') {
      const last = paramBanks.length - 1;
      if (paramBanks[last]! > 0 && paramBanks[last]! + elements > capacity) paramBanks.push(0);
      const bank = paramBanks.length - 1;
      const offset = paramBanks[bank]!;
      paramBanks[bank] = align(offset + elements);
      return { arena: 'param', bank, offset, elements };
    }
    const offset = sizes[t.arena];
    sizes[t.arena] = align(offset + elements);
    return { arena: t.arena, bank: 0, offset, elements };
  };
  // Tensors are created in dependency order (views and gradients after their base), so one pass suffices.
  for (const t of program.tensors) placements.push(place(t.id));
  // Optimizer states mirror `param` too: SGD with momentum keeps one per parameter, Adam(W) two, plain SGD none.
  const stateArenas = new Set([...program.optimizerStates.values()].flatMap((states) => states.map((s) => s.arena)));
  // Banks past the last one used get no buffer (they fill in order: an empty bank grows least).
  const workBanks = work.banks.slice(0, Math.max(1, work.banks.findLastIndex((e) => e > 0) + 1));
  sizes.work = workBanks.reduce((a, b) => a + b, 0);
  sizes.param = paramBanks.reduce((a, b) => a + b, 0);
  sizes.grad = sizes.param;
  sizes.state1 = stateArenas.has('state1') ? sizes.param : 0;
  sizes.state2 = stateArenas.has('state2') ? sizes.param : 0;
  return {
    placements,
    arenas: sizes,
    workBanks,
    paramBanks,
    unplannedWork: [...workSizes.values()].reduce((a, b) => a + b, 0),
  };
}
