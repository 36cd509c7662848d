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
import { tensorFields, type FusedAct, type StepOp, type StepProgram, type TensorId } from '../autodiff/step-ir.ts';
import { gradFromOutputExact } from '../codegen/expr.ts';
import type { KernelOrigin } from '../codegen/kernel.ts';
import { formatShape, numel } from '../ir/graph.ts';

export type PassName = 'forward' | 'evaluate' | 'train';

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
const ACT_HOSTS = new Set(['conv2d', 'linear', 'add', 'bn_train', 'bn_eval']);
/** Ops whose output store can apply an activation gradient, and the field holding that output. */
const GRAD_HOSTS: Readonly<Record<string, 'dx' | 'y'>> = { conv2d_dx: 'dx', linear_dx: 'dx', pool_grad: 'dx', add: 'y' };

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
  const passes = { forward: program.forward, evaluate: program.evaluate, train: program.train };
  const out = {} as Record<PassName, StepOp[]>;
  for (const [pass, ops] of Object.entries(passes) as [PassName, readonly StepOp[]][]) {
    const ctx = { program, pass, decisions };
    out[pass] = fuseActivationGrads(fuseActivations(foldBatchnorms([...ops], ctx), ctx), ctx);
  }
  return { program: { ...program, ...out }, decisions };
}

interface Ctx {
  readonly program: StepProgram;
  readonly pass: PassName;
  readonly decisions: FusionDecision[];
}

/** Op indices touching each base tensor (a view's uses count for its base). */
function uses(ops: readonly (StepOp | null)[], program: StepProgram): Map<TensorId, number[]> {
  const out = new Map<TensorId, number[]>();
  ops.forEach((op, i) => {
    if (!op) return;
    for (const [, v] of tensorFields(op)) {
      for (const id of v === null ? [] : typeof v === 'number' ? [v] : v) {
        const base = program.tensors[id]!.aliasOf ?? id;
        const list = out.get(base) ?? [];
        if (!list.includes(i)) list.push(i);
        out.set(base, list);
      }
    }
  });
  return out;
}

/** The op writing `id` as its main output (`y` or `dx`), and that field's name. */
function producer(ops: readonly (StepOp | null)[], id: TensorId, field: (op: StepOp) => string | undefined): number {
  return ops.findIndex((op) => op !== null && field(op) !== undefined && (op as unknown as Record<string, unknown>)[field(op)!] === id);
}

/** The schedule is topological, so the first op touching a tensor is the one that writes it. */
function writerOf(ops: readonly (StepOp | null)[], id: TensorId): string {
  const op = ops.find((o) => o !== null && tensorFields(o).some(([, v]) => v === id || (Array.isArray(v) && v.includes(id))));
  return op ? op.op : 'the pass input';
}

const tensorText = (ctx: Ctx, id: TensorId): string => {
  const t = ctx.program.tensors[id]!;
  return `%${id} ${formatShape(t.shape)} (${((numel(t.shape) * 4) / 1024).toFixed(1)} KiB)`;
};

function foldBatchnorms(ops: (StepOp | null)[], ctx: Ctx): (StepOp | null)[] {
  for (let b = 0; b < ops.length; b++) {
    const bn = ops[b];
    if (bn?.op !== 'bn_eval') continue;
    const record = (fused: boolean, into: StepOp | null, why: string) =>
      ctx.decisions.push({ pass: ctx.pass, fused, into: into ? describe(into) : null, op: describe(bn), why });
    const t = bn.x;
    const p = producer(ops, t, (op) => (op.op === 'conv2d' || op.op === 'linear' ? 'y' : undefined));
    const host = p >= 0 ? ops[p]! : null;
    if (!host || (host.op !== 'conv2d' && host.op !== 'linear')) {
      record(false, null, `its input %${t} comes from ${writerOf(ops, t)}; batch norm folds only into conv and linear`);
      continue;
    }
    if (host.act || host.bn) { record(false, host, 'the producer already has an epilogue'); continue; }
    const others = (uses(ops, ctx.program).get(t) ?? []).filter((i) => i !== p && i !== b);
    if (ctx.program.tensors[t]!.aliasOf !== null || others.length > 0 || t === ctx.program.output) {
      record(false, host, `%${t} is also read by ${others.map((i) => ops[i]!.op).join(', ') || 'the runtime'}, so it must be stored`);
      continue;
    }
    const folded = { gamma: bn.gamma, beta: bn.beta, runMean: bn.runMean, runVar: bn.runVar, eps: bn.attrs.eps };
    ops[p] = { ...host, y: bn.y, bn: folded, ...(bn.act ? { act: bn.act } : {}), origin: merge(host.origin, bn.origin) };
    ops[b] = null;
    record(true, host, `${tensorText(ctx, t)} is read only by the batch norm: the running statistics' affine map runs in the epilogue`);
  }
  return ops;
}

