// Output paths (`train --save/--json-log/--plot`, `compile --out`) are checked before any work: a bad
// one is a one-line exit 1 naming the flag before anything is compiled, and no output may replace an
// input of the command (the model, --init, --resume, the data) or another output. In-process: every
// case ends before the GPU is touched.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsReason } from '../../runtime/errors.ts';
import { writeCheckpoint } from '../../runtime/train/checkpoint.ts';
import { writeOutput } from '../../runtime/cli/outputs.ts';
import { cnnc, cnncInProcess, root } from '../helpers/cli.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-paths-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (...parts: string[]): string => join(tmp, ...parts);

const MODEL_TEXT =
  'model M {\n  input [1, 2, 2]\n  flatten\n  linear(3)\n}\n' +
  'train {\n  data npy(inputs = "x.npy", targets = "y.npy")\n  loss cross_entropy\n  optimizer sgd(lr = 0.1)\n  batch 2  epochs 1\n}\n';
writeFileSync(at('m.cnn'), MODEL_TEXT);
writeNpy(
  at('x.npy'),
  [4, 1, 2, 2],
  Float32Array.from({ length: 16 }, (_, i) => i / 16),
);
writeNpy(at('y.npy'), [4], Float32Array.of(0, 1, 2, 1));
const model = at('m.cnn');

/** Trains m.cnn in-process with the flags; every case here must fail before compiling. */
async function refused(...flags: string[]): Promise<string> {
  const r = await cnncInProcess('train', model, ...flags);
  expect(r.stdout).toBe('');
  expect(r.code).toBe(1);
  expect(readFileSync(model, 'utf8')).toBe(MODEL_TEXT);
  expect(r.stderr.split('\n')).toHaveLength(2);
  return r.stderr;
}

