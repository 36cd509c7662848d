// Pass: fusion, on the step program. Three rewrites, in every pass (forward, evaluate, train):
//  - evaluation-mode batch norm folds into the conv or linear layer before it (a per-channel
//    affine map in the epilogue, from the running statistics as they are when the pass runs);
//  - an activation moves into the epilogue of the op that produces its input (conv, linear,
//    residual add, batch norm), so the pre-activation tensor is never stored; its gradient then
//    reads the activation's output, as PyTorch's relu, sigmoid and tanh gradients do;
//  - an activation gradient moves into the epilogue of the op that produces the gradient it
//    scales (conv and linear input gradients, pooling gradients, gradient sums).
// A rewrite needs the intermediate tensor to have no other reader; every candidate, fused or not,
// is recorded with the reason, for `cnnc compile --emit fusion`.
import {
  PASSES,
  opTensors,
  writes,
  type FusedAct,
  type PassName,
  type StepOp,
  type StepOpOf,
  type StepProgram,
  type TensorId,
} from '../autodiff/step-ir.ts';
import { gradFromOutputExact } from '../ir/expr.ts';
import type { KernelOrigin } from '../ir/kernel-facts.ts';
import { formatShape, numel } from '../ir/graph.ts';

export interface FusionDecision {
  readonly pass: PassName;
  readonly fused: boolean;
  /** The op that would absorb `op`, or null when no producer was found. */
  readonly into: string | null;
  readonly op: string;
  readonly why: string;
}

export interface Fusion {
  readonly program: StepProgram;
  readonly decisions: readonly FusionDecision[];
}

/** Ops whose output store can apply an activation. */
type ActHost = StepOpOf<'conv2d' | 'conv3d' | 'linear' | 'add' | 'bn_train' | 'bn_eval'>;
const actHosts: ReadonlySet<string> = new Set<ActHost['op']>([
  'conv2d',
  'conv3d',
  'linear',
  'add',
  'bn_train',
  'bn_eval',
]);
const isActHost = (op: StepOp): op is ActHost => actHosts.has(op.op);
/** Ops whose output store can apply an activation gradient. */
type GradHost = StepOpOf<'conv2d_dx' | 'conv3d_dx' | 'linear_dx' | 'pool_grad' | 'pool3d_grad' | 'add'>;
const gradHosts: ReadonlySet<string> = new Set<GradHost['op']>([
  'conv2d_dx',
  'conv3d_dx',
  'linear_dx',
  'pool_grad',
  'pool3d_grad',
  'add',
]);
const isGradHost = (op: StepOp): op is GradHost => gradHosts.has(op.op);
/** The tensor a gradient host stores. */
const gradOut = (host: GradHost): TensorId => (host.op === 'add' ? host.y : host.dx);

const describe = (op: StepOp): string => {
  const what = op.op === 'unary' || op.op === 'unary_grad' ? `${op.op}(${op.fn})` : op.op;
  const where = op.origin.sources.map((s) => s.split('  ')[0]).join(', ');
  return `${what} [${op.origin.ops.join(' + ')}${where ? ` at ${where}` : ''}]`;
};
const merge = (a: KernelOrigin, b: KernelOrigin): KernelOrigin => ({
  phase: a.phase,
  sources: [...a.sources, ...b.sources.filter((s) => !a.sources.includes(s))],
  ops: [...a.ops, ...b.ops],
});

export function fuse(program: StepProgram): Fusion {
  const decisions: FusionDecision[] = [];
  const out = {} as Record<PassName, StepOp[]>;
  for (const pass of PASSES) {
    const ctx = { program, pass, decisions };
    // Batch norm first: the activation after it then finds the conv or linear that absorbed it.
    const fused = apply(
      apply(apply([...program[pass]], ctx, foldBatchnorm), ctx, fuseActivation),
      ctx,
      fuseActivationGrad,
    );
    out[pass] = fused.filter((op): op is StepOp => op !== null);
  }
  return { program: { ...program, ...out }, decisions };
}

interface Ctx {
  readonly program: StepProgram;
  readonly pass: PassName;
  readonly decisions: FusionDecision[];
}

/**
 * Which ops of a pass touch and write each tensor, kept current as rewrites replace ops, so a
 * candidate's lookups read a few short lists instead of scanning the pass: scanning made fusion
 * quadratic in the model's length (1,000 chained activations took 1.8 s, 2,000 several times that).
 */
class OpIndex {
  /** Ops touching each base tensor (a view's uses count for its base), and ops writing each tensor. */
  private readonly touching = new Map<TensorId, Set<number>>();
  private readonly writing = new Map<TensorId, Set<number>>();
  /** The keys each op is listed under, to unlist it when it is replaced. */
  private readonly listed = new Map<number, { touches: TensorId[]; writes: TensorId[] }>();

