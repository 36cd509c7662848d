// `cnnc run`'s input and flag errors (exit 1, naming the flag or tensor and both shapes), all
// found before any GPU work, and `cnnc train`'s refusal of frozen fixed weights. The outputs of
// `run` are tested on the notes' examples in tests/seeds/values.test.ts (GPU set).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../runtime/data/npy.ts';
import { cnncInProcess } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const edgeSource = `X = ones(6, 8)
X[:, 2:6] = 0
XT = transpose(X)
K = [[1.0, -1.0]]
model Edge {
  input [1, 6, 8]
  conv(1, kernel = (1, 2), bias = false, weight = K)
}
train {
  data tensors(inputs = X, targets = X)
  loss mse_sum
}
`;
const edge = file('edge.cnn', edgeSource);

describe('cnnc run', () => {
  it.each([
    [
      'a tensor of another shape',
      ['--input-tensor', 'XT'],
      /^cnnc: tensor `XT` is \[8, 6\]; the model's input is \[1, 6, 8\] per sample/,
    ],
    [
      'an unknown tensor',
      ['--input-tensor', 'Q'],
      /^cnnc: --input-tensor Q: the file defines no tensor `Q` \(its tensors: X, XT, K\)/,
    ],
    ['an unknown tensor to print', ['--tensor', 'Q'], /^cnnc: --tensor Q: the file defines no tensor `Q`/],
    ['two inputs', ['--input-tensor', 'X', '--npy', 'x.npy'], /^cnnc: give one input: /],
    ['--images without --index', ['--images', 'x.idx'], /^cnnc: --images and --index go together/],
    ['--index without --images', ['--index', '0'], /^cnnc: --images and --index go together/],
    ['an unknown layer', ['--layer', '3'], /^cnnc: --layer 3: model Edge has no layer `3` \(its layers: 0\)/],
    [
      '--out with two layers',
      ['--layer', '0', '--layer', '0', '--out', 'y.npy'],
      /^cnnc: --out writes one tensor: give one --layer with it \(got 2\)/,
    ],
  ])('refuses %s with exit 1', async (_what, args, want) => {
    const r = await cnncInProcess('run', edge, ...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(want);
  });

  it('refuses a file without a tensor X when no input is named', async () => {
    const path = file('none.cnn', 'model M {\n  input [1, 2, 2]\n  relu\n}\n');
    const r = await cnncInProcess('run', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--input-tensor X: the file defines no tensor `X` \(define one at the top level/);
  });

  it('prints a constant without running the model, squeezed or as its shape', async () => {
    expect((await cnncInProcess('run', edge, '--tensor', 'K')).stdout).toBe('tensor([[ 1., -1.]])\n');
    expect((await cnncInProcess('run', edge, '--tensor', 'K', '--squeeze')).stdout).toBe('tensor([ 1., -1.])\n');
    expect((await cnncInProcess('run', edge, '--tensor', 'XT', '--shape')).stdout).toBe('torch.Size([8, 6])\n');
    expect(JSON.parse((await cnncInProcess('run', edge, '--tensor', 'K', '--json')).stdout)).toEqual({
      shape: [1, 2],
      data: [1, -1],
    });
  });
});

describe('cnnc train with fixed weights', () => {
  it('refuses a frozen weight beside a trained bias, naming both and the ways out', async () => {
    const path = file('half.cnn', edgeSource.replace('bias = false, ', ''));
    const r = await cnncInProcess('train', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cnnc: 0\.weight is a frozen constant but 0\.bias is trained; .*`trainable = true`/);
  });
});

describe('cnnc run --out', () => {
  it('writes what it prints as a float32 .npy that numpy reads back (the header numpy.save writes)', async () => {
    const out = join(dir, 'k.npy');
    expect((await cnncInProcess('run', edge, '--tensor', 'K', '--squeeze', '--out', out)).code).toBe(0);
    const bytes = readFileSync(out);
    const header = bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString('latin1');
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }");
    expect((10 + header.length) % 64).toBe(0);
    expect([
      ...new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + header.length, bytes.byteOffset + bytes.length)),
    ]).toEqual([1, -1]);
    const round = readNpy(out);
    expect([...round.shape]).toEqual([2]);
  });

  it('refuses to write over the model', async () => {
    const r = await cnncInProcess('run', edge, '--tensor', 'K', '--out', edge);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out/);
  });
});
