// Batch norm trains on the N * H * W values of each channel and, as PyTorch (`Expected more than 1
// value per channel when training`), cannot train on one. `compile` and `train` used to exit 2 on it
// (`training batch norm needs more than 1 value per channel`, thrown by the kernel generator, also
// for a model compiled only to evaluate a last batch of 1). Now: E0307 at the layer when training
// at that batch; evaluation compiles at any batch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLimits } from '../../compiler/codegen/index.ts';
import { untrainableBatchNorms } from '../../compiler/shapes/infer.ts';
import { CompileError, compileModel } from '../../compiler/index.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { errors, shaped } from '../helpers/cnn.ts';

/** The errors (code@line:col) of compiling `source` to train at `batch`; the check runs on the kernels' batch. */
function trainingErrors(source: string, batch: number): string[] {
  try {
    compileModel(source, { batch, training: true, limits: defaultLimits });
    return [];
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return [...e.message.matchAll(/:(\d+):(\d+): error\[(E\d+)\]/g)].map((m) => `${m[3]}@${m[1]}:${m[2]}`);
  }
}

const dense = 'model M {\n  input [1, 2, 2]\n  flatten\n  linear(4) -> batchnorm\n  linear(3)\n}\n';
const pooled =
  'model M {\n  input [1, 4, 4]\n  conv(2, kernel = 3) -> batchnorm\n  global_avgpool -> batchnorm\n  flatten\n  linear(3)\n}\n';
const train = (batch: number): string =>
  `train {\n  data npy(inputs = "x.npy", targets = "y.npy")\n  loss cross_entropy\n  batch ${batch}  epochs 1\n}\n`;

describe('batch norm over 1 value per channel', () => {
  it('is E0307 at each such layer when training at that batch', () => {
    expect(trainingErrors(dense, 1)).toEqual(['E0307@4:16']);
    // conv's [1, 2, 2, 2] has 4 values per channel; after global pooling, [1, 2, 1, 1] has 1.
    expect(trainingErrors(pooled, 1)).toEqual(['E0307@4:21']);
  });

  it('trains at a batch of 2, and evaluates (and summarises) at 1', () => {
    expect(trainingErrors(dense, 2)).toEqual([]);
    expect(trainingErrors(pooled, 2)).toEqual([]);
    expect(errors(dense, { batch: 1 })).toEqual([]);
  });

  it('names the layers that cannot train at a batch size', () => {
    const g = shaped(pooled, { batch: 8 });
    expect(untrainableBatchNorms(g).map((n) => n.path)).toEqual([]);
    expect(untrainableBatchNorms(g, 1).map((n) => n.span.file.position(n.span.start).line)).toEqual([4]);
  });

  it('compiles the kernels of a batch of 1 for evaluation', () => {
    // What a validation split's last batch of 1 gets (the generator threw here before).
    const c = compileModel(dense, { batch: 1, limits: defaultLimits });
    expect(c.kernels.evaluate.length).toBeGreaterThan(0);
  });

  it('cnnc compile refuses a train section batch of 1, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-bn-'));
    try {
      const file = join(dir, 'bn.cnn');
      writeFileSync(file, dense + train(1));
      const r = await cnncInProcess('compile', file, '--emit', 'ir');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}:4:16: error[E0307]: batch norm cannot train on 1 value per channel`);
      expect(r.stderr).toContain('help: train with a batch of 2 or more');
      writeFileSync(file, dense + train(2));
      expect((await cnncInProcess('compile', file, '--emit', 'ir')).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
