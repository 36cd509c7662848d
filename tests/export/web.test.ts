// The `cnnc export --web` bundle under Node (navigator.gpu from the webgpu package, as the README
// shows): its probabilities equal `cnnc predict --json` for LeNet and for a ResNet-style model with
// batch norm and dropout in evaluation mode, for any number of samples; broken bundles and bad
// inputs are refused with messages that say what is wrong.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { create, globals } from 'webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebModel } from '../../runtime/export/web/loader.ts';
import {
  expectInformative,
  expectSameProbabilities,
  exportWeb,
  LENET,
  type Predicted,
  predictJson,
  SMALL_RESNET,
  seededWeights,
  testImages,
} from '../helpers/web-bundle.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-web-'));
const lenetWeights = join(tmp, 'lenet.safetensors');
const lenetOut = join(tmp, 'lenet-web');
// dawn.node: the object create() returns must outlive every device, or dispatches crash.
let gpu: GPU;
let load: (base?: string | URL) => Promise<WebModel>;
/** predict --json on the first 21 test images: 16 (one batch) and 21 (two, the last padded). */
let want: Predicted[];

beforeAll(async () => {
  Object.assign(globalThis, globals);
  gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  seededWeights(LENET, lenetWeights, 1);
  exportWeb(LENET, lenetWeights, lenetOut);
  want = predictJson(LENET, lenetWeights, 21);
  ({ load } = await import(pathToFileURL(join(lenetOut, 'index.js')).href));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the bundle under Node', () => {
  let lenet: WebModel;
  beforeAll(async () => {
    lenet = await load(lenetOut);
  });
  afterAll(() => lenet?.dispose());

  it("gives LeNet's probabilities on 16 test images as cnnc predict --json does", async () => {
    expect([lenet.inputShape, lenet.classes, lenet.batch]).toEqual([[1, 28, 28], 10, 16]);
    expectInformative(want, 10);
    expectSameProbabilities(await lenet.predict(testImages(16), 16), want.slice(0, 16), 10);
  });

  it('predicts any number of samples: batches padded, the rows of each sample its own', async () => {
    const x = testImages(21);
    expectSameProbabilities(await lenet.predict(x, 21), want, 10);
    // One sample alone, and the samples in another order, get the same rows.
    expectSameProbabilities(await lenet.predict(x.subarray(0, 784), 1), want.slice(0, 1), 10);
    const [a, b] = await Promise.all([
      lenet.predict(x.subarray(784 * 17), 4),
      lenet.predict(x.subarray(0, 784 * 3), 3),
    ]);
    expectSameProbabilities(a, want.slice(17), 10);
    expectSameProbabilities(b, want.slice(0, 3), 10);
  });

  it("loads from a file: URL too, and by default from index.js's own directory", async () => {
    for (const model of [await load(pathToFileURL(`${lenetOut}/`)), await load()]) {
      try {
        expectSameProbabilities(await model.predict(testImages(5), 5), want.slice(0, 5), 10);
      } finally {
        model.dispose();
      }
    }
  });

  it('refuses x of the wrong length, a non-Float32Array x and a bad n', () => {
    const x = testImages(2);
    expect(() => lenet.predict(x, 3)).toThrow('predict(x, n): x holds 1568 values, 3 samples of [1, 28, 28] are 2352');
    expect(() => lenet.predict(Array.from(x) as unknown as Float32Array, 2)).toThrow('x must be a Float32Array');
    expect(() => lenet.predict(x, 0)).toThrow('n must be a whole number >= 1, got 0');
    expect(() => lenet.predict(x, 1.5)).toThrow('n must be a whole number >= 1, got 1.5');
  });
});

