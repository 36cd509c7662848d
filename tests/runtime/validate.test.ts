// validate() (every epoch's val_loss, and `cnnc eval`) on a split of 13 samples in batches of 5
// (5, 5 and a short 3): the loss is the mean over samples, as PyTorch's over the whole split, against
// the float64 interpreter run on all 13 at once. Tolerance: rtol 1e-5 (float32 GPU sums of a few
// terms); the mean of the three batch means, which validate() used to report, is ~1e-2 away here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LossKind } from '../../compiler/ir/recipe.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { compile } from '../../runtime/model.ts';
import { forward, lossOf, type Params } from '../../runtime/reference/interpret.ts';
import { tensor, type Tensor } from '../../runtime/reference/tensor.ts';
import type { TrainData } from '../../runtime/train/data.ts';
import { validate } from '../../runtime/train/trainer.ts';
import { createRng, randn } from '../helpers/random.ts';

const SOURCE = `
model Small {
  input [2, 5, 5]
  conv(3, kernel = 3) batchnorm relu
  flatten linear(4)
}`;
const SAMPLES = 13;
const BATCH = 5;
const RTOL = 1e-5;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

const f32 = (t: Tensor): Tensor => tensor(t.shape, Float32Array.from(t.data));

/** Samples [from, to) of a [N, ...] tensor. */
function rows(t: Tensor, from: number, to: number): Tensor {
  const size = t.data.length / t.shape[0]!;
  return tensor([to - from, ...t.shape.slice(1)], t.data.slice(from * size, to * size));
}

/** An in-memory split, batched in order as the data adapters batch it. */
function split(x: Tensor, target: Int32Array | Tensor): TrainData {
  return {
    count: SAMPLES,
    sampleShape: x.shape.slice(1),
    describe: 'test split',
    files: [],
    nonFinite: null,
    *batches(o) {
      for (let start = 0; start < SAMPLES; start += o.batchSize) {
        const end = Math.min(SAMPLES, start + o.batchSize);
        const t =
          target instanceof Int32Array ? target.slice(start, end) : Float32Array.from(rows(target, start, end).data);
        yield { x: Float32Array.from(rows(x, start, end).data), target: t, size: end - start };
      }
    },
  };
}

describe.each<LossKind>(['cross_entropy', 'mse_mean', 'mse_sum'])('validate() with %s', (loss) => {
  it('reports the mean over samples of a split whose last batch is short, and over the first N (--val-limit)', async () => {
    const model = await compile(SOURCE, { gpu, batch: BATCH, seed: 3, loss });
    try {
      const rng = createRng(17);
      const params: Params = new Map();
      for (const node of model.compiled.graph.nodes) {
        for (const p of node.params) {
          if (p.role === 'num_batches_tracked') continue;
          // Running variance must stay positive: 1 + |noise|.
          const t = f32(randn(rng, p.shape));
          const v =
            p.role === 'running_var'
              ? tensor(
                  p.shape,
                  Float32Array.from(t.data, (a) => 1 + Math.abs(a)),
                )
              : t;
          params.set(p.name, v);
          model.setParam(p.name, Float32Array.from(v.data));
        }
      }
      const x = f32(randn(rng, [SAMPLES, 2, 5, 5]));
      const labels = Int32Array.from({ length: SAMPLES }, (_, i) => (i * 7 + 1) % 4);
      const y = f32(randn(rng, [SAMPLES, 4]));
      const target = loss === 'cross_entropy' ? labels : y;
      const data = split(x, target);

      /** The float64 loss over samples [0, n): the sum of per-sample losses over n; and the mean of the batch losses. */
      const reference = (n: number): { loss: number; batchMeans: number } => {
        const out = forward(model.compiled.graph, params, rows(x, 0, n), 'eval').output;
        const lossOver = (from: number, to: number): number =>
          lossOf(
            loss,
            rows(out, from, to),
            target instanceof Int32Array ? target.slice(from, to) : rows(target, from, to),
          ).loss;
        const batches = Array.from({ length: Math.ceil(n / BATCH) }, (_, b) =>
          lossOver(b * BATCH, Math.min(n, (b + 1) * BATCH)),
        );
        // mse_sum's loss is the sum of the samples' losses, the others' their mean.
        const sum = loss === 'mse_sum' ? lossOver(0, n) : lossOver(0, n) * n;
        return { loss: sum / n, batchMeans: batches.reduce((a, b) => a + b, 0) / batches.length };
      };

      for (const limit of [null, 12]) {
        const n = limit ?? SAMPLES;
        const got = await validate(model, data, BATCH, limit);
        const want = reference(n);
        expect(got.samples).toBe(n);
        expect(Math.abs(got.loss - want.loss), `loss over ${n}: ${got.loss}, float64 ${want.loss}`).toBeLessThanOrEqual(
          RTOL * Math.abs(want.loss),
        );
        // The test can tell the two apart: the old mean of batch means is far outside the tolerance.
        expect(Math.abs(want.batchMeans - want.loss)).toBeGreaterThan(100 * RTOL * Math.abs(want.loss));
        if (loss === 'cross_entropy') {
          const out = forward(model.compiled.graph, params, rows(x, 0, n), 'eval').output;
          const right = Array.from({ length: n }, (_, i) => {
            const row = Array.from(out.data.slice(i * 4, i * 4 + 4));
            return row.indexOf(Math.max(...row)) === labels[i] ? 1 : 0;
          }).reduce<number>((a, b) => a + b, 0);
          expect(got.acc).toBe(right / n);
        } else {
          expect(got.acc).toBeNull();
        }
      }
    } finally {
      await model.dispose();
    }
  });
});