  readonly ops: (StepOp | null)[];
  private readonly program: StepProgram;

  constructor(ops: (StepOp | null)[], program: StepProgram) {
    this.ops = ops;
    this.program = program;
    ops.forEach((_, i) => this.list(i));
  }

  /** The tensor `id` is a view of, or `id` itself. */
  base(id: TensorId): TensorId {
    return this.program.tensors[id]!.aliasOf ?? id;
  }

  /** Op indices in pass order that touch `id` or (for a base tensor) any of its views. */
  uses(id: TensorId): number[] {
    return sorted(this.touching.get(id));
  }

  /** Op indices in pass order that write `id`. */
  writers(id: TensorId): number[] {
    return sorted(this.writing.get(id));
  }

  /** Call after ops[i] changed (replaced, removed, or rewritten in place by a rule). */
  update(i: number): void {
    const old = this.listed.get(i);
    if (old) {
      for (const id of old.touches) this.touching.get(id)!.delete(i);
      for (const id of old.writes) this.writing.get(id)!.delete(i);
    }
    this.list(i);
  }

  private list(i: number): void {
    const op = this.ops[i];
    const entry = {
      touches: op ? [...new Set(opTensors(op).map((id) => this.base(id)))] : [],
      writes: op ? [...new Set(writes(op))] : [],
    };
    for (const id of entry.touches) at(this.touching, id).add(i);
    for (const id of entry.writes) at(this.writing, id).add(i);
    this.listed.set(i, entry);
  }
}

const at = (map: Map<TensorId, Set<number>>, id: TensorId): Set<number> => {
  const set = map.get(id) ?? new Set<number>();
  map.set(id, set);
  return set;
};
const sorted = (set: Set<number> | undefined): number[] => [...(set ?? [])].sort((a, b) => a - b);

/** The index of the op that can host a rule and stores `id` as the output it would apply the epilogue to. */
function producer(index: OpIndex, id: TensorId, output: (op: StepOp) => TensorId | undefined): number {
  return index.writers(id).find((i) => output(index.ops[i]!) === id) ?? -1;
}

/** The op that writes a tensor, for the reason a rewrite did not happen. */
function writerOf(index: OpIndex, id: TensorId): string {
  const first = index.writers(id)[0];
  return first !== undefined ? index.ops[first]!.op : 'the pass input';
}

const tensorText = (ctx: Ctx, id: TensorId): string => {
  const t = ctx.program.tensors[id]!;
  return `%${id} ${formatShape(t.shape)} (${((numel(t.shape) * 4) / 1024).toFixed(1)} KiB)`;
};

/**
 * One rewrite: ops that `matches` are absorbed into the epilogue of the op (the host) that stores
 * the intermediate tensor `via(op)` as its `hostOutput`, when nothing else reads it.
 */
interface Rule<O extends StepOp> {
  readonly matches: (op: StepOp | null) => op is O;
  readonly via: (op: O) => TensorId;
  /** The tensor the host's epilogue would apply to, when `host` can absorb this rule's ops. */
  readonly hostOutput: (host: StepOp) => TensorId | undefined;
  /** Why an op from any other producer cannot be absorbed. */
  readonly noHost: string;
  /** The host already has an epilogue this rule cannot combine with. */
  readonly busy: (host: StepOp) => boolean;
  /** Ops besides `op` that may read the intermediate because `rewrite` updates them too, or why not to fuse. */
  readonly companions: (index: OpIndex, op: O) => { readonly indices: readonly number[]; readonly refuse?: string };
  /** The host with `op` in its epilogue; companions are rewritten in place. */
  readonly rewrite: (host: StepOp, op: O, ops: (StepOp | null)[], companions: readonly number[]) => StepOp;
  readonly fusedWhy: (companions: number) => string;
}

