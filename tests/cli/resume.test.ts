// `cnnc train --save` then `--resume`: training stopped after 3 epochs and resumed for 3 more must
// be the uninterrupted 6-epoch run, step for step (same losses, same final weights and optimizer
// state), for SGD with momentum and for Adam, whose state would otherwise restart from zero; and
// on shuffled multi-batch data, the resumed epochs must see the uninterrupted run's sample order.
// The --plot curves of the resumed run cover every epoch. A run stopped by --steps inside an epoch
// resumes at its next batch.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cnnc } from '../helpers/cli.ts';
import { writeNpy } from '../helpers/npy.ts';
import { readCheckpoint, writeCheckpoint } from '../../runtime/train/checkpoint.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string): string => join(tmp, name);

function train(model: string, ...args: string[]): string {
  const r = cnnc('train', model, ...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

const losses = (log: string): number[] =>
  readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { trainLoss: number }).trainLoss);

function expectSameTensors(a: string, b: string): void {
  const [x, y] = [readCheckpoint(a).tensors, readCheckpoint(b).tensors];
  expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
  for (const [name, t] of x) {
    const u = y.get(name)!;
    expect(u.shape).toEqual(t.shape);
    Array.from(t.data as Float32Array).forEach((v, i) =>
      expect(Math.abs(v - (u.data as Float32Array)[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-6),
    );
  }
}

/** Trains `epochs` straight and `half` + resume; returns the runs' file stems and a copy of the stopped run. */
function stopAndResume(
  model: string,
  id: string,
  epochs: number,
  half: number,
  flags: string[],
): { full: string; part: string; stopped: string } {
  const [full, part, stopped] = [at(`${id}-full`), at(`${id}-part`), at(`${id}-stopped`)];
  train(model, '--epochs', String(epochs), ...flags, '--save', `${full}.safetensors`, '--json-log', `${full}.jsonl`);
  train(model, '--epochs', String(half), ...flags, '--save', `${part}.safetensors`, '--json-log', `${part}.jsonl`);
  for (const ext of ['.safetensors', '.optim.safetensors']) copyFileSync(part + ext, stopped + ext);
  // The saved run's settings (optimizer, seed, batch) are the defaults of the resumed one.
  const out = train(
    model,
    '--epochs',
    String(epochs),
    '--resume',
    `${part}.safetensors`,
    '--save',
    `${part}.safetensors`,
    '--json-log',
    `${part}.jsonl`,
    '--plot',
    `${part}.svg`,
  );
  expect(out).toContain(`resuming from ${part}.safetensors after epoch ${half}`);
  expect(out).toContain(`epoch ${half + 1}/${epochs}`);
  // The curves drawn after resuming start at epoch 1: the saved run keeps its history.
  const curve = /<polyline class="train_loss" points="([^"]*)"/.exec(readFileSync(`${part}.svg`, 'utf8'))!;
  expect(curve[1]!.split(' ')).toHaveLength(epochs);
  expect(existsSync(`${part}.png`)).toBe(true);
  return { full, part, stopped };
}

describe('cnnc train --resume', () => {
  it.each([
    ['sgd with momentum', ['--optimizer', 'sgd', '--momentum', '0.9'], ['0.weight.momentum_buffer']],
    ['adam', ['--optimizer', 'adam'], ['0.weight.exp_avg', '0.weight.exp_avg_sq']],
  ])('%s: 3 epochs + 3 resumed equal 6 straight', (_, flags, state) => {
    const { full, part, stopped } = stopAndResume('dsl-examples/corr2d.cnn', flags[1]!, 6, 3, flags);
    expect(losses(`${part}.jsonl`)).toEqual(losses(`${full}.jsonl`));
    expectSameTensors(`${part}.safetensors`, `${full}.safetensors`);
    expectSameTensors(`${part}.optim.safetensors`, `${full}.optim.safetensors`);
    const optim = readCheckpoint(`${full}.optim.safetensors`);
    expect([...optim.tensors.keys()].sort()).toEqual(state);
    expect(optim.metadata).toMatchObject({ steps: '6', epoch: '6', optimizer: flags[1], seed: '0' });
    // The weights file stays a plain state_dict: nothing but the model's tensors.
    expect([...readCheckpoint(`${full}.safetensors`).tensors.keys()]).toEqual(['0.weight']);
    // Control: the stopped run's weights alone, without its optimizer state, do not continue it.
    const log = at(`${flags[1]}-control.jsonl`);
    train('dsl-examples/corr2d.cnn', '--epochs', '3', ...flags, '--init', `${stopped}.safetensors`, '--json-log', log);
    expect(losses(log)).not.toEqual(losses(`${full}.jsonl`).slice(3));
  });

  it('continues with the shuffle order of the uninterrupted run', () => {
    // Six samples in batches of 2: three steps per epoch whose order the shuffle decides.
    const npy = (name: string, shape: number[], data: Float32Array): void => writeNpy(at(name), shape, data);
    npy(
      'x.npy',
      [6, 1, 6, 8],
      Float32Array.from({ length: 288 }, (_, i) => Math.sin(i * 0.7)),
    );
    npy(
      'y.npy',
      [6, 1, 6, 7],
      Float32Array.from({ length: 252 }, (_, i) => Math.cos(i * 0.3)),
    );
    const model = at('shuffled.cnn');
    writeFileSync(
      model,
      'model Edges {\n  input [1, 6, 8]\n  conv(1, kernel = (1, 2))\n}\n' +
        'train {\n  data npy(inputs = "x.npy", targets = "y.npy")\n  loss mse_mean\n  optimizer sgd(lr = 0.1, momentum = 0.5)\n  batch 2  seed 7\n}\n',
    );
    const { full, part, stopped } = stopAndResume(model, 'shuffled', 4, 2, []);
    expect(losses(`${part}.jsonl`)).toEqual(losses(`${full}.jsonl`));
    expectSameTensors(`${part}.safetensors`, `${full}.safetensors`);
    // Control: another seed's order for the resumed epochs gives another run.
    const log = at('reseeded.jsonl');
    writeFileSync(log, '');
    train(model, '--epochs', '4', '--resume', `${stopped}.safetensors`, '--seed', '8', '--json-log', log);
    expect(losses(log)).not.toEqual(losses(`${full}.jsonl`).slice(2));
  });
});

