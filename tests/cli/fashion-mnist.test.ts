// A short real training run, as CI can afford on lavapipe: LeNet (ReLU variant) on Fashion-MNIST
// for 200 steps of batch 128 through the CLI. The loss must fall well below ln(10) = 2.303 (a
// random 10-class guess) and the held-out accuracy must be far above chance. Its --plot draws
// train_loss per group of 4 steps (200 steps: 50 points) and the partial epoch's validation where
// the run stopped.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { cnnc } from '../helpers/cli.ts';

it('trains LeNet on Fashion-MNIST: 200 steps bring the loss down and val accuracy up', { timeout: 300_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cnnc-fmnist-'));
  onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
  const log = join(tmp, 'log.jsonl');
  const plot = join(tmp, 'curves.svg');
  const r = cnnc(
    'train',
    'dsl-examples/lenet-relu.cnn',
    '--epochs',
    '1',
    '--steps',
    '200',
    '--json-log',
    log,
    '--plot',
    plot,
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^epoch 1\/1 {2}train_loss [\d.]+ {2}val_loss [\d.]+ {2}val_acc [\d.]+/m);
  const [epoch] = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { steps: number; trainLoss: number; valLoss: number; valAcc: number });
  expect(epoch!.steps).toBe(200);
  expect(epoch!.trainLoss).toBeLessThan(1.6);
  expect(epoch!.valLoss).toBeLessThan(1.0);
  expect(epoch!.valAcc).toBeGreaterThan(0.6);
  const svg = readFileSync(plot, 'utf8');
  const line = (name: string): number[][] =>
    new RegExp(`<polyline class="${name}" points="([^"]*)"`)
      .exec(svg)![1]!
      .split(' ')
      .map((p) => p.split(',').map(Number));
  const steps = line('train_loss');
  expect(steps).toHaveLength(50);
  // SVG y grows downwards: the loss of the last 4 steps is below that of the first 4.
  expect(steps.at(-1)![1]!).toBeGreaterThan(steps[0]![1]!);
  expect(line('val_acc')).toHaveLength(1);
  expect(line('val_acc')[0]![0]).toBe(steps.at(-1)![0]);
});
