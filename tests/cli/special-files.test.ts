// Inputs that are not regular files: a FIFO read blocks until a writer comes (the CLI hung forever on
// one), a device never ends, and a model file of many MB is a mistake. Each input is refused with one
// line, exit 1, before any GPU work. The CLI runs as a child with a time bound, so a regression fails
// instead of hanging the suite.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGES_MAGIC, readIdxImages } from '../../runtime/data/idx.ts';
import { cnncWithin } from '../helpers/cli.ts';
import { idxBytes } from '../helpers/idx.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-special-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...parts: string[]): string => join(tmp, ...parts);

const fifo = at('fifo');
execFileSync('mkfifo', [fifo]);
const model = (name: string, data: string): string => {
  const path = at(name);
  writeFileSync(
    path,
    `model M {\n  input [1, 2, 2]\n  flatten\n  linear(3)\n}\ntrain {\n  data ${data}\n  loss cross_entropy\n  optimizer sgd(lr = 0.1)\n  batch 2  epochs 1\n}\n`,
  );
  return path;
};
const m = model('m.cnn', 'npy(inputs = "x.npy", targets = "y.npy")');
const fifoData = model('fifo-data.cnn', 'npy(inputs = "fifo", targets = "y.npy")');
writeNpy(at('x.npy'), [4, 1, 2, 2], new Float32Array(16));
writeNpy(at('y.npy'), [4], Float32Array.of(0, 1, 2, 1));
// A checkpoint pair whose both files are FIFOs, and an IDX folder of FIFOs.
execFileSync('mkfifo', [at('r.safetensors'), at('r.optim.safetensors')]);
mkdirSync(at('idx'));
for (const f of [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
])
  symlinkSync(fifo, at('idx', f));

/** The CLI must answer within 60 s (it starts in about 1 s): exit 1 and one line on stderr. */
function refused(...args: string[]): string {
  const r = cnncWithin(60_000, ...args);
  expect(r.signal).toBeNull();
  expect(r.stdout).toBe('');
  expect(r.code).toBe(1);
  expect(r.stderr.split('\n')).toHaveLength(2);
  return r.stderr;
}

describe('inputs that are FIFOs or devices', () => {
  it.each([
    ['the model', ['check', fifo], fifo],
    ['--weights', ['eval', m, '--weights', fifo], fifo],
    ['--init', ['train', m, '--init', fifo], fifo],
    ['--resume', ['train', m, '--resume', at('r.safetensors')], at('r.optim.safetensors')],
    ['npy data of the train section', ['train', fifoData], fifo],
    ['--data (IDX)', ['train', m, '--data', at('idx')], at('idx', 'train-images-idx3-ubyte')],
    ['--images', ['predict', m, '--weights', at('absent.safetensors'), '--images', fifo], fifo],
    ['--npy', ['predict', m, '--weights', at('absent.safetensors'), '--npy', fifo], fifo],
  ])('%s: a FIFO is refused at once', (_what, args, named) => {
    expect(refused(...args)).toBe(`cnnc: cannot read ${named}: it is a FIFO, not a file\n`);
  });

  it('a device is refused', () => {
    expect(refused('check', '/dev/zero')).toBe('cnnc: cannot read /dev/zero: it is a character device, not a file\n');
  });

  it('a directory keeps its wording', () => {
    expect(refused('check', tmp)).toBe(`cnnc: cannot read ${tmp}: it is a directory\n`);
  });
});

describe('inputs larger than they should be', () => {
  it('a model file over 16 MiB is refused before it is read', () => {
    const big = at('big.cnn');
    writeFileSync(big, '');
    truncateSync(big, 16 * 2 ** 20 + 1);
    expect(refused('check', big)).toBe(
      `cnnc: cannot read ${big}: it has ${16 * 2 ** 20 + 1} bytes; model files over 16 MiB are not supported\n`,
    );
  });

  it('a checkpoint over 2 GiB is refused before it is read', () => {
    // Sparse: no disk space is used. 2 GiB is what Node reads into one buffer at most.
    const big = at('big.safetensors');
    writeFileSync(big, '');
    truncateSync(big, 2 ** 31);
    expect(refused('train', m, '--init', big)).toBe(
      `cnnc: cannot read ${big}: it has ${2 ** 31} bytes; files over 2 GiB are not supported\n`,
    );
  });

  it('gunzips an IDX file no further than its header describes', () => {
    // 3 images of 2x2 declared, 64 MB of zeros behind them: 64 KB gzipped.
    const declared = idxBytes(IMAGES_MAGIC, [3, 2, 2], new Uint8Array(12));
    const bomb = at('bomb-idx3-ubyte.gz');
    writeFileSync(bomb, gzipSync(Buffer.concat([declared, Buffer.alloc(64 * 2 ** 20)])));
    expect(() => readIdxImages(bomb)).toThrow(
      `${bomb}: the gunzipped data is longer than the 28 bytes its IDX header describes`,
    );
    writeFileSync(at('ok.gz'), gzipSync(declared));
    expect(readIdxImages(at('ok.gz')).count).toBe(3);
  });
});
