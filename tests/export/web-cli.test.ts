// `cnnc export --web` without a GPU (it compiles for WebGPU's default limits and opens no device):
// the files it writes and how they fit together, and the input it refuses with exit 1 and a
// one-line message.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { compileModel } from '../../compiler/index.ts';
import type { WebManifest } from '../../runtime/export/web/format.ts';
import { webBundle } from '../../runtime/export/web/manifest.ts';
import { fnv1a } from '../../runtime/export/web/checksum.ts';
import { readCheckpoint, type StoredTensor, writeCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { LENET, SMALL_RESNET, seededWeights } from '../helpers/web-bundle.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-web-cli-'));
const weights = join(tmp, 'lenet.safetensors');
beforeAll(() => seededWeights(LENET, weights, 1));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const manifestOf = (dir: string): WebManifest => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));

describe('the bundle export --web writes', () => {
  const out = join(tmp, 'lenet', 'web');
  let manifest: WebManifest;
  beforeAll(async () => {
    const r = await cnncInProcess('export', LENET, '--web', out, '--weights', weights, '--batch-size', '4');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(
      /^wrote .*web: index\.js, model\.json, 7 kernels, weights\.bin \(0\.24 MiB from .*\); LeNet \[1, 28, 28\] -> 10 classes, batches of 4\n$/,
    );
    manifest = manifestOf(out);
  });

  it('places the input and the logits at the batch, and every binding inside its buffer', () => {
    expect([manifest.batch, manifest.inputShape, manifest.classes]).toEqual([4, [1, 28, 28], 10]);
    expect([manifest.input.size, manifest.output.size]).toEqual([4 * 784 * 4, 4 * 10 * 4]);
    const ranges = [manifest.input, manifest.output, ...manifest.tensors.map((t) => t.to)];
    for (const k of manifest.kernels) ranges.push(...k.bindings);
    for (const r of ranges) {
      expect(r.offset % 256).toBe(0);
      expect(r.offset + r.size).toBeLessThanOrEqual(manifest.buffers[r.buffer]!.size);
    }
  });

  it('writes each kernel as cnnc compiles it, with its header naming the .cnn line', () => {
    expect(readdirSync(join(out, 'kernels')).sort()).toEqual(manifest.kernels.map((k) => k.file.slice(8)).sort());
    for (const k of manifest.kernels) {
      const wgsl = readFileSync(join(out, k.file), 'utf8');
      expect(wgsl).toMatch(new RegExp(`^// kernel +${k.name} `));
      expect(wgsl).toContain('lenet.cnn:');
      expect(wgsl).not.toContain('enable subgroups');
    }
    expect(manifest.limits.subgroupMinSize).toBe(0);
  });

  it("writes every state_dict tensor into weights.bin, with the file's size and checksum", () => {
    const bin = readFileSync(join(out, 'weights.bin'));
    expect(bin.length).toBe(manifest.weights.bytes);
    expect(fnv1a(bin)).toBe(manifest.weights.checksum);
    expect(manifest.tensors.map((t) => t.name)).toEqual([
      '0.weight',
      '0.bias',
      '3.weight',
      '3.bias',
      '7.weight',
      '7.bias',
      '9.weight',
      '9.bias',
      '11.weight',
      '11.bias',
    ]);
  });

  it('writes an index.js that imports node: modules only dynamically, under Node', () => {
    const js = readFileSync(join(out, 'index.js'), 'utf8');
    expect(js).not.toMatch(/^\s*import\s[^(]*['"]node:/m);
    expect(js).toContain('import("node:fs/promises")');
    expect(js).toMatch(/^export \{[^}]*\bload\b[^}]*\}/m);
  });

  it('writes kernels for subgroups of 8+ lanes with --subgroups, and says so in the limits', async () => {
    const dir = join(tmp, 'subgroups');
    const r = await cnncInProcess('export', LENET, '--web', dir, '--weights', weights, '--subgroups');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const m = manifestOf(dir);
    expect(m.limits.subgroupMinSize).toBe(8);
    expect(m.kernels.some((k) => readFileSync(join(dir, k.file), 'utf8').includes('enable subgroups'))).toBe(true);
  });
});

it('warns of weights that are not finite, as predict does', async () => {
  const tensors = new Map<string, StoredTensor>(readCheckpoint(weights).tensors);
  const data = Float32Array.from(tensors.get('11.bias')!.data as Float32Array);
  data[0] = Number.NaN;
  tensors.set('11.bias', { dtype: 'F32', shape: [10], data });
  const nan = join(tmp, 'nan.safetensors');
  writeCheckpoint(nan, tensors);
  const r = await cnncInProcess('export', LENET, '--web', join(tmp, 'nan'), '--weights', nan);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe(
    `cnnc: warning: ${nan}: non-finite values (NaN or infinite) in 11.bias (1 of 10); the bundle will predict NaN\n`,
  );
});

describe('export --web refuses', () => {
  const refused = async (args: string[], message: string | RegExp): Promise<void> => {
    const r = await cnncInProcess('export', ...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    if (typeof message === 'string') expect(r.stderr).toBe(`cnnc: ${message}\n`);
    else expect(r.stderr).toMatch(message);
  };

  it('--web without --weights', async () => {
    await refused(
      [LENET, '--web', join(tmp, 'none')],
      '--web needs --weights W: the bundle carries trained weights (as `cnnc train --save W` writes)',
    );
    expect(existsSync(join(tmp, 'none'))).toBe(false);
  });

  it('an OUT that is a file', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    await refused([LENET, '--web', file, '--weights', weights], `--web ${file}: it is not a directory`);
  });

  it('weights of another model', async () => {
    const model = join(tmp, 'small-resnet.cnn');
    writeFileSync(model, SMALL_RESNET);
    await refused(
      [model, '--web', join(tmp, 'resnet'), '--weights', weights],
      new RegExp(`^cnnc: ${weights} does not match the model \\(\\d+ problems\\):\\n`),
    );
    expect(existsSync(join(tmp, 'resnet'))).toBe(false);
  });

  it('a model that is not a classifier', async () => {
    await refused(
      ['dsl-examples/learn-kernel.cnn', '--web', join(tmp, 'k'), '--weights', weights],
      /^cnnc: export --web needs a classifier: \w+ is trained with loss mse/,
    );
  });

  it('two targets, and --batch-size or --subgroups without --web', async () => {
    await refused(
      [LENET, '--web', join(tmp, 'two'), '--onnx', join(tmp, 'two.onnx'), '--weights', weights],
      /^cnnc: export writes one thing: .* \(not --onnx and --web\)\n$/,
    );
    await refused([LENET, '--torch', join(tmp, 'm.py'), '--batch-size', '4'], '--batch-size goes with --web');
    await refused([LENET, '--torch', join(tmp, 'm.py'), '--subgroups'], '--subgroups goes with --web');
  });
});

describe('the manifest of a model past the limits', () => {
  // LeNet's weights (247 KB) over buffers of 200 KiB: two param banks, whose tensors both start at
  // offset 0 of their own buffer; its first linear weight (192 KB) over bindings of 128 KiB: row
  // blocks bound as windows of it.
  const limits = { ...defaultLimits, maxBufferSize: 200 * 1024, maxStorageBufferBindingSize: 128 * 1024 };
  const compiled = compileModel(readFileSync(LENET, 'utf8'), { path: LENET, batch: 4, limits });
  const { manifest } = webBundle(compiled, 'lenet.cnn', limits);

  it('gives each param bank its own buffer, and no two weights share bytes', () => {
    expect(compiled.plan.paramBanks.length).toBe(2);
    const spans = manifest.tensors.map((t) => t.to);
    for (const r of spans) expect(r.offset + r.size).toBeLessThanOrEqual(manifest.buffers[r.buffer]!.size);
    for (const [i, a] of spans.entries())
      for (const b of spans.slice(i + 1))
        if (a.buffer === b.buffer) expect(a.offset + a.size <= b.offset || b.offset + b.size <= a.offset).toBe(true);
  });

  it('binds the row blocks of a split weight as windows inside it', () => {
    const weight = manifest.tensors.find((t) => t.name === '7.weight')!.to;
    const windows = manifest.kernels
      .flatMap((k) => k.bindings)
      .filter(
        (b) =>
          b.buffer === weight.buffer &&
          b.size < weight.size &&
          b.offset >= weight.offset &&
          b.offset < weight.offset + weight.size,
      );
    expect(windows.length).toBeGreaterThanOrEqual(2);
    for (const w of windows) expect(w.offset + w.size).toBeLessThanOrEqual(weight.offset + weight.size);
  });
});
