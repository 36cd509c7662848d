// Checkpoints: safetensors round trip, atomic writes, every malformed-file message, the model
// shape check, and interop with PyTorch through tests/fixtures/gen/checkpoint.py (which writes
// and reads the format by hand; regenerate its fixtures with /usr/bin/python3 tests/fixtures/gen/checkpoint.py).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  CheckpointError,
  expectTensors,
  readCheckpoint,
  writeCheckpoint,
  type Checkpoint,
  type StoredTensor,
} from '../../runtime/train/checkpoint.ts';

const root = fs.mkdtempSync(join(tmpdir(), 'cnnc-ckpt-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

const f32 = (shape: number[], data: number[]): StoredTensor => ({ dtype: 'F32', shape, data: Float32Array.from(data) });
const tensors = new Map<string, StoredTensor>([
  ['0.weight', f32([2, 1, 1, 3], [1.5, -2, 3.25, 0, 1e-8, -7])],
  ['0.bias', f32([3], [0.5, 0.25, -1])], // 12 bytes: the I64 after it would be misaligned without reordering
  ['1.num_batches_tracked', { dtype: 'I64', shape: [], data: BigInt64Array.of(123456789012n) }],
  ['1.running_var', { dtype: 'F64', shape: [2], data: Float64Array.of(1 / 3, 2) }],
  ['2.index', { dtype: 'I32', shape: [2, 2], data: Int32Array.of(-1, 2, 3, 2 ** 31 - 1) }],
  ['3.empty', f32([0, 4], [])],
]);

/** A file made of a header length, a header (JSON text or a value to stringify) and data bytes. */
function raw(name: string, header: unknown, data: number[] = [], length?: number): string {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(length ?? text.length));
  const path = join(root, name);
  fs.writeFileSync(path, Buffer.concat([prefix, text, Buffer.from(data)]));
  return path;
}

function failure(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return (e as Error).message;
  }
  throw new Error('expected a CheckpointError');
}

