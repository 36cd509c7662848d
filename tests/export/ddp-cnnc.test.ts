// The round trip between train.py (`cnnc export --torch-train`) and cnnc, through the checkpoint
// pair: 20 PyTorch steps of LeNet-ReLU (momentum 0.9, so the optimizer file holds state) saved by
// the script; `cnnc eval --weights` on them gives the script's own test accuracy (within 2 of
// 10000 samples: float32 forward passes summed in another order may flip a near tie; loss rtol
// 1e-4); `cnnc train --resume` continues it inside epoch 1 from step 20 to 25, and the script
// resumes cnnc's save from 25 to 30.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc } from '../helpers/cli.ts';
import { run, withMomentum } from './torch-train.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-ddp-cnnc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  console.log(`after 20 PyTorch steps: PyTorch ${torchCorrect}/10000 loss ${torchLoss}, cnnc eval ${Math.round(acc * samples)}/10000 loss ${loss}`);
  expect(Math.abs(Math.round(acc * samples) - torchCorrect)).toBeLessThanOrEqual(2);
  // The script prints the loss to 4 decimals.
  expect(Math.abs(loss - torchLoss)).toBeLessThanOrEqual(5e-5 + 1e-4 * torchLoss);

  const resumed = cnnc('train', file, '--resume', w, '--steps', '25', '--save', w2);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain(`resuming from ${w} inside epoch 1, after 2560 of its 60000 samples (step 20)`);
  expect(readCheckpoint(w2).metadata).toMatchObject({ steps: '25', epoch: '0' });
  expect(readCheckpoint(w2.replace(/\.safetensors$/, '.optim.safetensors')).metadata).toMatchObject({ steps: '25', epoch_samples: '3200', epoch_batches: '25' });

  run(['train.py', '--resume', w2, '--steps', '30', '--save', w3], out);
  expect(readCheckpoint(w3).metadata).toMatchObject({ steps: '30', epoch: '0' });
  expect(readCheckpoint(w3.replace(/\.safetensors$/, '.optim.safetensors')).metadata).toMatchObject({ steps: '30', epoch_samples: '3840', epoch_batches: '30' });
}, 300_000);
