// `cnnc export --torch-train` with AdamW: train.py saves Adam's state in cnnc's optimizer file
// (`<param>.exp_avg`, `<param>.exp_avg_sq`, F32, the parameters' shapes; the step count that the
// bias corrections use is the file's `steps`), and resuming that file continues the count: 3 steps,
// then --resume to 5, equal (atol 1e-6) to 5 steps straight, which fails if the moments or the step
// count were lost on the way (Adam's update depends on both).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { readRun } from '../../runtime/train/resume.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { root } from './exported.ts';
import { run } from './torch-train.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-adam-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let file: string;
let out: string;
beforeAll(async () => {
  const text = readFileSync(join(root, 'dsl-examples', 'lenet.cnn'), 'utf8');
  const changed = text.replace('optimizer sgd(lr = 0.1)', 'optimizer adamw(lr = 0.01, weight_decay = 0.01)');
  expect(changed).not.toBe(text);
  file = join(dir, 'lenet-adamw.cnn');
  writeFileSync(file, changed);
  out = join(dir, 'lenet');
  const r = await cnncInProcess('export', file, '--torch-train', out);
  expect([r.code, r.stderr]).toEqual([0, '']);
});

describe('cnnc export --torch-train with AdamW', () => {
  it("saves Adam's moments as cnnc names them and resumes them with the step count", () => {
    const straight = join(dir, 'straight.safetensors');
    const first = join(dir, 'first.safetensors');
    const resumed = join(dir, 'resumed.safetensors');
    run(['train.py', '--steps', '5', '--batch-size', '32', '--save', straight], out);
    run(['train.py', '--steps', '3', '--batch-size', '32', '--save', first], out);
    run(['train.py', '--resume', first, '--steps', '5', '--save', resumed], out);

    const graph = analyze(file, readFileSync(file, 'utf8')).shaped!;
    const saved = readRun(first, graph);
    expect(saved.steps).toBe(3);
    expect(saved.optimizer.kind).toBe('adamw');
    const params = graph.nodes.flatMap((n) => n.params.filter((p) => p.role === 'weight' || p.role === 'bias'));
    expect([...saved.state.tensors].map(([name, t]) => [name, t.dtype, t.shape]).sort()).toEqual(
      params.flatMap((p) => [`${p.name}.exp_avg`, `${p.name}.exp_avg_sq`].map((n) => [n, 'F32', [...p.shape]])).sort(),
    );

    expect(readRun(resumed, graph).steps).toBe(5);
    const a = readCheckpoint(straight);
    const b = readCheckpoint(resumed);
    for (const [name, t] of a.tensors) {
      const u = b.tensors.get(name)!;
      if (t.dtype !== 'F32') continue;
      const diff = Math.max(
        ...Array.from(t.data as Float32Array, (v, i) => Math.abs(v - (u.data as Float32Array)[i]!)),
      );
      expect(diff, name).toBeLessThan(1e-6);
    }
  }, 120_000);
});