describe('cnnc train --steps inside an epoch, then --resume', () => {
  it('continues that epoch at the next batch: the same weights, optimizer state and epoch losses as the run never stopped', () => {
    // Seven samples in batches of 2: four steps an epoch, the last of one sample, in shuffled order.
    const npy = (name: string, shape: number[], data: Float32Array): void => writeNpy(at(name), shape, data);
    npy(
      'x7.npy',
      [7, 1, 6, 8],
      Float32Array.from({ length: 336 }, (_, i) => Math.sin(i * 0.9)),
    );
    npy(
      'y7.npy',
      [7, 1, 6, 7],
      Float32Array.from({ length: 294 }, (_, i) => Math.cos(i * 0.2)),
    );
    const model = at('mid.cnn');
    writeFileSync(
      model,
      'model Edges {\n  input [1, 6, 8]\n  conv(1, kernel = (1, 2))\n}\n' +
        'train {\n  data npy(inputs = "x7.npy", targets = "y7.npy")\n  loss mse_mean\n  optimizer adam(lr = 0.05)\n  batch 2  seed 3  epochs 3\n}\n',
    );
    const [full, part] = [at('mid-full'), at('mid-part')];
    train(model, '--save', `${full}.safetensors`, '--json-log', `${full}.jsonl`);
    const flags = ['--save', `${part}.safetensors`, '--json-log', `${part}.jsonl`];
    // Step 5 is epoch 2's first batch; step 10 epoch 3's second; a stopped run resumed stops again.
    const first = train(model, '--steps', '5', ...flags);
    expect(first).toMatch(/^epoch 2\/3 {2}train_loss [\d.]+ .*\(--steps: stopped after batch 1 of 4\)$/m);
    for (const ext of ['.safetensors', '.optim.safetensors']) copyFileSync(part + ext, at(`mid-stopped${ext}`));
    expect(readCheckpoint(`${part}.optim.safetensors`).metadata).toMatchObject({
      steps: '5',
      epoch: '1',
      epoch_samples: '2',
      epoch_batches: '1',
    });
    const second = train(model, '--resume', `${part}.safetensors`, '--steps', '10', ...flags);
    expect(second).toContain(`resuming from ${part}.safetensors inside epoch 2, after 2 of its 7 samples (step 5)`);
    expect(second).toContain('(--steps: stopped after batch 2 of 4)');
    train(model, '--resume', `${part}.safetensors`, ...flags);
    expectSameTensors(`${part}.safetensors`, `${full}.safetensors`);
    expectSameTensors(`${part}.optim.safetensors`, `${full}.optim.safetensors`);
    // Each stop logs its partial epoch; the whole epochs' losses are the uninterrupted run's, exactly
    // (the resumed epoch's loss sum continues the saved float32 sum).
    const log = readFileSync(`${part}.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { epoch: number; trainLoss: number; partial?: unknown });
    expect(log.map((r) => `${r.epoch}${r.partial ? ' partial' : ''}`)).toEqual([
      '1',
      '2 partial',
      '2',
      '3 partial',
      '3',
    ]);
    expect(log.filter((r) => !r.partial).map((r) => r.trainLoss)).toEqual(losses(`${full}.jsonl`));
    expect(JSON.parse(readCheckpoint(`${part}.optim.safetensors`).metadata.history!)).toHaveLength(3);

    // --steps counts the saved run's steps: at or below them there is nothing to do.
    const stopped = at('mid-stopped.safetensors');
    for (const steps of ['5', '3']) {
      const r = cnnc('train', model, '--resume', stopped, '--steps', steps);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `cnnc: --steps ${steps}: the saved run has done 5 steps already; --steps counts them too\n`,
      );
    }
    // The rest of the epoch is the rest of the saved seed's order: another seed is refused.
    const reseeded = cnnc('train', model, '--resume', stopped, '--seed', '4');
    expect(reseeded.code).toBe(1);
    expect(reseeded.stderr).toContain(`${stopped} stopped inside epoch 2, whose sample order its seed 3 decides`);
  });
});

describe('cnnc train --plot with --steps', () => {
  it('draws train_loss per step at fractional epochs, and a stopped and resumed run redraws the whole curve', () => {
    // Seven samples in batches of 2: four steps an epoch.
    const npy = (name: string, shape: number[], data: Float32Array): void => writeNpy(at(name), shape, data);
    npy(
      'xp.npy',
      [7, 1, 6, 8],
      Float32Array.from({ length: 336 }, (_, i) => Math.sin(i * 0.4)),
    );
    npy(
      'yp.npy',
      [7, 1, 6, 7],
      Float32Array.from({ length: 294 }, (_, i) => Math.cos(i * 0.7)),
    );
    const model = at('plot.cnn');
    writeFileSync(
      model,
      'model Edges {\n  input [1, 6, 8]\n  conv(1, kernel = (1, 2))\n}\n' +
        'train {\n  data npy(inputs = "xp.npy", targets = "yp.npy")\n  loss mse_sum\n  optimizer sgd(lr = 0.01)\n  batch 2  seed 5  epochs 2\n}\n',
    );
    const curve = (svg: string): string =>
      /<polyline class="train_loss" points="([^"]*)"/.exec(readFileSync(svg, 'utf8'))![1]!;
    const [full, part] = [at('plot-full'), at('plot-part')];
    train(model, '--steps', '6', '--plot', `${full}.svg`, '--save', `${full}.safetensors`);
    train(model, '--steps', '3', '--plot', `${part}.svg`, '--save', `${part}.safetensors`);
    expect(curve(`${part}.svg`).split(' ')).toHaveLength(3);
    train(
      model,
      '--steps',
      '6',
      '--resume',
      `${part}.safetensors`,
      '--plot',
      `${part}.svg`,
      '--save',
      `${part}.safetensors`,
    );
    // One point per step, at the end of its batch: 4 batches an epoch.
    const points = JSON.parse(readCheckpoint(`${full}.optim.safetensors`).metadata.step_history!) as {
      epoch: number;
      trainLoss: number;
    }[];
    expect(points.map((p) => p.epoch)).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5]);
    expect(curve(`${full}.svg`).split(' ')).toHaveLength(6);
    expect(readCheckpoint(`${part}.optim.safetensors`).metadata.step_history).toBe(
      readCheckpoint(`${full}.optim.safetensors`).metadata.step_history,
    );
    expect(readFileSync(`${part}.svg`, 'utf8')).toBe(readFileSync(`${full}.svg`, 'utf8'));
  });
});

describe('cnnc train --resume refuses', () => {
  const weights = at('w.safetensors');
  writeCheckpoint(
    weights,
    new Map([['0.weight', { dtype: 'F32', shape: [1, 1, 1, 2], data: Float32Array.of(0.5, -0.5) }]]),
    { model: 'Corr2d', steps: '3' },
  );
  const meta = {
    model: 'Corr2d',
    steps: '3',
    epoch: '3',
    optimizer: 'sgd',
    lr: '0.03',
    momentum: '0.9',
    weight_decay: '0',
    seed: '0',
    batch: '1',
    shuffle: 'true',
    history: '[]',
  };

  it.each([
    ['a missing optimizer file', {}, null, 'the optimizer state that --save writes beside it, does not exist'],
    ['another model', { ...meta, model: 'LeNet' }, [], 'holds the training state of model LeNet, not Corr2d'],
    ['a malformed step count', { ...meta, steps: 'three' }, [], "metadata steps is 'three', expected a count"],
    ['weights from another step', { ...meta, steps: '4' }, [], 'were not saved together'],
    ['a wrong state shape', meta, [2], 'tensor 0.weight.momentum_buffer has shape [2], the model expects [1, 1, 1, 2]'],
  ])('%s', (name, metadata, shape, message) => {
    const stem = at(name.replace(/ /g, '-'));
    copyFileSync(weights, `${stem}.safetensors`);
    if (shape)
      writeCheckpoint(
        `${stem}.optim.safetensors`,
        new Map([
          [
            '0.weight.momentum_buffer',
            { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
          ],
        ]),
        metadata,
      );
    const r = cnnc('train', 'dsl-examples/corr2d.cnn', '--epochs', '6', '--resume', `${stem}.safetensors`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(stem);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
