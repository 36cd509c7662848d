// `cnnc weights`: checkpoints written with writeCheckpoint into a temp dir, printed in process.
// Tensor layout is PyTorch's (tests/format/torch-print.test.ts checks it against PyTorch); here
// the header, the stats line (float64 min/max/mean/unbiased std, as torch.std), --name, --json and
// the errors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCheckpoint, type StoredTensor } from '../../runtime/train/checkpoint.ts';
import { compareNames, nameMatcher } from '../../runtime/cli/weights.ts';
import { cnncInProcess } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-weights-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const f32 = (shape: number[], values: number[]): StoredTensor => ({
  dtype: 'F32',
  shape,
  data: Float32Array.from(values),
});

const weights = join(tmp, 'w.safetensors');
writeCheckpoint(
  weights,
  new Map<string, StoredTensor>([
    ['10.weight', f32([2, 2], [1, 2, 3, 4])],
    ['0.weight', f32([1, 1, 1, 2], [1.0014, -0.9776])],
    ['0.bias', f32([1], [0.25])],
    ['2.num_batches_tracked', { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) }],
  ]),
  { format: 'pt', model: 'Corr', steps: '20', epoch: '2' },
);

const optim = join(tmp, 'w.optim.safetensors');
writeCheckpoint(optim, new Map([['0.weight.momentum_buffer', f32([2], [0.5, Number.NaN])]]), {
  format: 'cnnc-optimizer',
  model: 'Corr',
  steps: '20',
  epoch: '2',
  epoch_batches: '3',
  epoch_samples: '3',
  epoch_loss_sum: '1.5',
  optimizer: 'sgd',
  lr: '0.03',
  momentum: '0.9',
  weight_decay: '0',
  seed: '0',
  batch: '1',
  shuffle: 'true',
  history: '[]',
  pair: 'p1',
});

describe('cnnc weights', () => {
  it('prints the header and every tensor in state_dict-like order, PyTorch-style, with its stats', async () => {
    const r = await cnncInProcess('weights', weights);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `${weights}: weights of model Corr, 4 tensors, 8 values`,
        '  step 20, epoch 2',
        '',
        '0.bias  float32 [1]  min 0.2500  max 0.2500  mean 0.2500  std nan',
        'tensor([0.2500])',
        '',
        '0.weight  float32 [1, 1, 1, 2]  min -0.9776  max 1.0014  mean 0.0119  std 1.3994',
        'tensor([[[[ 1.0014, -0.9776]]]])',
        '',
        '2.num_batches_tracked  int64 []  min 7  max 7',
        'tensor(7)',
        '',
        // std of 1..4, unbiased: sqrt(5/3) = 1.2910.
        '10.weight  float32 [2, 2]  min 1.  max 4.  mean 2.5000  std 1.2910',
        'tensor([[1., 2.],',
        '        [3., 4.]])',
        '',
      ].join('\n'),
    );
  });

  it("shows an optimizer file's step, epoch, position and settings", async () => {
    const r = await cnncInProcess('weights', optim);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      `${optim}: optimizer state of model Corr, 1 tensor, 2 values`,
      '  step 20, epoch 2, stopped after batch 3 of epoch 3',
      '  optimizer sgd, lr 0.03, momentum 0.9, weight_decay 0, seed 0, batch 1, shuffle true',
    ]);
    // NaN propagates through min, max, mean and std as in torch.
    expect(r.stdout).toContain(
      '0.weight.momentum_buffer  float32 [2]  min nan  max nan  mean nan  std nan\ntensor([0.5000,    nan])',
    );
  });

  it('--name takes a glob on the whole name, else a whole name, else a substring', async () => {
    const names = async (pattern: string) =>
      (await cnncInProcess('weights', weights, '--name', pattern)).stdout
        .split('\n')
        .filter((l) => l.includes('  min '))
        .map((l) => l.split(' ')[0]);
    expect(await names('0.')).toEqual(['0.bias', '0.weight', '10.weight']);
    expect(await names('0.weight')).toEqual(['0.weight']);
    expect(await names('.weight')).toEqual(['0.weight', '10.weight']);
    expect(await names('0.*')).toEqual(['0.bias', '0.weight']);
    expect(await names('[12]*')).toEqual(['2.num_batches_tracked', '10.weight']);
    expect(await names('*.weight')).toEqual(['0.weight', '10.weight']);
  });

  it('--json gives stats and values; float32 values as their shortest decimal, NaN as a string', async () => {
    const r = await cnncInProcess('weights', optim, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      file: string;
      metadata: Record<string, string>;
      tensors: Record<string, unknown>[];
    };
    expect(j.file).toBe(optim);
    expect(j.metadata.optimizer).toBe('sgd');
    expect(j.tensors).toEqual([
      {
        name: '0.weight.momentum_buffer',
        dtype: 'float32',
        shape: [2],
        numel: 2,
        min: 'nan',
        max: 'nan',
        mean: 'nan',
        std: 'nan',
        values: [0.5, 'nan'],
      },
    ]);
    const w = JSON.parse((await cnncInProcess('weights', weights, '--json', '--name', '*0.weight')).stdout) as {
      tensors: Record<string, unknown>[];
    };
    expect(w.tensors.map((t) => [t.name, t.min, t.max, t.values])).toEqual([
      ['0.weight', -0.9776, 1.0014, [1.0014, -0.9776]],
      ['10.weight', 1, 4, [1, 2, 3, 4]],
    ]);
  });

  it('refuses a missing file, a corrupt file and a pattern nothing matches: exit 1, one plain line', async () => {
    const missing = await cnncInProcess('weights', join(tmp, 'none.safetensors'));
    expect([missing.code, missing.stderr]).toEqual([
      1,
      `cnnc: cannot read ${join(tmp, 'none.safetensors')}: no such file or directory\n`,
    ]);
    const bad = join(tmp, 'bad.safetensors');
    writeFileSync(bad, 'not a checkpoint at all');
    const corrupt = await cnncInProcess('weights', bad);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(
      new RegExp(`^cnnc: ${bad} @ byte 0: header length \\d+ runs past the end of the file \\(23 bytes\\)\\n$`),
    );
    const none = await cnncInProcess('weights', weights, '--name', 'conv');
    expect([none.code, none.stdout]).toEqual([1, '']);
    expect(none.stderr).toBe(
      `cnnc: no tensor of ${weights} matches 'conv' (it holds 0.bias, 0.weight, 2.num_batches_tracked, 10.weight)\n`,
    );
    const noFile = await cnncInProcess('weights');
    expect([noFile.code, noFile.stderr]).toEqual([1, "cnnc: 'weights' needs a .safetensors FILE\n"]);
  });
});

