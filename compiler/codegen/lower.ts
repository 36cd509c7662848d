// Pass: step ops -> kernel calls. Each op becomes one or more kernel modules from the families in
// kernels/, plus which tensor (or arena range) fills each of their named bindings.
import type { Epilogue as StepEpilogue, StepOp, StepProgram, TensorId } from '../autodiff/step-ir.ts';
import type { Arena } from '../autodiff/step-ir.ts';
import { assertNever } from '../diagnostics/diagnostic.ts';
import { numel } from '../ir/graph.ts';
import type { MemoryPlan } from '../plan/allocate.ts';
import { ACT_BINDING, BN_BINDINGS, activationGradEpilogue, forwardEpilogue, type Epilogue } from './epilogue.ts';
import type { KernelModule, KernelOrigin } from './kernel.ts';
import { adaptiveAvgpool2dBackward, adaptiveAvgpool2dForward } from './kernels/adaptive-pool.ts';
import { batchnormEval, batchnormTrainBackward, batchnormTrainForward } from './kernels/batchnorm.ts';
import { dropoutBackward, dropoutForward } from './kernels/dropout.ts';
import { mseBackward, mseForward } from './kernels/mse.ts';
import { adamStep, adamwStep, sgdStep } from './kernels/optimizer.ts';
import { avgpool2dBackward, avgpool2dForward, maxpool2dBackward, maxpool2dForward } from './kernels/pool.ts';
import { softmaxXentBackward, softmaxXentForward } from './kernels/softmax-xent.ts';
import { accumulateKernel } from './kernels/reduce.ts';
import { lowerDense } from './lower-dense.ts';

/** What fills one binding: a tensor, a raw range of an arena, the per-step [seed, step] counters, or scratch. */
export type BindingRef =
  | { readonly kind: 'tensor'; readonly tensor: TensorId }
  | { readonly kind: 'range'; readonly arena: Arena; readonly offset: number; readonly elements: number }
  | { readonly kind: 'step' }
  /** Temporary storage used within one kernel sequence (split-K partial sums). */
  | { readonly kind: 'scratch'; readonly elements: number };

export interface KernelCall {
  readonly kernel: KernelModule;
  /** Binding name -> what to bind; every binding of `kernel` has an entry. */
  readonly args: Readonly<Record<string, BindingRef>>;
}

export interface LowerContext {
  readonly program: StepProgram;
  readonly plan: MemoryPlan;
  /** Largest storage binding in elements (the device's maxStorageBufferBindingSize / 4). */
  readonly maxBindingElements: number;
  /** GEMM kernels may share loads across 8 subgroup lanes (GemmTile.shareU). */
  readonly subgroups: boolean;
  /** Next kernel number, for deterministic names `k07_conv2d`. */
  counter: number;
}

export const t = (tensor: TensorId): BindingRef => ({ kind: 'tensor', tensor });
const step: BindingRef = { kind: 'step' };

export function kernelName(ctx: LowerContext, what: string): string {
  return `k${String(ctx.counter++).padStart(2, '0')}_${what}`;
}

/** A fused op's epilogue (as a spec field, absent when nothing is fused), its extra bindings, and its kernel-name suffix. */
export interface Fused {
  readonly spec: { epilogue?: Epilogue };
  readonly args: Record<string, BindingRef>;
  readonly suffix: string;
}

export function fused(op: { readonly epilogue?: StepEpilogue }): Fused {
  const e = op.epilogue;
  const forward = e?.kind === 'forward' ? forwardEpilogue(e.bn ?? undefined, e.act ?? undefined) : undefined;
  if (e?.kind === 'forward' && forward) {
    const bn = e.bn ? Object.fromEntries(Object.entries(BN_BINDINGS).map(([field, name]) => [name, t(e.bn![field as keyof typeof BN_BINDINGS])])) : {};
    return { spec: { epilogue: forward }, args: bn, suffix: `${e.bn ? '_batchnorm' : ''}${e.act ? `_${e.act.fn}` : ''}` };
  }
  if (e?.kind === 'act_grad') return { spec: { epilogue: activationGradEpilogue(e) }, args: { [ACT_BINDING]: t(e.x) }, suffix: `_${e.fn}_grad` };
  return { spec: {}, args: {}, suffix: '' };
}

