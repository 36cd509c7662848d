// Batch norm's num_batches_tracked across loads: PyTorch's load_state_dict takes the file's count
// and training goes on counting from it. cnnc used to report its own step count instead, so
// weights loaded with `--init` from a model trained for 1234 batches came back as 3 after 3 steps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { compile, type Model } from '../../runtime/model.ts';
import { CheckpointError, writeCheckpoint, type StoredTensor } from '../../runtime/train/checkpoint.ts';
import { applyRun, readRun, saveRun } from '../../runtime/train/resume.ts';
import { readWeights, setWeights, stateDict } from '../../runtime/train/state-dict.ts';
import { createRng, randn } from '../helpers/random.ts';

const SOURCE = `
model TwoNorms {
  input [2, 4, 4]
  conv(3, kernel = 3, padding = 1) batchnorm as bn1 relu
  conv(3, kernel = 3, padding = 1) batchnorm as bn2
  global_avgpool flatten linear(2)
}`;
const BATCH = 4;

let gpu: Gpu;
const dir = mkdtempSync(join(tmpdir(), 'cnnc-tracked-'));
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => {
  gpu.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const newModel = (): Promise<Model> =>
  compile(SOURCE, { gpu, batch: BATCH, seed: 1, optimizer: { kind: 'sgd', lr: 0.1 } });

function trainSteps(model: Model, n: number): void {
  const rng = createRng(5);
  for (let i = 0; i < n; i++)
    model.trainStep(
      Float32Array.from(randn(rng, [BATCH, 2, 4, 4]).data),
      Int32Array.from({ length: BATCH }, (_, j) => (i + j) % 2),
    );
}

async function tracked(model: Model): Promise<Record<string, bigint>> {
  const out: Record<string, bigint> = {};
  for (const [name, t] of await stateDict(model))
    if (name.endsWith('num_batches_tracked')) out[name] = (t.data as BigInt64Array)[0]!;
  return out;
}

/** A fresh model's state_dict with the given counts, as a PyTorch file would hold them. */
async function weightsWith(path: string, counts: Record<string, StoredTensor>): Promise<void> {
  const model = await newModel();
  try {
    const tensors = await stateDict(model);
    for (const [name, t] of Object.entries(counts)) tensors.set(name, t);
    writeCheckpoint(path, tensors, { format: 'pt' });
  } finally {
    await model.dispose();
  }
}

const count = (n: bigint): StoredTensor => ({ dtype: 'I64', shape: [], data: BigInt64Array.of(n) });

describe('num_batches_tracked', () => {
  it('counts on from loaded weights, per layer, and through --save / --resume', async () => {
    const init = join(dir, 'init.safetensors');
    await weightsWith(init, { 'bn1.num_batches_tracked': count(1234n), 'bn2.num_batches_tracked': count(7n) });
    const model = await newModel();
    try {
      setWeights(model, readWeights(model.compiled.graph, init));
      expect(await tracked(model)).toEqual({ 'bn1.num_batches_tracked': 1234n, 'bn2.num_batches_tracked': 7n });
      trainSteps(model, 3);
      expect(await tracked(model)).toEqual({ 'bn1.num_batches_tracked': 1237n, 'bn2.num_batches_tracked': 10n });
      // The optimizer's own step count starts afresh, as a new torch.optim optimizer's does.
      expect(model.steps).toBe(3);
      // A partial batch's sibling model counts too.
      (await model.withBatch(BATCH - 1)).trainStep(new Float32Array((BATCH - 1) * 32), new Int32Array(BATCH - 1));
      expect(await tracked(model)).toEqual({ 'bn1.num_batches_tracked': 1238n, 'bn2.num_batches_tracked': 11n });

      const saved = join(dir, 'run.safetensors');
      await saveRun(model, saved, {
        epoch: 1,
        seed: 1,
        batch: BATCH,
        shuffle: false,
        history: [],
        stepHistory: [],
        position: null,
      });
      const resumed = await newModel();
      try {
        applyRun(resumed, readRun(saved, resumed.compiled.graph));
        expect(resumed.steps).toBe(4);
        expect(await tracked(resumed)).toEqual({ 'bn1.num_batches_tracked': 1238n, 'bn2.num_batches_tracked': 11n });
        trainSteps(resumed, 2);
        expect(await tracked(resumed)).toEqual({ 'bn1.num_batches_tracked': 1240n, 'bn2.num_batches_tracked': 13n });
      } finally {
        await resumed.dispose();
      }
    } finally {
      await model.dispose();
    }
  });

  it('is the step count for a model that loaded nothing', async () => {
    const model = await newModel();
    try {
      trainSteps(model, 2);
      expect(await tracked(model)).toEqual({ 'bn1.num_batches_tracked': 2n, 'bn2.num_batches_tracked': 2n });
    } finally {
      await model.dispose();
    }
  });

  it('must be an integer in the file', async () => {
    const path = join(dir, 'float-count.safetensors');
    await weightsWith(path, { 'bn2.num_batches_tracked': { dtype: 'F32', shape: [], data: Float32Array.of(3) } });
    const model = await newModel();
    try {
      expect(() => readWeights(model.compiled.graph, path)).toThrow(CheckpointError);
      expect(() => readWeights(model.compiled.graph, path)).toThrow(
        `${path}: tensor bn2.num_batches_tracked is F32, expected I64 (a count of batches)`,
      );
    } finally {
      await model.dispose();
    }
  });
});