describe('writeCheckpoint / readCheckpoint', () => {
  it('round-trips every dtype, scalars, empty tensors and metadata', () => {
    const path = join(root, 'round.safetensors');
    writeCheckpoint(path, tensors, { epoch: '3', format: 'pt' });
    const back = readCheckpoint(path);
    expect(back.metadata).toEqual({ epoch: '3', format: 'pt' });
    expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) expect(back.tensors.get(name), name).toEqual(t);
  });

  it('pads the header with spaces to 8 bytes and aligns every tensor to its element size', () => {
    const path = join(root, 'layout.safetensors');
    writeCheckpoint(path, tensors);
    const bytes = fs.readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    expect(text.trimEnd().endsWith('}')).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    expect(header.__metadata__).toBeUndefined(); // no metadata given, none written
    const size: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4 };
    for (const e of Object.values(header)) expect(e.data_offsets[0] % size[e.dtype]!).toBe(0);
  });

  it('replaces an existing file and leaves no temporary file', () => {
    const path = join(root, 'twice.safetensors');
    writeCheckpoint(path, tensors);
    writeCheckpoint(path, new Map([['w', f32([1], [9])]]));
    expect([...readCheckpoint(path).tensors.keys()]).toEqual(['w']);
    expect(fs.readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('leaves the old file intact when a write fails half way', () => {
    const path = join(root, 'atomic.safetensors');
    writeCheckpoint(path, tensors, { epoch: '1' });
    const before = fs.readFileSync(path);
    const write = fs.writeSync;
    const failingWrite = (fd: number, buffer: Uint8Array, offset: number, length: number): number => {
      write(fd, buffer, offset, Math.floor(length / 2)); // some bytes reach the disk, then it is full
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    vi.spyOn(fs, 'writeSync').mockImplementation(failingWrite as typeof fs.writeSync);
    expect(failure(() => writeCheckpoint(path, new Map([['w', f32([4], [1, 2, 3, 4])]]), { epoch: '2' }))).toBe(
      `cannot write ${path}: no space left on the device`,
    );
    expect(fs.readFileSync(path)).toEqual(before);
    expect(fs.readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('removes the temporaries that killed writes of the same file left, and no others', () => {
    const dir = fs.mkdtempSync(join(root, 'stale-'));
    const path = join(dir, 'w.safetensors');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: nothing writes under its pid
    fs.writeFileSync(`${path}.tmp-${dead}`, 'half a checkpoint');
    fs.writeFileSync(`${path}.tmp-${process.pid}`, 'an earlier write of this process that failed');
    fs.writeFileSync(`${path}.tmp-1`, 'a write in progress in a live process');
    fs.writeFileSync(join(dir, `x.safetensors.tmp-${dead}`), 'a temporary of another file');
    writeCheckpoint(path, tensors);
    expect(fs.readdirSync(dir).sort()).toEqual([`w.safetensors`, `w.safetensors.tmp-1`, `x.safetensors.tmp-${dead}`]);
  });

  it('reports a directory that does not exist', () => {
    const path = join(root, 'no', 'such.safetensors');
    expect(failure(() => writeCheckpoint(path, tensors))).toBe(`cannot write ${path}: no such file or directory`);
    expect(failure(() => readCheckpoint(path))).toBe(`cannot read ${path}: no such file or directory`);
  });
});

describe('malformed files', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 128, 63, 0, 0, 0, 64]; // 1.0f, 2.0f
  it('every problem has its own message naming the file and tensor', () => {
    const check = (path: string, message: string): void => {
      expect(failure(() => readCheckpoint(path))).toBe(`${path}: ${message}`);
    };
    const short = join(root, 'short');
    fs.writeFileSync(short, Buffer.from([1, 0, 0]));
    check(short, '3 bytes is too short for a safetensors file (it starts with an 8-byte header length)');
    const long = raw('long', ok, eight, 4000);
    const size = 8 + JSON.stringify(ok).length + 8;
    expect(failure(() => readCheckpoint(long))).toBe(
      `${long} @ byte 0: header length 4000 runs past the end of the file (${size} bytes)`,
    );
    expect(failure(() => readCheckpoint(raw('json', '{"w": {', [])))).toMatch(
      /json: the header \(bytes 8 to 15\) is not valid JSON: .+/,
    );
    check(raw('array', [1, 2]), 'the header must be a JSON object');
    check(raw('meta', { __metadata__: { epoch: 3 } }), '__metadata__ must map names to strings, but "epoch" is 3');
    check(
      raw('dtype', { w: { dtype: 'Q8', shape: [2], data_offsets: [0, 8] } }, eight),
      'tensor w has unknown dtype "Q8" (expected one of F32, F64, I32, I64)',
    );
    check(
      raw('f16', { w: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, eight),
      'tensor w has dtype F16; cnnc reads F32, F64, I32, I64',
    );
    check(
      raw('shape', { w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eight),
      'tensor w has shape [-2], expected a list of non-negative integers',
    );
    check(
      raw('offsets', { w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, eight),
      'tensor w has data_offsets [8,0], expected [begin, end] with 0 <= begin <= end',
    );
    check(raw('entry', { w: 'F32' }), 'tensor w must be described by {dtype, shape, data_offsets}, got "F32"');
    check(
      raw('size', { w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 8] } }, eight),
      'tensor w has data_offsets [0, 8] (8 bytes), but shape [2, 3] of F32 needs 24 bytes',
    );
    check(
      raw(
        'truncated',
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        eight,
      ),
      'file is truncated: tensor b needs data bytes [4, 12) but only 8 bytes follow the header',
    );
    check(
      raw(
        'overlap',
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        eight,
      ),
      'tensors a [0, 8) and b [4, 8) overlap',
    );
    check(
      raw('gap', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight),
      'data bytes [0, 4) before tensor a belong to no tensor (safetensors data must be contiguous)',
    );
    check(
      raw('trailing', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, eight),
      '4 bytes after the last tensor belong to no tensor',
    );
  });

  it('reports a file cut short at any byte, never a crash', () => {
    const path = join(root, 'cut.safetensors');
    writeCheckpoint(path, tensors);
    const whole = fs.readFileSync(path);
    const n = Number(whole.readBigUInt64LE(0));
    for (let length = 0; length < whole.length; length++) {
      fs.writeFileSync(path, whole.subarray(0, length));
      const message = failure(() => readCheckpoint(path));
      if (length >= 8 + n)
        expect(message).toMatch(
          /^\S+: file is truncated: tensor \S+ needs data bytes \[\d+, \d+\) but only \d+ bytes follow the header$/,
        );
    }
    fs.writeFileSync(path, whole.subarray(0, whole.length - 4));
    expect(failure(() => readCheckpoint(path))).toBe(
      `${path}: file is truncated: tensor 2.index needs data bytes [60, 76) but only 72 bytes follow the header`,
    );
  });

  it('accepts the same bytes once they are well formed', () => {
    const ckpt = readCheckpoint(raw('ok', ok, eight));
    expect(ckpt.tensors.get('w')).toEqual(f32([2], [1, 2]));
  });
});

describe('expectTensors', () => {
  const ckpt: Checkpoint = { path: 'lenet.safetensors', tensors, metadata: {} };
  const model = [...tensors].map(([name, t]) => ({ name, shape: t.shape }));

  it('accepts exactly the model tensors', () => {
    expect(() => expectTensors(ckpt, model)).not.toThrow();
  });

  it('names a shape mismatch', () => {
    const expected = model.map((e) => (e.name === '0.weight' ? { name: e.name, shape: [2, 3, 1, 3] } : e));
    expect(failure(() => expectTensors(ckpt, expected))).toBe(
      'lenet.safetensors: tensor 0.weight has shape [2, 1, 1, 3], the model expects [2, 3, 1, 3]',
    );
  });

  it('lists every missing and unexpected tensor', () => {
    const expected = [...model.slice(1), { name: '4.weight', shape: [10, 84] }];
    expect(failure(() => expectTensors(ckpt, expected))).toBe(
      'lenet.safetensors does not match the model (2 problems):\n' +
        '  tensor 4.weight is missing (the model expects shape [10, 84])\n' +
        '  tensor 0.weight [2, 1, 1, 3] is not in the model',
    );
  });

  it('lists at most ten problems', () => {
    const expected = Array.from({ length: 12 }, (_, i) => ({ name: `x${i}`, shape: [] }));
    const lines = failure(() => expectTensors({ ...ckpt, tensors: new Map() }, expected)).split('\n');
    expect(lines[0]).toBe('lenet.safetensors does not match the model (12 problems):');
    expect(lines.length).toBe(12);
    expect(lines[11]).toBe('  ... and 2 more');
  });
});

describe('interop with PyTorch', () => {
  interface Dumped {
    readonly metadata: Record<string, string>;
    readonly tensors: Record<string, { dtype: 'F32' | 'I64'; shape: number[]; data: number[] }>;
  }
  const fixture = JSON.parse(
    fs.readFileSync(new URL('../fixtures/torch/checkpoint.json', import.meta.url), 'utf8'),
  ) as Dumped;
  const fromJson = (d: Dumped): Map<string, StoredTensor> =>
    new Map(
      Object.entries(d.tensors).map(([name, t]): [string, StoredTensor] => [
        name,
        t.dtype === 'I64'
          ? { dtype: 'I64', shape: t.shape, data: BigInt64Array.from(t.data, BigInt) }
          : { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.data) },
      ]),
    );

  it('reads a state_dict that PyTorch wrote (float32 weights, I64 num_batches_tracked)', () => {
    const ckpt = readCheckpoint(here('../fixtures/torch/checkpoint.safetensors'));
    expect(ckpt.metadata).toEqual(fixture.metadata);
    expect(new Map(ckpt.tensors)).toEqual(fromJson(fixture));
    expect(ckpt.tensors.get('1.num_batches_tracked')).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(3n) });
  });

  const python = '/usr/bin/python3';
  it.skipIf(!fs.existsSync(python))(
    `writes a file PyTorch loads with load_state_dict(strict=True)${fs.existsSync(python) ? '' : ` (skipped: no ${python})`}`,
    () => {
      const path = join(root, 'for-torch.safetensors');
      writeCheckpoint(path, fromJson(fixture), fixture.metadata);
      const script = here('../fixtures/gen/checkpoint.py');
      const out = execFileSync(python, [script, '--read', path], { encoding: 'utf8' });
      const back = JSON.parse(out) as Dumped;
      expect(back.metadata).toEqual(fixture.metadata);
      expect(back.tensors).toEqual(fixture.tensors);
    },
  );
});