describe('cnnc weights on a checkpoint PyTorch wrote', () => {
  // tests/fixtures/torch/checkpoint.safetensors (tests/fixtures/gen/checkpoint.py) against torch's own
  // repr and statistics of its tensors (tests/fixtures/gen/tensor_print.py): reprs byte for byte;
  // statistics rtol 1e-6 (cnnc's are float64, torch's float32 mean/std of float32 values).
  const file = 'tests/fixtures/torch/checkpoint.safetensors';
  const torch = (
    JSON.parse(readFileSync('tests/fixtures/torch/tensor-print.json', 'utf8')) as {
      checkpoint: Record<string, { repr: string; min: number; max: number; mean?: number; std?: number }>;
    }
  ).checkpoint;

  it('prints every tensor as PyTorch does', async () => {
    const r = await cnncInProcess('weights', file);
    expect(r.code).toBe(0);
    // A 4-D tensor's repr has blank lines too, but its lines after the first start with spaces.
    const blocks = r.stdout
      .trimEnd()
      .split(/\n\n(?=\S)/)
      .slice(1);
    const printed = Object.fromEntries(blocks.map((b) => [b.slice(0, b.indexOf(' ')), b.slice(b.indexOf('\n') + 1)]));
    expect(printed).toEqual(Object.fromEntries(Object.entries(torch).map(([name, t]) => [name, t.repr])));
  });

  it("gives torch's min, max, mean and unbiased std", async () => {
    const j = JSON.parse((await cnncInProcess('weights', file, '--json')).stdout) as {
      tensors: { name: string; min: number; max: number; mean: number | null; std: number | null }[];
    };
    expect(j.tensors.map((t) => t.name).sort()).toEqual(Object.keys(torch).sort());
    for (const t of j.tensors) {
      const want = torch[t.name]!;
      // min and max are stored float32 values, in JSON as the shortest decimal that reads back as them.
      expect([Math.fround(t.min), Math.fround(t.max)]).toEqual([want.min, want.max]);
      for (const k of ['mean', 'std'] as const) {
        if (want[k] === undefined) expect(t[k]).toBeNull();
        else expect(Math.abs(t[k]! - want[k]!)).toBeLessThanOrEqual(1e-6 * Math.abs(want[k]!) + 1e-9);
      }
    }
  });
});

describe('names', () => {
  it('sorts dotted names part by part, numbers as numbers and before words', () => {
    expect(
      ['10.weight', '2.bias', '1.0.weight', '1.10.weight', '1.2.weight', 'fc.weight', '1.weight', '1.2'].sort(
        compareNames,
      ),
    ).toEqual(['1.0.weight', '1.2', '1.2.weight', '1.10.weight', '1.weight', '2.bias', '10.weight', 'fc.weight']);
  });
  it('matches globs as fnmatch does, with regex characters literal', () => {
    const glob = (pattern: string, name: string) => nameMatcher(pattern, [])(name);
    expect(glob('[!0]*', '10.weight')).toBe(true);
    expect(glob('[!0]*', '0.weight')).toBe(false);
    expect(glob('?.bias', '0.bias')).toBe(true);
    expect(glob('?.bias', '0xbias')).toBe(false);
    expect(glob('a(b)+*', 'a(b)+c')).toBe(true);
    expect(glob('[x', '[x')).toBe(true);
    expect(glob('b.w', 'ab.wc')).toBe(true);
  });
});
