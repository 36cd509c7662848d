// Compiling is kept apart from training: a short batch's sibling compiles only the pass it runs
// (training's last batch; validation pads its own, tests/runtime/padded-batch.test.ts), and the
// epoch report counts compile time (the model's own and the first step at each batch size in the
// first epoch, a sibling's in the epoch that meets it) outside the training throughput.
import { describe, expect, it } from 'vitest';
import { compile } from '../../runtime/model.ts';
import type { TrainData } from '../../runtime/train/data.ts';
import { sineData } from '../helpers/train-data.ts';
import { train } from '../../runtime/train/trainer.ts';
import { installDawn } from '../../runtime/gpu/dawn.ts';

// compile() without a device opens navigator.gpu: under Node, dawn.node's.
installDawn();

const source = `model Tiny {
  input [1, 4, 4]
  flatten
  linear(10)
}

train {
  data fashion_mnist
  batch 8  epochs 2
  optimizer sgd(lr = 0.1)
  loss cross_entropy
}
`;

/** `count` deterministic 4x4 samples, in order. */
const data = (count: number): TrainData => sineData(count, [1, 4, 4], { labels: 10 });

describe('compile time', () => {
  it('a sibling compiles the pass it is asked for, and counts its compile time', async () => {
    const m = await compile(source, { seed: 1 });
    try {
      const own = m.compileSeconds;
      expect(own).toBeGreaterThan(0);
      const sibling = await m.withBatch(3, 'evaluate');
      expect(m.compileSeconds).toBeGreaterThan(own);
      sibling.evaluateStep(new Float32Array(3 * 16), new Int32Array(3));
      expect(() => sibling.trainStep(new Float32Array(3 * 16), new Int32Array(3))).toThrow(
        'the train pass was not prepared',
      );
      const afterEvaluate = m.compileSeconds;
      expect(await m.withBatch(3, 'evaluate')).toBe(sibling);
      expect(m.compileSeconds).toBe(afterEvaluate);
      (await m.withBatch(3, 'train')).trainStep(new Float32Array(3 * 16), new Int32Array(3));
      expect(m.compileSeconds).toBeGreaterThan(afterEvaluate);
      expect(Number.isFinite(await sibling.lastLoss())).toBe(true);
    } finally {
      await m.dispose();
    }
  });

  it("the epoch report gives compile time apart: the first epoch the model's own and its siblings', later epochs none", async () => {
    const m = await compile(source, { seed: 1 });
    try {
      const own = m.compileSeconds;
      // 20 training samples in batches of 8 leave a last batch of 4, 11 validation samples one of 3.
      const reports = await train(
        m,
        { train: data(20), val: data(11) },
        { epochs: 2, batchSize: 8, shuffle: false, seed: 1, maxSteps: null },
      );
      expect(reports).toHaveLength(2);
      const [first, second] = reports as [(typeof reports)[0], (typeof reports)[0]];
      // The first epoch: the model's compile, then the first steps at 8 and at 4 (timed to their
      // end, counted as compiling); validation's last 3 are padded, no sibling. Its throughput is
      // the one other step's 8 samples.
      expect(first.compileSeconds).toBeGreaterThan(m.compileSeconds);
      expect(first.compileSeconds).toBeGreaterThan(own);
      expect(first.samplesPerSec).toBeCloseTo(8 / first.seconds, 6);
      expect(second.compileSeconds).toBe(0);
      expect(second.samplesPerSec).toBeCloseTo(20 / second.seconds, 6);
    } finally {
      await m.dispose();
    }
  });
});
