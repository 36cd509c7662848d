// Lowering of the loss ops (softmax cross-entropy, squared error) and of the accumulate op that
// keeps running totals (loss sums) on the GPU.
import type { StepOp } from '../../autodiff/step-ir.ts';
import { mseBackward, mseForward } from '../kernels/mse.ts';
import { accumulateKernel } from '../kernels/reduce.ts';
import { softmaxXentBackward, softmaxXentForward } from '../kernels/softmax-xent.ts';
import { elements, frame, shapeOf, t, type KernelCall, type LowerContext } from './context.ts';

export type LossOp = Extract<StepOp, { op: 'loss' | 'accumulate' }>;

export function lowerLoss(op: LossOp, ctx: LowerContext): KernelCall[] {
  if (op.op === 'accumulate') {
    const spec = {
      ...frame(ctx, op.origin, 'accumulate'),
      source: 'value',
      target: 'total',
      elements: elements(ctx, op.source),
    };
    return [{ kernel: accumulateKernel(spec), args: { value: t(op.source), total: t(op.target) } }];
  }
  const o = op.origin;
  if (op.kind === 'cross_entropy') {
    const [batch, classes] = shapeOf(ctx, op.yhat) as [number, number];
    const fwd = {
      kernel: softmaxXentForward({ ...frame(ctx, o, 'softmax_xent'), batch, classes }),
      args: {
        logits: t(op.yhat),
        labels: t(op.target),
        padding: t(op.padding),
        loss: t(op.loss),
        correct: t(op.correct!),
      },
    };
    if (op.dyhat === null) return [fwd];
    return [
      fwd,
      {
        kernel: softmaxXentBackward({ ...frame(ctx, o, 'softmax_xent_grad'), batch, classes }),
        args: { logits: t(op.yhat), labels: t(op.target), dlogits: t(op.dyhat) },
      },
    ];
  }
  const spec = {
    elements: elements(ctx, op.yhat),
    batch: shapeOf(ctx, op.yhat)[0]!,
    reduction: op.kind === 'mse_sum' ? ('sum' as const) : ('mean' as const),
  };
  const fwd = {
    kernel: mseForward({ ...frame(ctx, o, op.kind), ...spec }),
    args: { yhat: t(op.yhat), y: t(op.target), padding: t(op.padding), loss: t(op.loss) },
  };
  if (op.dyhat === null) return [fwd];
  return [
    fwd,
    {
      kernel: mseBackward({ ...frame(ctx, o, `${op.kind}_grad`), ...spec }),
      args: { yhat: t(op.yhat), y: t(op.target), dyhat: t(op.dyhat) },
    },
  ];
}
