// train.py --image-folder ROOT (`cnnc export --torch-train`): the user's own images, one folder per
// class (sorted names -> labels, as torchvision's ImageFolder), converted to the model's channels and
// resized to its input. The images are written here by Pillow: 3 classes of distinct patterns, some
// 28 x 28 grayscale, some 40 x 30 RGB (so conversion and resizing both run). A LeNet with 3 outputs
// trains on them with Debian's PyTorch, its loss is finite and its checkpoint pair is one that
// `cnnc train --resume` accepts (readRun); bad folders are one line on stderr and exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { readRun } from '../../runtime/train/resume.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { root } from './exported.ts';
import { python, run } from './torch-train.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-image-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = join(dir, 'lenet3');
let file: string;

/** ROOT/<class>/<i>.png for the classes given: stripes across, stripes down, a checkerboard. */
function images(at: string, classes: readonly string[]): void {
  const script = `import os, sys
import numpy as np
from PIL import Image
at, classes = sys.argv[1], sys.argv[2].split(',')
patterns = {'across': lambda y, x: y % 4 < 2, 'down': lambda y, x: x % 4 < 2, 'checker': lambda y, x: (y // 4 + x // 4) % 2 == 0}
for name in classes:
    os.makedirs(os.path.join(at, name), exist_ok=True)
    for i in range(4):
        h, w = (28, 28) if i % 2 == 0 else (30, 40)
        y, x = np.mgrid[0:h, 0:w]
        on = patterns[name](y + i, x).astype(np.uint8) * (200 + 10 * i)
        img = Image.fromarray(on, 'L') if i % 2 == 0 else Image.fromarray(np.stack([on, on // 2, on], -1), 'RGB')
        img.save(os.path.join(at, name, f'{i}.png'))`;
  run(['-c', script, at, classes.join(',')], dir);
}

function train(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(python, ['train.py', ...args], {
    cwd: out,
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
}

beforeAll(async () => {
  const text = readFileSync(join(root, 'dsl-examples', 'lenet.cnn'), 'utf8');
  const three = text.replace('model LeNet(num_classes = 10)', 'model LeNet(num_classes = 3)');
  if (three === text)
    throw new Error('dsl-examples/lenet.cnn no longer says `model LeNet(num_classes = 10)`: update this test');
  file = join(dir, 'lenet3.cnn');
  writeFileSync(file, three);
  const r = await cnncInProcess('export', file, '--torch-train', out);
  expect([r.code, r.stderr]).toEqual([0, '']);
  images(join(dir, 'flat'), ['across', 'down', 'checker']);
  images(join(dir, 'split', 'train'), ['across', 'down', 'checker']);
  images(join(dir, 'split', 'test'), ['across', 'down', 'checker']);
  images(join(dir, 'two'), ['across', 'down']);
  mkdirSync(join(dir, 'empty'));
  images(join(dir, 'broken'), ['across', 'down', 'checker']);
  writeFileSync(join(dir, 'broken', 'down', '9.png'), 'not a png');
}, 60_000);

const finite = (text: string, key: string): number[] =>
  [...text.matchAll(new RegExp(`${key} (\\S+)`, 'g'))].map((m) => Number(m[1]));

describe('train.py --image-folder', () => {
  it('trains on ROOT/<class>/*.png and saves the pair cnnc resumes', () => {
    const weights = join(dir, 'flat.safetensors');
    const r = train(['--image-folder', join(dir, 'flat'), '--epochs', '2', '--batch-size', '4', '--save', weights]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('on 12 samples');
    const losses = finite(r.stdout, 'train_loss');
    expect(losses).toHaveLength(2);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
    expect(r.stdout).not.toContain('val_acc'); // no ROOT/train: nothing validates
    expect(existsSync(join(dir, 'flat.optim.safetensors'))).toBe(true);
    const saved = readRun(weights, analyze(file, readFileSync(file, 'utf8')).shaped!);
    expect({ steps: saved.steps, epoch: saved.epoch, batch: saved.batch }).toEqual({ steps: 6, epoch: 2, batch: 4 });
  }, 60_000);

  it('validates on ROOT/test when ROOT has train and test folders', () => {
    const r = train(['--image-folder', join(dir, 'split'), '--epochs', '1', '--batch-size', '4']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const [acc] = finite(r.stdout, 'val_acc');
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    expect(finite(r.stdout, 'val_loss').every(Number.isFinite)).toBe(true);
  }, 60_000);

  it.each([
    ['a folder without class subfolders', 'empty', /^train.py: --image-folder .*empty: no class subfolders/],
    [
      'a class count other than the outputs',
      'two',
      /^train.py: --image-folder .*two: 2 classes \(across, down\), but LeNet has 3 outputs\n$/,
    ],
    ['an unreadable image', 'broken', /^train.py: .*broken\/down\/9.png: not a readable image /],
  ])(
    'refuses %s: one line, exit 1',
    (_, folder, message) => {
      const r = train(['--image-folder', join(dir, folder), '--steps', '1']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    },
    60_000,
  );
});