const shape4 = (ctx: LowerContext, id: TensorId): [number, number, number, number] => {
  const s = ctx.program.tensors[id]!.shape;
  return [s[0]!, s[1]!, s[2]!, s[3]!];
};
const elements = (ctx: LowerContext, id: TensorId): number => numel(ctx.program.tensors[id]!.shape);

export function lowerOp(op: StepOp, ctx: LowerContext): KernelCall[] {
  const o: KernelOrigin = op.origin;
  switch (op.op) {
    case 'conv2d':
    case 'conv2d_dx':
    case 'conv2d_dw':
    case 'linear':
    case 'linear_dx':
    case 'linear_dw':
    case 'unary':
    case 'unary_grad':
    case 'add':
    case 'concat':
    case 'concat_grad':
      return lowerDense(op, ctx);
    case 'pool': {
      const spec = { name: kernelName(ctx, `${op.kind}pool2d`), origin: o, input: shape4(ctx, op.x), attrs: op.attrs };
      return op.kind === 'max'
        ? [{ kernel: maxpool2dForward(spec), args: { x: t(op.x), y: t(op.y), argmax: t(op.argmax!) } }]
        : [{ kernel: avgpool2dForward(spec), args: { x: t(op.x), y: t(op.y) } }];
    }
    case 'pool_grad': {
      const f = fused(op);
      const spec = { name: kernelName(ctx, `${op.kind}pool2d_grad${f.suffix}`), origin: o, input: shape4(ctx, op.dx), attrs: op.attrs, ...f.spec };
      return op.kind === 'max'
        ? [{ kernel: maxpool2dBackward(spec), args: { argmax: t(op.argmax!), dy: t(op.dy), dx: t(op.dx), ...f.args } }]
        : [{ kernel: avgpool2dBackward(spec), args: { dy: t(op.dy), dx: t(op.dx), ...f.args } }];
    }
    case 'adaptive_pool':
    case 'adaptive_pool_grad': {
      const [x, y] = op.op === 'adaptive_pool' ? [op.x, op.y] : [op.dx, op.dy];
      const out = shape4(ctx, y);
      const spec = { name: kernelName(ctx, op.op === 'adaptive_pool' ? 'adaptive_avgpool2d' : 'adaptive_avgpool2d_grad'), origin: o, input: shape4(ctx, x), attrs: { output: [out[2], out[3]] as const } };
      return op.op === 'adaptive_pool'
        ? [{ kernel: adaptiveAvgpool2dForward(spec), args: { x: t(op.x), y: t(op.y) } }]
        : [{ kernel: adaptiveAvgpool2dBackward(spec), args: { dy: t(op.dy), dx: t(op.dx) } }];
    }
    case 'bn_train': {
      const f = fused(op);
      const spec = { name: kernelName(ctx, `batchnorm_train${f.suffix}`), origin: o, input: ctx.program.tensors[op.x]!.shape, attrs: op.attrs, ...f.spec };
      return [{ kernel: batchnormTrainForward(spec), args: {
        x: t(op.x), gamma: t(op.gamma), beta: t(op.beta), y: t(op.y), save_mean: t(op.mean), save_invstd: t(op.invstd),
        running_mean: t(op.runMean), running_var: t(op.runVar),
      } }];
    }
    case 'bn_eval': {
      const f = fused(op);
      const spec = { name: kernelName(ctx, `batchnorm_eval${f.suffix}`), origin: o, input: ctx.program.tensors[op.x]!.shape, attrs: op.attrs, ...f.spec };
      return [{ kernel: batchnormEval(spec), args: { x: t(op.x), gamma: t(op.gamma), beta: t(op.beta), y: t(op.y), running_mean: t(op.runMean), running_var: t(op.runVar) } }];
    }
    case 'bn_grad': {
      const spec = { name: kernelName(ctx, 'batchnorm_grad'), origin: o, input: ctx.program.tensors[op.x]!.shape, attrs: op.attrs };
      return [{ kernel: batchnormTrainBackward(spec), args: {
        x: t(op.x), dy: t(op.dy), gamma: t(op.gamma), save_mean: t(op.mean), save_invstd: t(op.invstd), dx: t(op.dx), dgamma: t(op.dgamma), dbeta: t(op.dbeta),
      } }];
    }
    case 'dropout':
    case 'dropout_grad': {
      const [from, to] = op.op === 'dropout' ? [op.x, op.y] : [op.dy, op.dx];
      const spec = { name: kernelName(ctx, op.op), origin: o, elements: elements(ctx, from), attrs: { p: op.p }, stream: op.salt };
      return op.op === 'dropout'
        ? [{ kernel: dropoutForward(spec), args: { params: step, x: t(from), y: t(to) } }]
        : [{ kernel: dropoutBackward(spec), args: { params: step, dy: t(from), dx: t(to) } }];
    }
    case 'loss':
      return lowerLoss(op, ctx);
    case 'accumulate': {
      const spec = { name: kernelName(ctx, 'accumulate'), origin: o, source: 'value', target: 'total', elements: elements(ctx, op.source) };
      return [{ kernel: accumulateKernel(spec), args: { value: t(op.source), total: t(op.target) } }];
    }
    case 'update':
      return lowerUpdate(op, ctx);
    default:
      return assertNever(op, 'lower');
  }
}

