// One command analyses its source once: the parser and the elaborator are counted (wrapped through
// vi.mock) while train (with and without --resize, with partial batches), eval and predict run
// in-process, and while a Model derives a partial-batch sibling. Before the pipeline moved into
// compiler/index.ts, train parsed twice, three times with --resize, and every sibling once more.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IMAGES_MAGIC, LABELS_MAGIC } from '../../runtime/data/idx.ts';
import { compile } from '../../runtime/model.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { idxBytes } from '../helpers/idx.ts';
import { installDawn } from '../../runtime/gpu/dawn.ts';

// compile() without a device opens navigator.gpu: under Node, dawn.node's.
installDawn();

// Counts calls of the parser and the elaborator; each keeps its own behaviour.
const { calls, counting } = vi.hoisted(() => {
  const calls = { parse: 0, elaborate: 0 };
  const counting =
    <A extends unknown[], R>(key: keyof typeof calls, f: (...a: A) => R) =>
    (...a: A): R => {
      calls[key]++;
      return f(...a);
    };
  return { calls, counting };
});
vi.mock('../../compiler/syntax/index.ts', async (original) => {
  const m = await original<typeof import('../../compiler/syntax/index.ts')>();
  return { ...m, parse: counting('parse', m.parse) };
});
vi.mock('../../compiler/elaborate/expand.ts', async (original) => {
  const m = await original<typeof import('../../compiler/elaborate/expand.ts')>();
  return { ...m, elaborate: counting('elaborate', m.elaborate) };
});
beforeEach(() => {
  calls.parse = 0;
  calls.elaborate = 0;
});

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-one-analysis-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const source = `model Tiny {
  input [1, 4, 4]
  flatten
  linear(10)
}

train {
  data fashion_mnist
  batch 16  epochs 1
  optimizer sgd(lr = 0.1)
  loss cross_entropy
}
`;
const model = join(tmp, 'tiny.cnn');
writeFileSync(model, source);

// 40 training and 30 test images of 4x4: at batch 16 the last batch of each split is partial (8, 14).
const data = join(tmp, 'data');
mkdirSync(data);
for (const [stem, count] of [
  ['train', 40],
  ['t10k', 30],
] as const) {
  const pixels = Array.from({ length: count * 16 }, (_, i) => (i * 37) % 256);
  writeFileSync(join(data, `${stem}-images-idx3-ubyte.gz`), gzipSync(idxBytes(IMAGES_MAGIC, [count, 4, 4], pixels)));
  writeFileSync(
    join(data, `${stem}-labels-idx1-ubyte.gz`),
    gzipSync(
      idxBytes(
        LABELS_MAGIC,
        [count],
        Array.from({ length: count }, (_, i) => i % 10),
      ),
    ),
  );
}

async function run(...args: string[]): Promise<string> {
  const r = await cnncInProcess(...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('one analysis per command', () => {
  const weights = join(tmp, 'tiny.safetensors');

  it('train parses and elaborates once, partial batches included', async () => {
    const out = await run('train', model, '--data', data, '--save', weights);
    expect(out).toContain('epoch 1/1');
    expect(calls).toEqual({ parse: 1, elaborate: 1 });
  });

  it('train --resize parses and elaborates once (no probe analysis for the input channels)', async () => {
    const out = await run('train', model, '--data', data, '--resize', '6', '--steps', '1');
    expect(out).toContain('resized to 6x6');
    expect(calls).toEqual({ parse: 1, elaborate: 1 });
  });

  it('eval and predict parse and elaborate once each', async () => {
    expect(await run('eval', model, '--data', data, '--weights', weights)).toContain('val_loss');
    expect(calls).toEqual({ parse: 1, elaborate: 1 });
    const predicted = await run(
      'predict',
      model,
      '--weights',
      weights,
      '--images',
      join(data, 't10k-images-idx3-ubyte.gz'),
      '--count',
      '21',
      '--batch-size',
      '8',
    );
    expect(predicted.trim().split('\n')).toHaveLength(21);
    expect(calls).toEqual({ parse: 2, elaborate: 2 });
  });

  it('a partial-batch sibling comes from the analysed graph, and computes what its model computes', async () => {
    const m = await compile(source, { batch: 4, seed: 5 });
    try {
      expect(calls).toEqual({ parse: 1, elaborate: 1 });
      const x = Float32Array.from({ length: 4 * 16 }, (_, i) => Math.sin(i));
      const full = await m.forward(x);
      const sibling = await m.withBatch(3);
      expect(calls).toEqual({ parse: 1, elaborate: 1 });
      expect(sibling.batch).toBe(3);
      // Shared weights: the same logits for the first 3 samples (one kernel set per batch size, so
      // float32 sums may associate differently; rtol 1e-5).
      const part = await sibling.forward(x.subarray(0, 3 * 16));
      for (let i = 0; i < 3 * 10; i++)
        expect(Math.abs(part[i]! - full[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(full[i]!) + 1e-6);
    } finally {
      await m.dispose();
    }
  });
});
