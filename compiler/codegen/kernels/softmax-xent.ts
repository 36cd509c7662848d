// Softmax cross-entropy over [N, K] logits with i32 class labels (PyTorch nn.CrossEntropyLoss,
// reduction 'mean'): the loss plus a running count of correct predictions, and the logits gradient.
import type { KernelModule } from '../kernel.ts';
import { buildModule, loopBound, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { wgsl } from '../writer.ts';
import { type ReduceFrame, perItemKernel, reductionThreads, workgroupSum } from './reduce.ts';

export interface SoftmaxXentSpec extends KernelFrame {
  readonly batch: number;
  readonly classes: number;
}

/**
 * `row(r, classes)`: the row's log-sum-exp, shifted by its maximum so exp never overflows, and its
 * argmax (first maximum, as torch.argmax). `classes` is K, passed in so that a caller can hide it
 * from the driver's compiler (loopBound). Labels must lie in [0, K): there is no ignore_index.
 */
function rowDecls(spec: SoftmaxXentSpec): string {
  if (spec.batch < 1 || spec.classes < 1)
    throw new Error(`kernel ${spec.name}: bad logits shape [${spec.batch}, ${spec.classes}]`);
  return wgsl`
    const N: u32 = ${spec.batch}u;
    const K: u32 = ${spec.classes}u;

    struct Row { lse: f32, argmax: i32 }

    fn row(r: u32, classes: u32) -> Row {
      let base = r * K;
      var top = logits[base];
      var arg = 0u;
      for (var k = 1u; k < classes; k++) {
        let v = logits[base + k];
        if (v > top) {
          top = v;
          arg = k;
        }
      }
      var sum = 0.0;
      for (var k = 0u; k < classes; k++) {
        sum += exp(logits[base + k] - top);
      }
      return Row(top + log(sum), i32(arg));
    }
  `;
}

function inputs(spec: SoftmaxXentSpec): ReduceFrame['bindings'] {
  return [readBinding('logits', spec.batch * spec.classes), readBinding('labels', spec.batch, 'i32')];
}

/**
 * One workgroup; each invocation takes rows lid, lid + T, ...: loss_r = lse_r - logit[label_r], over
 * the rows before the padding. Bindings: logits, labels (i32), padding (u32 [1]: the batch's last
 * rows left out) | loss (f32 [1], the mean over the rest), correct (u32 [1], += their count of
 * argmax == label, so accuracy accumulates on the GPU until the runtime reads it).
 */
export function softmaxXentForward(spec: SoftmaxXentSpec): KernelModule {
  const threads = reductionThreads(spec.batch, spec);
  const sum = workgroupSum(spec, 'batch_sum', 'vec2f', threads);
  const bindings = [
    ...inputs(spec),
    readBinding('padding', 1, 'u32'),
    writeBinding('loss', 1),
    writeBinding('correct', 1, 'u32'),
  ];
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings,
    lid: 'index',
    lanes: threads,
    groups: 1,
    decls: rowDecls(spec) + '\n\n' + sum.decls,
    main: (w) =>
      w.chunk(wgsl`
      let rows = N - padding[0];
      var part = vec2f(0.0);
      for (var r = lid; r < rows; r += ${threads}u) {
        let label = labels[r];
        let stats = row(r, ${loopBound(spec, 'K')});
        part += vec2f(stats.lse - logits[r * K + u32(label)], select(0.0, 1.0, stats.argmax == label));
      }
      let sums = ${sum.call('part')};
      if (lid == 0u) {
        loss[0] = sums.x / f32(rows);
        // Exact: a batch's count is far below 2^24.
        correct[0] += u32(sums.y);
      }
    `),
  });
}

/** One invocation per row: dlogits = (softmax - onehot(label)) / N. Bindings: logits, labels | dlogits. */
export function softmaxXentBackward(spec: SoftmaxXentSpec): KernelModule {
  const bindings = [...inputs(spec), writeBinding('dlogits', spec.batch * spec.classes)];
  return perItemKernel(
    { name: spec.name, origin: spec.origin, limits: spec.limits, bindings },
    spec.batch,
    rowDecls(spec),
    wgsl`
    let stats = row(i, ${loopBound(spec, 'K')});
    let label = u32(labels[i]);
    for (var k = 0u; k < ${loopBound(spec, 'K')}; k++) {
      let p = exp(logits[i * K + k] - stats.lse);
      dlogits[i * K + k] = (p - select(0.0, 1.0, k == label)) / f32(N);
    }
  `,
  );
}