function lowerLoss(op: Extract<StepOp, { op: 'loss' }>, ctx: LowerContext): KernelCall[] {
  const o = op.origin;
  if (op.kind === 'cross_entropy') {
    const [batch, classes] = ctx.program.tensors[op.yhat]!.shape as [number, number];
    const fwd = { kernel: softmaxXentForward({ name: kernelName(ctx, 'softmax_xent'), origin: o, batch, classes }), args: { logits: t(op.yhat), labels: t(op.target), loss: t(op.loss), correct: t(op.correct!) } };
    if (op.dyhat === null) return [fwd];
    return [fwd, { kernel: softmaxXentBackward({ name: kernelName(ctx, 'softmax_xent_grad'), origin: o, batch, classes }), args: { logits: t(op.yhat), labels: t(op.target), dlogits: t(op.dyhat) } }];
  }
  const spec = { origin: o, elements: elements(ctx, op.yhat), reduction: op.kind === 'mse_sum' ? 'sum' as const : 'mean' as const };
  const fwd = { kernel: mseForward({ ...spec, name: kernelName(ctx, op.kind) }), args: { yhat: t(op.yhat), y: t(op.target), loss: t(op.loss) } };
  if (op.dyhat === null) return [fwd];
  return [fwd, { kernel: mseBackward({ ...spec, name: kernelName(ctx, `${op.kind}_grad`) }), args: { yhat: t(op.yhat), y: t(op.target), dyhat: t(op.dyhat) } }];
}

/** One dispatch per chunk of the packed parameter arena (chunks only past the binding-size limit). */
function lowerUpdate(op: Extract<StepOp, { op: 'update' }>, ctx: LowerContext): KernelCall[] {
  const total = ctx.plan.arenas.param;
  const calls: KernelCall[] = [];
  const o = op.optimizer;
  for (let start = 0; start < total; start += ctx.maxBindingElements) {
    const count = Math.min(ctx.maxBindingElements, total - start);
    const range = (arena: Arena): BindingRef => ({ kind: 'range', arena, offset: start, elements: count });
    const spec = { name: kernelName(ctx, o.kind), origin: op.origin, range: { bufferElements: count, offset: 0, count } };
    if (o.kind === 'sgd') {
      const kernel = sgdStep({ ...spec, hyper: { lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weightDecay, nesterov: o.nesterov } });
      calls.push({ kernel, args: { params: step, grad: range('grad'), param: range('param'), momentum_buf: range('state1') } });
    } else {
      const hyper = { lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weightDecay };
      const kernel = (o.kind === 'adam' ? adamStep : adamwStep)({ ...spec, hyper });
      calls.push({ kernel, args: { params: step, grad: range('grad'), param: range('param'), exp_avg: range('state1'), exp_avg_sq: range('state2') } });
    }
  }
  return calls;
}