describe('train refuses an output that is an input or another output', () => {
  it.each([
    ['--save', model],
    ['--json-log', model],
    ['--plot', model],
  ])('%s onto the model', async (flag, path) => {
    expect(await refused(flag, path)).toBe(
      `cnnc: ${flag} ${path} would overwrite the model ${model}: write it elsewhere\n`,
    );
  });

  it("--plot whose PNG is the model (plot writes FILE and FILE's .png)", async () => {
    copyFileSync(model, at('p.png'));
    const r = await cnncInProcess('train', at('p.png'), '--plot', at('p.svg'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `cnnc: --plot's PNG ${at('p.png')} would overwrite the model ${at('p.png')}: write it elsewhere\n`,
    );
  });

  it('sees through a symlink, a hard link and a relative path with ..', async () => {
    symlinkSync('m.cnn', at('link.cnn'));
    linkSync(model, at('hard.cnn'));
    mkdirSync(at('sub'));
    const dotted = relative(process.cwd(), at('sub', '..', '.', 'm.cnn'));
    for (const path of [at('link.cnn'), at('hard.cnn'), dotted]) {
      expect(await refused('--save', path)).toBe(
        `cnnc: --save ${path} would overwrite the model ${model}: write it elsewhere\n`,
      );
    }
  });

  it('refuses the data files, --init, and --resume files other than in --save', async () => {
    expect(await refused('--json-log', at('y.npy'))).toBe(
      `cnnc: --json-log ${at('y.npy')} would overwrite the data file ${at('y.npy')}: write it elsewhere\n`,
    );
    const w = at('w.safetensors');
    writeCheckpoint(
      w,
      new Map([
        ['1.weight', { dtype: 'F32', shape: [3, 4], data: new Float32Array(12) }],
        ['1.bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) }],
      ]),
      { model: 'M', steps: '2' },
    );
    expect(await refused('--init', w, '--save', w)).toBe(
      `cnnc: --save ${w} would overwrite --init ${w}: write it elsewhere\n`,
    );
    const meta = {
      model: 'M',
      steps: '2',
      epoch: '1',
      optimizer: 'sgd',
      lr: '0.1',
      momentum: '0',
      weight_decay: '0',
      seed: '0',
      batch: '2',
      shuffle: 'true',
      history: '[]',
    };
    writeCheckpoint(at('w.optim.safetensors'), new Map(), meta);
    expect(await refused('--epochs', '2', '--resume', w, '--json-log', at('w.optim.safetensors'))).toBe(
      `cnnc: --json-log ${at('w.optim.safetensors')} would overwrite --resume's optimizer file ${at('w.optim.safetensors')}: write it elsewhere\n`,
    );
    // --save of the resumed weights onto the optimizer file: the pair would be scrambled.
    expect(await refused('--epochs', '2', '--resume', w, '--save', at('w.optim.safetensors'))).toContain(
      `would overwrite --resume's optimizer file ${at('w.optim.safetensors')}`,
    );
  });

  it('refuses two outputs on one file', async () => {
    expect(await refused('--save', at('out'), '--json-log', at('.', 'out'))).toBe(
      `cnnc: --save ${at('out')} and --json-log ${at('.', 'out')} are the same file: give each output its own path\n`,
    );
    expect(await refused('--plot', at('c.svg'), '--save', at('c.png'))).toBe(
      `cnnc: --save ${at('c.png')} and --plot's PNG ${at('c.png')} are the same file: give each output its own path\n`,
    );
    expect(await refused('--save', at('s'), '--json-log', at('s.optim.safetensors'))).toContain('are the same file');
  });
});

describe('train checks every output before compiling', () => {
  it.each(['--save', '--json-log', '--plot'])(
    '%s in a missing directory, onto a directory, under a file',
    async (flag) => {
      expect(await refused(flag, at('nowhere', 'f'))).toBe(
        `cnnc: ${flag} ${at('nowhere', 'f')}: directory ${at('nowhere')} does not exist\n`,
      );
      expect(await refused(flag, tmp)).toBe(`cnnc: ${flag} ${tmp}: it is a directory\n`);
      expect(await refused(flag, at('m.cnn', 'f'))).toBe(
        `cnnc: ${flag} ${at('m.cnn', 'f')}: a part of the path is not a directory\n`,
      );
    },
  );

  it('refuses a FIFO (writing it would block) and files of /proc', async () => {
    execFileSync('mkfifo', [at('fifo')]);
    expect(await refused('--json-log', at('fifo'))).toBe(
      `cnnc: --json-log ${at('fifo')}: not a regular file (cnnc writes files, not FIFOs, devices or sockets)\n`,
    );
    expect(await refused('--json-log', '/proc/self/comm')).toBe(
      "cnnc: --json-log /proc/self/comm: it is on the kernel's proc file system; cnnc writes no files there\n",
    );
    expect(await refused('--save', '/proc/cnnc.safetensors')).toBe(
      "cnnc: --save /proc/cnnc.safetensors: /proc is on the kernel's proc file system; cnnc writes no files there\n",
    );
  }, 10_000);

  it('names errno codes in words when a write fails after the checks', () => {
    expect(() => writeOutput(at('m.cnn', 'log'), 'x')).toThrow(
      `cannot write ${at('m.cnn', 'log')}: a part of the path is not a directory`,
    );
    for (const [code, words] of [
      ['EACCES', 'permission denied'],
      ['EROFS', 'read-only file system'],
      ['ENOSPC', 'no space left on the device'],
      ['EISDIR', 'it is a directory'],
    ]) {
      expect(fsReason(Object.assign(new Error(`${code}: raw`), { code }))).toBe(words);
    }
  });
});

describe('compile --out', () => {
  it('refuses an existing file, a FIFO inside the directory and /proc, without hanging', async () => {
    const r = await cnncInProcess('compile', model, '--out', at('m.cnn'));
    expect([r.code, r.stderr]).toEqual([1, `cnnc: --out ${at('m.cnn')}: it is not a directory\n`]);
    for (const out of ['/proc/cnnc-out', '/proc/self']) {
      const p = await cnncInProcess('compile', model, '--out', out);
      expect(p.code).toBe(1);
      expect(p.stderr).toMatch(
        new RegExp(`^cnnc: --out ${out}: .*on the kernel's proc file system; cnnc writes no files there\n$`),
      );
    }
    mkdirSync(at('ir'));
    execFileSync('mkfifo', [at('ir', 'M.ir.txt')]);
    const f = await cnncInProcess('compile', model, '--out', at('ir'));
    expect([f.code, f.stderr]).toEqual([
      1,
      `cnnc: --out ${at('ir', 'M.ir.txt')}: not a regular file (cnnc writes files, not FIFOs, devices or sockets)\n`,
    ]);
  }, 20_000);

  it('creates missing directories, one level at a time', async () => {
    const r = await cnncInProcess('compile', model, '--out', at('a', 'b', 'c'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(at('a', 'b', 'c'))).toEqual(['M.ir.txt']);
  }, 20_000);

  it('/proc exits 1 as a process too (it used to hang in a recursive mkdir)', () => {
    const r = cnnc('compile', relative(root, model), '--out', '/proc/cnnc-out');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "cnnc: --out /proc/cnnc-out: /proc is on the kernel's proc file system; cnnc writes no files there\n",
    );
  }, 30_000);
});
