// `cnnc eval` and `cnnc predict` on weights trained once here (LeNet with ReLU, 60 steps on
// Fashion-MNIST): eval reports what the trainer's validate() computes for the same weights, predict
// names Fashion-MNIST's classes with softmax probabilities, and bad inputs are one-line errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cnnc, root } from '../helpers/cli.ts';
import { compile } from '../../runtime/model.ts';
import { openData } from '../../runtime/train/data.ts';
import { readWeights, setWeights } from '../../runtime/train/state-dict.ts';
import { validate } from '../../runtime/train/trainer.ts';
import { installDawn } from '../../runtime/gpu/dawn.ts';

// compile() without a device opens navigator.gpu: under Node, dawn.node's.
installDawn();

const LENET = 'dsl-examples/lenet-relu.cnn';
const TEST_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
// Written out, not imported from runtime/classes.ts: a wrong name there must fail here.
const CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
const tmp = mkdtempSync(join(tmpdir(), 'cnnc-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const weights = join(tmp, 'lenet.safetensors');

beforeAll(() => {
  const r = cnnc('train', LENET, '--steps', '60', '--save', weights);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}, 300_000);

describe('cnnc eval', () => {
  it('prints the test-split loss and accuracy that validate() gives for the weights', {
    timeout: 300_000,
  }, async () => {
    const r = cnnc('eval', LENET, '--weights', weights);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [, loss, acc] = /val_loss ([\d.]+) {2}val_acc ([\d.]+)/.exec(r.stdout)!.map(Number);
    expect(acc).toBeGreaterThan(0.3);

    const path = join(root, LENET);
    const model = await compile(readFileSync(path, 'utf8'), { path, batch: 128 });
    try {
      setWeights(model, readWeights(model.compiled.graph, weights));
      const { val } = openData(
        { source: model.compiled.train.data, modelPath: path, resize: null, numClasses: 10 },
        true,
      );
      const want = await validate(model, val!, 128);
      // The CLI prints 4 decimals.
      expect(Math.abs(acc! - want.acc!)).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(loss! - want.loss)).toBeLessThanOrEqual(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it('refuses a missing weights file, naming it', () => {
    const r = cnnc('eval', LENET, '--weights', `${weights}.missing`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`cnnc: cannot read ${weights}.missing: no such file or directory\n`);
  });

  it('refuses weights of another model', () => {
    const r = cnnc('eval', 'dsl-examples/corr2d.cnn', '--weights', weights);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`cnnc: ${weights} holds weights of model LeNetReLU, not Corr2d\n`);
  });
});

describe('cnnc predict', () => {
  it('prints class, probability and top 3 for each of --count images, in batches of --batch-size', {
    timeout: 300_000,
  }, () => {
    // 5 images in batches of 2: the last batch needs the model compiled for 1 more.
    const r = cnnc(
      'predict',
      LENET,
      '--weights',
      weights,
      '--images',
      TEST_IMAGES,
      '--count',
      '5',
      '--batch-size',
      '2',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    lines.forEach((line, i) => {
      const m = /^(\d+) {2}(.+?) {2}([\d.]+) {2}top-3: (.*)$/.exec(line)!;
      expect(m, line).not.toBeNull();
      expect(Number(m[1])).toBe(i);
      expect(CLASSES).toContain(m[2]);
      const top = m[4]!.split(', ').map((t) => /^(.+) ([\d.]+)$/.exec(t)!);
      expect(top).toHaveLength(3);
      const ps = top.map((t) => Number(t[2]));
      top.forEach((t) => expect(CLASSES).toContain(t[1]));
      expect(top[0]![1]).toBe(m[2]);
      expect(ps[0]).toBe(Number(m[3]));
      expect(ps).toEqual([...ps].sort((a, b) => b - a));
      // Rounded to 4 decimals each.
      expect(ps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 2e-4);
    });
  });

  it('--json gives the predictions as data, probabilities at full precision', { timeout: 300_000 }, () => {
    const r = cnnc('predict', LENET, '--weights', weights, '--images', TEST_IMAGES, '--count', '2', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as {
      index: number;
      class: number;
      name: string;
      probability: number;
      top: { class: number; name: string; probability: number }[];
    }[];
    expect(rows.map((row) => row.index)).toEqual([0, 1]);
    for (const row of rows) {
      expect(row.name).toBe(CLASSES[row.class]);
      expect(row.top[0]).toEqual({ class: row.class, name: row.name, probability: row.probability });
      expect(row.top.reduce((a, t) => a + t.probability, 0)).toBeLessThanOrEqual(1 + 1e-12);
      expect(row.probability).toBeGreaterThan(0.1);
    }
  });

  it('refuses an npy batch whose samples are not the model input, naming file and shapes', () => {
    const r = cnnc('predict', LENET, '--weights', weights, '--npy', 'dsl-examples/data/edge-x.npy');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'cnnc: dsl-examples/data/edge-x.npy: shape (1, 1, 6, 8), the model expects (N, 1, 28, 28) with N >= 1\n',
    );
  });

  it('needs exactly one of --images and --npy', () => {
    const r = cnnc('predict', LENET, '--weights', weights);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('needs one of --images IDX_FILE and --npy X.npy');
  });
});