function apply<O extends StepOp>(ops: (StepOp | null)[], ctx: Ctx, rule: Rule<O>): (StepOp | null)[] {
  const index = new OpIndex(ops, ctx.program);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (!rule.matches(op)) continue;
    const record = (fused: boolean, into: StepOp | null, why: string) =>
      ctx.decisions.push({ pass: ctx.pass, fused, into: into ? describe(into) : null, op: describe(op), why });
    const t = rule.via(op);
    const p = producer(index, t, rule.hostOutput);
    const host = p >= 0 ? ops[p]! : null;
    if (!host) {
      record(false, null, `%${t} comes from ${writerOf(index, t)}, ${rule.noHost}`);
      continue;
    }
    if (rule.busy(host)) {
      record(false, host, 'the producer already has an epilogue');
      continue;
    }
    const { indices, refuse } = rule.companions(index, op);
    const others = index.uses(t).filter((j) => j !== p && j !== i && !indices.includes(j));
    if (ctx.program.tensors[t]!.aliasOf !== null || others.length > 0 || t === ctx.program.output) {
      record(
        false,
        host,
        `%${t} is also read by ${others.map((j) => ops[j]!.op).join(', ') || 'the runtime'}, so it must be stored`,
      );
      continue;
    }
    if (refuse) {
      record(false, host, refuse);
      continue;
    }
    ops[p] = { ...rule.rewrite(host, op, ops, indices), origin: merge(host.origin, op.origin) };
    ops[i] = null;
    for (const j of [p, i, ...indices]) index.update(j);
    record(true, host, `${tensorText(ctx, t)} ${rule.fusedWhy(indices.length)}`);
  }
  return ops;
}

const hasEpilogue = (op: StepOp): boolean => 'epilogue' in op && op.epilogue !== undefined;

const foldBatchnorm: Rule<StepOpOf<'bn_eval'>> = {
  matches: (op): op is StepOpOf<'bn_eval'> => op?.op === 'bn_eval',
  via: (bn) => bn.x,
  hostOutput: (host) => (host.op === 'conv2d' || host.op === 'linear' ? host.y : undefined),
  noHost: 'and batch norm folds only into conv and linear',
  busy: hasEpilogue,
  companions: () => ({ indices: [] }),
  rewrite: (host, bn) => {
    if (host.op !== 'conv2d' && host.op !== 'linear') throw new Error(`internal: batch norm folded into ${host.op}`);
    const folded = { gamma: bn.gamma, beta: bn.beta, runMean: bn.runMean, runVar: bn.runVar, eps: bn.attrs.eps };
    return { ...host, y: bn.y, epilogue: { kind: 'forward', bn: folded, act: bn.epilogue?.act ?? null } };
  },
  fusedWhy: () => "is read only by the batch norm: the running statistics' affine map runs in the epilogue",
};

const fuseActivation: Rule<StepOpOf<'unary'>> = {
  matches: (op): op is StepOpOf<'unary'> => op?.op === 'unary',
  via: (act) => act.x,
  hostOutput: (host) => (isActHost(host) ? host.y : undefined),
  noHost: 'which has no activation epilogue',
  // A folded batch norm and an activation share the forward epilogue; nothing else does.
  busy: (host) =>
    isActHost(host) && host.epilogue !== undefined && (host.epilogue.kind !== 'forward' || host.epilogue.act !== null),
  // The activation's own gradient reads its input: it is rewritten to read the output instead.
  companions: (index, act) => {
    const indices = index.uses(index.base(act.x)).filter((i) => {
      const op = index.ops[i];
      return op?.op === 'unary_grad' && op.x === act.x && op.fn === act.fn && op.from === 'input';
    });
    const exact = indices.length === 0 || gradFromOutputExact(act.fn, act.slope);
    return exact
      ? { indices }
      : { indices, refuse: 'leaky_relu with a negative slope needs its input for the gradient' };
  },
  rewrite: (host, act, ops, grads) => {
    if (!isActHost(host)) throw new Error(`internal: activation fused into ${host.op}`);
    for (const g of grads) {
      const grad = ops[g];
      if (grad?.op === 'unary_grad') ops[g] = { ...grad, from: 'output', x: act.y };
    }
    const fused: FusedAct = { fn: act.fn, slope: act.slope };
    const bn = host.epilogue?.kind === 'forward' ? host.epilogue.bn : null;
    return { ...host, y: act.y, epilogue: { kind: 'forward', bn, act: fused } };
  },
  fusedWhy: (grads) =>
    `is read only by the activation${grads ? ' and its gradient, which now reads the activation output' : ''}: never stored`,
};

const fuseActivationGrad: Rule<StepOpOf<'unary_grad'>> = {
  matches: (op): op is StepOpOf<'unary_grad'> => op?.op === 'unary_grad',
  via: (grad) => grad.dy,
  hostOutput: (host) => (isGradHost(host) ? gradOut(host) : undefined),
  noHost: 'which has no gradient epilogue',
  busy: hasEpilogue,
  companions: () => ({ indices: [] }),
  rewrite: (host, grad) => {
    if (!isGradHost(host)) throw new Error(`internal: activation gradient fused into ${host.op}`);
    const epilogue = { kind: 'act_grad', fn: grad.fn, slope: grad.slope, from: grad.from, x: grad.x } as const;
    return host.op === 'add' ? { ...host, y: grad.dx, epilogue } : { ...host, dx: grad.dx, epilogue };
  },
  fusedWhy: () => 'is read only by the activation gradient: never stored',
};