it("gives a ResNet-style model's probabilities (batch norm, dropout: evaluation mode) as predict does", async () => {
  const file = join(tmp, 'small-resnet.cnn');
  writeFileSync(file, SMALL_RESNET);
  const weights = join(tmp, 'resnet.safetensors');
  seededWeights(file, weights, 2);
  const out = join(tmp, 'resnet-web');
  exportWeb(file, weights, out, '--batch-size', '8');
  const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  expect(manifest.batch).toBe(8);
  // Running statistics travel with the weights; num_batches_tracked (training only) does not.
  expect(manifest.tensors.some((t: { name: string }) => t.name.endsWith('running_var'))).toBe(true);
  expect(manifest.tensors.some((t: { name: string }) => t.name.endsWith('num_batches_tracked'))).toBe(false);
  const model = await load(out);
  try {
    const reference = predictJson(file, weights, 16);
    expectInformative(reference, 10);
    expectSameProbabilities(await model.predict(testImages(16), 16), reference, 10);
  } finally {
    model.dispose();
  }
});

it('says what is missing without WebGPU', async () => {
  const { navigator } = globalThis as { navigator?: unknown };
  Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  try {
    await expect(load(lenetOut)).rejects.toThrow(/^no WebGPU here: navigator\.gpu is missing/);
    await expect(load(join(tmp, 'nowhere'))).rejects.toMatchObject({ name: 'BundleError' });
  } finally {
    Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true });
  }
});

describe('a broken bundle', () => {
  /** A copy of the LeNet bundle with `edit` applied. */
  const broken = (name: string, edit: (dir: string) => void): string => {
    const dir = join(tmp, name);
    cpSync(lenetOut, dir, { recursive: true });
    edit(dir);
    return dir;
  };

  it('names the missing file', async () => {
    await expect(load(join(tmp, 'nowhere'))).rejects.toThrow(`cannot read ${join(tmp, 'nowhere', 'model.json')}`);
    const dir = broken('no-kernel', (d) => rmSync(join(d, 'kernels', '003_k03_avgpool2d.wgsl')));
    await expect(load(dir)).rejects.toThrow(`cannot read ${join(dir, 'kernels', '003_k03_avgpool2d.wgsl')}`);
  });

  it('refuses a corrupt or truncated weights file', async () => {
    const corrupt = broken('corrupt', (d) => {
      const bytes = readFileSync(join(d, 'weights.bin'));
      bytes[1000]! ^= 0x40;
      writeFileSync(join(d, 'weights.bin'), bytes);
    });
    await expect(load(corrupt)).rejects.toThrow(
      /^weights\.bin is corrupt: checksum [0-9a-f]+, model.json says [0-9a-f]+$/,
    );
    const truncated = broken('truncated', (d) => {
      writeFileSync(join(d, 'weights.bin'), readFileSync(join(d, 'weights.bin')).subarray(0, 1000));
    });
    await expect(load(truncated)).rejects.toThrow(
      "weights.bin: 1000 bytes, model.json expects 246824 (truncated, or another export's)",
    );
  });

  it('refuses a manifest that is not one, and kernels the adapter cannot run', async () => {
    const notJson = broken('not-json', (d) => writeFileSync(join(d, 'model.json'), '{"format": '));
    await expect(load(notJson)).rejects.toThrow(/^model\.json is not JSON/);
    const other = broken('other-format', (d) => writeFileSync(join(d, 'model.json'), '{"format": "cnnc-web-0"}'));
    await expect(load(other)).rejects.toThrow('model.json: format cnnc-web-0, this loader reads cnnc-web-1');
    const huge = broken('huge', (d) => {
      const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      m.limits.maxStorageBufferBindingSize = 2 ** 50;
      m.limits.subgroupMinSize = 1024;
      writeFileSync(join(d, 'model.json'), JSON.stringify(m));
    });
    await expect(load(huge)).rejects.toThrow(
      /^this WebGPU adapter cannot run the bundle's kernels: maxStorageBufferBindingSize \d+ < 1125899906842624, subgroups of at least 1024 lanes/,
    );
  });

  it('refuses WGSL that does not compile, naming the kernel', async () => {
    const dir = broken('bad-wgsl', (d) =>
      copyFileSync(join(d, 'model.json'), join(d, 'kernels', '000_k00_conv2d_bias_sigmoid.wgsl')),
    );
    await expect(load(dir)).rejects.toThrow(/^kernel k00_conv2d_bias_sigmoid: k00_conv2d_bias_sigmoid\.wgsl:1:\d+: /);
  });
});
