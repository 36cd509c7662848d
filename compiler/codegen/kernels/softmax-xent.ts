// Softmax cross-entropy over [N, K] logits with i32 class labels (PyTorch nn.CrossEntropyLoss,
// reduction 'mean'): the loss plus a running count of correct predictions, and the logits gradient.
import type { KernelModule } from '../kernel.ts';
import { buildModule, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { wgsl } from '../writer.ts';
import { type ReduceFrame, perItemKernel, reductionThreads, workgroupSumFn } from './reduce.ts';

export interface SoftmaxXentSpec extends KernelFrame {
  readonly batch: number;
  readonly classes: number;
}

/**
 * `row(r)`: the row's log-sum-exp, shifted by its maximum so exp never overflows, and its argmax
 * (first maximum, as torch.argmax). Labels must lie in [0, K): there is no ignore_index.
 */
function rowDecls(spec: SoftmaxXentSpec): string {
  if (spec.batch < 1 || spec.classes < 1)
    throw new Error(`kernel ${spec.name}: bad logits shape [${spec.batch}, ${spec.classes}]`);
  return wgsl`
    const N: u32 = ${spec.batch}u;
    const K: u32 = ${spec.classes}u;

    struct Row { lse: f32, argmax: i32 }

    fn row(r: u32) -> Row {
      let base = r * K;
      var top = logits[base];
      var arg = 0u;
      for (var k = 1u; k < K; k++) {
        let v = logits[base + k];
        if (v > top) {
          top = v;
          arg = k;
        }
      }
      var sum = 0.0;
      for (var k = 0u; k < K; k++) {
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
 * One workgroup; each invocation takes rows lid, lid + T, ...: loss_r = lse_r - logit[label_r].
 * Bindings: logits, labels (i32) | loss (f32 [1], the batch mean), correct (u32 [1], += this batch's
 * count of argmax == label, so accuracy accumulates on the GPU until the runtime reads it).
 */
export function softmaxXentForward(spec: SoftmaxXentSpec): KernelModule {
  const threads = reductionThreads(spec.batch, spec);
  const bindings = [...inputs(spec), writeBinding('loss', 1), writeBinding('correct', 1, 'u32')];
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings,
    lid: 'index',
    lanes: threads,
    groups: 1,
    decls: rowDecls(spec) + '\n\n' + workgroupSumFn(spec, 'batch_sum', 'vec2f', threads),
    main: (w) =>
      w.chunk(wgsl`
      var part = vec2f(0.0);
      for (var r = lid; r < N; r += ${threads}u) {
        let label = labels[r];
        let stats = row(r);
        part += vec2f(stats.lse - logits[r * K + u32(label)], select(0.0, 1.0, stats.argmax == label));
      }
      let sums = batch_sum(part, lid);
      if (lid == 0u) {
        loss[0] = sums.x / f32(N);
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
    let stats = row(i);
    let label = u32(labels[i]);
    for (var k = 0u; k < K; k++) {
      let p = exp(logits[i * K + k] - stats.lse);
      dlogits[i * K + k] = (p - select(0.0, 1.0, k == label)) / f32(N);
    }
  `,
  );
}
