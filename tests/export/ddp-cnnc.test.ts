// The round trip between train.py (`cnnc export --torch-train`) and cnnc, through the checkpoint
// pair: 20 PyTorch steps of LeNet-ReLU (momentum 0.9, so the optimizer file holds state) saved by
// the script; `cnnc eval --weights` on them gives the script's own test accuracy (within 2 of
// 10000 samples: float32 forward passes summed in another order may flip a near tie; loss rtol
// 1e-4); `cnnc train --resume` continues it inside epoch 1 from step 20 to 25, and the script
// resumes cnnc's save from 25 to 30. And one SGD step (momentum 0.9) of the exported module from
// the same weights on the same first batch (train.py orders samples as cnnc does) equals cnnc's
// step within tests/runtime/torch-train-step.test.ts's tolerance: every weight within rtol 1e-4,
// atol 1e-5, and the update (final - initial) within 1e-3 of the tensor's largest update plus
// 4 ulp of the weight.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc } from '../helpers/cli.ts';
import { run, withMomentum } from './torch-train.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-ddp-cnnc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("one SGD step of the exported module equals cnnc's", () => {
  const file = withMomentum(dir, 'lenet.cnn');
  const out = join(dir, 'step');
  expect(cnnc('export', file, '--torch-train', out).code).toBe(0);
  const [w0, torchStep, cnncStep] = ['w0', 't1', 'c1'].map((n) => join(dir, `${n}.safetensors`)) as [
    string,
    string,
    string,
  ];
  run(['train.py', '--steps', '0', '--save', w0], out);
  run(['train.py', '--init', w0, '--steps', '1', '--save', torchStep], out);
  const trained = cnnc('train', file, '--init', w0, '--steps', '1', '--save', cnncStep);
  expect(trained.code, trained.stderr).toBe(0);
  const [init, t, c] = [w0, torchStep, cnncStep].map((f) => readCheckpoint(f).tensors);
  let worst = 0;
  for (const [name, e] of t!) {
    const [w, a, x] = [init!.get(name)!.data, c!.get(name)!.data, e.data] as Float32Array[];
    const largest = Math.max(...x!.map((v, i) => Math.abs(v - w![i]!)));
    expect(largest, `${name} did not move`).toBeGreaterThan(0);
    for (let i = 0; i < x!.length; i++) {
      expect(Math.abs(a![i]! - x![i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(x![i]!));
      const off = Math.abs(a![i]! - w![i]! - (x![i]! - w![i]!));
      expect(off, `${name}[${i}]'s update`).toBeLessThanOrEqual(1e-3 * largest + 4 * 2 ** -23 * Math.abs(x![i]!));
      worst = Math.max(worst, off / largest);
    }
  }
  console.log(
    `one SGD step, cnnc against the exported module: largest update difference ${worst.toExponential(2)} of the tensor's largest update`,
  );
}, 300_000);

it('PyTorch -> cnnc eval and train --resume -> PyTorch --resume', () => {
  const file = withMomentum(dir, 'lenet-relu.cnn');
  const out = join(dir, 'lenet');
  const exported = cnnc('export', file, '--torch-train', out);
  expect([exported.code, exported.stderr]).toEqual([0, '']);
  const [w, w2, w3] = ['w', 'w2', 'w3'].map((n) => join(dir, `${n}.safetensors`)) as [string, string, string];

  const printed = run(['train.py', '--steps', '20', '--save', w], out);
  const m = /stopped at step 20: val_loss (\S+) val_acc \S+ \((\d+)\/10000\)/.exec(printed);
  expect(m, printed).not.toBeNull();
  const [torchLoss, torchCorrect] = [Number(m![1]), Number(m![2])];

  const evaluated = cnnc('eval', file, '--weights', w, '--json');
  expect(evaluated.code, evaluated.stderr).toBe(0);
  const { acc, loss, samples } = JSON.parse(evaluated.stdout) as { acc: number; loss: number; samples: number };
  expect(samples).toBe(10000);
  console.log(
    `after 20 PyTorch steps: PyTorch ${torchCorrect}/10000 loss ${torchLoss}, cnnc eval ${Math.round(acc * samples)}/10000 loss ${loss}`,
  );
  expect(Math.abs(Math.round(acc * samples) - torchCorrect)).toBeLessThanOrEqual(2);
  // The script prints the loss to 4 decimals.
  expect(Math.abs(loss - torchLoss)).toBeLessThanOrEqual(5e-5 + 1e-4 * torchLoss);

  const resumed = cnnc('train', file, '--resume', w, '--steps', '25', '--save', w2);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain(`resuming from ${w} inside epoch 1, after 2560 of its 60000 samples (step 20)`);
  expect(readCheckpoint(w2).metadata).toMatchObject({ steps: '25', epoch: '0' });
  expect(readCheckpoint(w2.replace(/\.safetensors$/, '.optim.safetensors')).metadata).toMatchObject({
    steps: '25',
    epoch_samples: '3200',
    epoch_batches: '25',
  });

  run(['train.py', '--resume', w2, '--steps', '30', '--save', w3], out);
  expect(readCheckpoint(w3).metadata).toMatchObject({ steps: '30', epoch: '0' });
  expect(readCheckpoint(w3.replace(/\.safetensors$/, '.optim.safetensors')).metadata).toMatchObject({
    steps: '30',
    epoch_samples: '3840',
    epoch_batches: '30',
  });
}, 300_000);
