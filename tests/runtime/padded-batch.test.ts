// A short batch (validation's last, predict's last) runs on the kernels compiled for the model's
// batch, padded, with the program's `padding` telling the loss which rows to leave out, instead of
// a sibling compiled for its size (a cold start's worth of driver compiles). Checked against the
// same weights compiled at batch 1, where no batch is ever short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type Model } from '../../runtime/model.ts';
import type { TrainData } from '../../runtime/train/data.ts';
import { sineData } from '../helpers/train-data.ts';
import { validate } from '../../runtime/train/trainer.ts';
import { installDawn } from '../../runtime/gpu/dawn.ts';

// compile() without a device opens navigator.gpu: under Node, dawn.node's.
installDawn();

const model = `model Small {
  input [1, 6, 6]
  conv(3, kernel = 3)
  batchnorm
  relu
  flatten
  linear(4)
}
`;
const recipe = (loss: string) => `
train {
  data fashion_mnist
  batch 8
  optimizer sgd(lr = 0.1)
  loss ${loss}
}
`;

/** `count` deterministic samples with class labels (cross-entropy) or [4] targets (squared error). */
const data = (count: number, targets: 'labels' | 'values'): TrainData =>
  sineData(count, [1, 6, 6], targets === 'labels' ? { labels: 4 } : { values: 4 });

/** `loss` at batch 8 after two training steps (running statistics no longer the initial ones), and the same weights at batch 1. */
async function pair(loss: string, targets: 'labels' | 'values'): Promise<[Model, Model]> {
  const source = model + recipe(loss);
  const m = await compile(source, { seed: 3 });
  for (const b of data(16, targets).batches({ batchSize: 8, shuffle: false, seed: 0, epoch: 0 }))
    m.trainStep(b.x, b.target);
  const one = await compile(source, { seed: 3, batch: 1 });
  for (const name of m.paramNames) one.setParam(name, await m.getParam(name));
  return [m, one];
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

describe.each([
  { loss: 'cross_entropy', targets: 'labels' as const },
  { loss: 'mse_mean', targets: 'values' as const },
  { loss: 'mse_sum', targets: 'values' as const },
])('a short last batch, padded ($loss; against batch 1, rtol 1e-5)', ({ loss, targets }) => {
  let m: Model;
  let one: Model;
  beforeAll(async () => {
    [m, one] = await pair(loss, targets);
  });
  afterAll(async () => {
    await m.dispose();
    await one.dispose();
  });

  it('validation over 11 samples (8 + 3) gives batch 1 loss and accuracy, and compiles nothing', async () => {
    const compiled = m.compileSeconds;
    const padded = await validate(m, data(11, targets), 8);
    expect(m.compileSeconds).toBe(compiled);
    const whole = await validate(one, data(11, targets), 1);
    expect(padded.samples).toBe(11);
    expect(close(padded.loss, whole.loss), `${padded.loss} against ${whole.loss}`).toBe(true);
    expect(padded.acc).toBe(whole.acc);
  });

  it('forward over 19 samples (8 + 8 + 3) and over 2 gives batch 1 outputs', async () => {
    for (const count of [19, 2]) {
      const x = Float32Array.from({ length: count * 36 }, (_, i) => Math.cos(i * 0.7));
      const [got, want] = [await m.forward(x), await one.forward(x)];
      expect(got).toHaveLength(count * 4);
      for (let i = 0; i < want.length; i++) expect(close(got[i]!, want[i]!), `output ${i}`).toBe(true);
    }
  });
});

describe('padding, then whole batches', () => {
  it('a training step after a padded evaluation has the loss it has without one (the loss counts all 8 rows again)', async () => {
    const source = model + recipe('cross_entropy');
    const [after, alone] = [await compile(source, { seed: 3 }), await compile(source, { seed: 3 })];
    try {
      const [b] = [...data(8, 'labels').batches({ batchSize: 8, shuffle: false, seed: 0, epoch: 0 })];
      after.evaluateStep(b!.x.subarray(0, 3 * 36), b!.target.subarray(0, 3));
      for (const m of [after, alone]) m.trainStep(b!.x, b!.target);
      expect(await after.lastLoss()).toBe(await alone.lastLoss());
    } finally {
      await after.dispose();
      await alone.dispose();
    }
  });
});

describe('what a padded batch refuses', () => {
  it('a training step on a short batch, and input that is not whole samples', async () => {
    const m = await compile(model + recipe('cross_entropy'), { seed: 3 });
    try {
      expect(() => m.trainStep(new Float32Array(3 * 36), new Int32Array(3))).toThrow(
        'a training step takes a whole batch of 8 samples',
      );
      await expect(m.forward(new Float32Array(40))).rejects.toThrow('40 input values: not samples of 36');
      expect(() => m.evaluateStep(new Float32Array(9 * 36), new Int32Array(9))).toThrow('not 1 to 8 samples');
    } finally {
      await m.dispose();
    }
  });
});