function fuseActivations(ops: (StepOp | null)[], ctx: Ctx): (StepOp | null)[] {
  for (let u = 0; u < ops.length; u++) {
    const act = ops[u];
    if (act?.op !== 'unary') continue;
    const record = (fused: boolean, into: StepOp | null, why: string) =>
      ctx.decisions.push({ pass: ctx.pass, fused, into: into ? describe(into) : null, op: describe(act), why });
    const t = act.x;
    const p = producer(ops, t, (op) => (ACT_HOSTS.has(op.op) ? 'y' : undefined));
    const host = p >= 0 ? ops[p]! : null;
    if (!host) {
      record(false, null, `its input %${t} comes from ${writerOf(ops, t)}, which has no activation epilogue`);
      continue;
    }
    if ('act' in host && host.act) { record(false, host, 'the producer already applies an activation'); continue; }
    const grads = ops.flatMap((op, i) => (op?.op === 'unary_grad' && op.x === t && op.fn === act.fn && op.from === 'input' ? [i] : []));
    const others = (uses(ops, ctx.program).get(t) ?? []).filter((i) => i !== p && i !== u && !grads.includes(i));
    if (ctx.program.tensors[t]!.aliasOf !== null || others.length > 0 || t === ctx.program.output) {
      const by = others.map((i) => ops[i]!.op);
      record(false, host, `%${t} is also read by ${by.length ? by.join(', ') : 'the runtime'}, so it must be stored`);
      continue;
    }
    if (grads.length > 0 && !gradFromOutputExact(act.fn, act.slope)) {
      record(false, host, `leaky_relu with a negative slope needs its input for the gradient`);
      continue;
    }
    const fusedAct: FusedAct = { fn: act.fn, slope: act.slope };
    ops[p] = { ...host, y: act.y, act: fusedAct, origin: merge(host.origin, act.origin) } as StepOp;
    ops[u] = null;
    for (const g of grads) ops[g] = { ...(ops[g] as Extract<StepOp, { op: 'unary_grad' }>), from: 'output', x: act.y };
    record(true, host, `${tensorText(ctx, t)} is read only by the activation${grads.length ? ' and its gradient, which now reads the activation output' : ''}: never stored`);
  }
  return ops;
}

function fuseActivationGrads(ops: (StepOp | null)[], ctx: Ctx): StepOp[] {
  for (let g = 0; g < ops.length; g++) {
    const grad = ops[g];
    if (grad?.op !== 'unary_grad') continue;
    const record = (fused: boolean, into: StepOp | null, why: string) =>
      ctx.decisions.push({ pass: ctx.pass, fused, into: into ? describe(into) : null, op: describe(grad), why });
    const d = grad.dy;
    const p = producer(ops, d, (op) => GRAD_HOSTS[op.op]);
    const host = p >= 0 ? ops[p]! : null;
    if (!host) {
      record(false, null, `its incoming gradient %${d} comes from ${writerOf(ops, d)}, which has no gradient epilogue`);
      continue;
    }
    if (('actGrad' in host && host.actGrad) || ('act' in host && host.act)) { record(false, host, 'the producer already has an epilogue'); continue; }
    const others = (uses(ops, ctx.program).get(d) ?? []).filter((i) => i !== p && i !== g);
    if (ctx.program.tensors[d]!.aliasOf !== null || others.length > 0) {
      record(false, host, `%${d} is also read by ${others.map((i) => ops[i]!.op).join(', ') || 'a view'}, so it must be stored`);
      continue;
    }
    const field = GRAD_HOSTS[host.op]!;
    ops[p] = { ...host, [field]: grad.dx, actGrad: { fn: grad.fn, slope: grad.slope, from: grad.from, x: grad.x }, origin: merge(host.origin, grad.origin) } as StepOp;
    ops[g] = null;
    record(true, host, `${tensorText(ctx, d)} is read only by the activation gradient: never stored`);
  }
  return ops.filter((op): op is StepOp => op !== null);
}
