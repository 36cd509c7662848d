// Training steps against PyTorch: from identical weights (running statistics included) on the same
// batches, cnnc's loss and updated state_dict must equal PyTorch 1.13's. Fixtures:
// tests/fixtures/torch/train-step-<case>.{json,safetensors}, written by
// `/usr/bin/python3 tests/fixtures/gen/train_step.py` (see its docstring for the layout).
//
// Tolerance (float32 on the GPU against float32 PyTorch on the CPU): every updated parameter and
// running statistic within rtol 1e-4, atol 1e-5 (|a - e| <= atol + rtol |e|), the loss of every
// step within rtol 1e-4; num_batches_tracked exactly. The generator runs each case in float64 as
// well: float32 rounding alone moves PyTorch's results by at most ~2e-7 (the fixture JSON's
// `float64`), far inside that bound.
//
// rtol 1e-4 on the weights cannot see a small error in a small update (LeNet's first conv moves
// by at most ~2x the tolerance in one step at lr 0.9), so the step itself, update = final - init,
// is checked too, against PyTorch's update: within 1e-3 of the tensor's largest update, plus
// 4 ulp of the weight (the rounding of final - init in float32, on each side).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptimizerConfig } from '../../compiler/ir/recipe.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { compile, type Model } from '../../runtime/model.ts';
import { readCheckpoint, type StoredTensor } from '../../runtime/train/checkpoint.ts';
import { stateDict } from '../../runtime/train/state-dict.ts';

const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

interface Fixture {
  readonly case: string;
  readonly description: string;
  /** The model: a .cnn file (path from the repository root) or its source inline. */
  readonly file?: string;
  readonly source?: string;
  readonly batch: number;
  readonly steps: number;
  readonly optimizer: Partial<OptimizerConfig> & { readonly betas?: [number, number] };
  readonly losses: readonly number[];
  /** PyTorch's state_dict keys, in its order. */
  readonly stateDict: readonly string[];
  readonly float64: { readonly maxAbsDiff: number; readonly maxAbsDiffLoss: number };
}

const WEIGHTS = { rtol: 1e-4, atol: 1e-5 };
const LOSS_RTOL = 1e-4;
/** Update check: |du - du_torch| <= UPDATE_REL * max|du_torch| + UPDATE_ULPS * ulp(w). */
const UPDATE_REL = 1e-3;
const UPDATE_ULPS = 4;

const CASES = ['lenet-sgd', 'residual-sgd', 'residual-momentum', 'residual-adam', 'net3d-sgd', 'net3d-bn-momentum'];

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

function floats(t: StoredTensor | undefined, name: string): Float32Array {
  if (t?.dtype !== 'F32') throw new Error(`fixture tensor ${name}: ${t ? t.dtype : 'missing'}, expected F32`);
  return t.data;
}

/** The largest |a - e| / (atol + rtol |e|) and where; > 1 fails. */
function worst(
  actual: Float32Array,
  expected: Float32Array,
  bound: (e: number, i: number) => number,
): { ratio: number; index: number; diff: number } {
  let out = { ratio: 0, index: -1, diff: 0 };
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    const ratio = Number.isNaN(diff) ? Infinity : diff / bound(expected[i]!, i);
    if (ratio > out.ratio) out = { ratio, index: i, diff };
  }
  return out;
}

/** ulp of a float32 value (2^-23 of its binade; the smallest normal's for zero and subnormals). */
const ulp = (v: number): number => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(v) || 2 ** -126)), -126) - 23);

const report = process.env['CNNC_TORCH_REPORT'] !== undefined;

describe.each(CASES)('train step against PyTorch: %s', (name) => {
  const fixture = JSON.parse(fs.readFileSync(here(`../fixtures/torch/train-step-${name}.json`), 'utf8')) as Fixture;
  const tensors = readCheckpoint(here(`../fixtures/torch/train-step-${name}.safetensors`)).tensors;
  const source = fixture.source ?? fs.readFileSync(here(`../../${fixture.file!}`), 'utf8');
  const init = (key: string): StoredTensor => tensors.get(`init/${key}`)!;
  const final = (key: string): StoredTensor => tensors.get(`final/${key}`)!;

  let model: Model;
  beforeAll(async () => {
    const { betas, ...rest } = fixture.optimizer;
    model = await compile(source, {
      gpu,
      batch: fixture.batch,
      seed: 0,
      loss: 'cross_entropy',
      optimizer: { ...rest, ...(betas ? { betas } : {}) },
    });
  });
  afterAll(() => model.dispose());

  it('has the state_dict keys and shapes of the PyTorch model', async () => {
    const ours = await stateDict(model);
    expect([...ours.keys()].sort()).toEqual([...fixture.stateDict].sort());
    for (const [key, t] of ours) expect(t.shape, key).toEqual(init(key).shape);
  });

  it(`${fixture.description}: losses and the updated state_dict match PyTorch (rtol 1e-4, atol 1e-5)`, async () => {
    // Every parameter and running statistic from PyTorch's initial state_dict.
    for (const key of fixture.stateDict) {
      if (key.endsWith('num_batches_tracked')) {
        expect(init(key).data, key).toEqual(BigInt64Array.of(0n)); // cnnc counts its own steps from 0
        continue;
      }
      model.setParam(key, floats(init(key), `init/${key}`));
    }

    const problems: string[] = [];
    const lines: string[] = [];
    for (let s = 0; s < fixture.steps; s++) {
      const x = floats(tensors.get(`input/${s}`), `input/${s}`);
      const labels = tensors.get(`labels/${s}`)!;
      if (labels.dtype !== 'I64') throw new Error(`labels/${s}: ${labels.dtype}, expected I64`);
      model.trainStep(x, Int32Array.from(labels.data, Number));
      const loss = await model.lastLoss();
      const want = fixture.losses[s]!;
      const diff = Math.abs(loss - want);
      lines.push(`loss ${s}: ${loss} vs ${want} (|diff| ${diff.toExponential(2)})`);
      if (!(diff <= LOSS_RTOL * Math.abs(want)))
        problems.push(`loss of step ${s}: ${loss}, PyTorch ${want}, |diff| ${diff}`);
    }

    const got = await stateDict(model);
    let maxDiff = { diff: 0, key: '' };
    let maxUpdate = { ratio: 0, key: '' };
    for (const key of fixture.stateDict) {
      const ours = got.get(key)!;
      const theirs = final(key);
      if (theirs.dtype === 'I64') {
        if (ours.data[0] !== theirs.data[0]) problems.push(`${key}: ${ours.data[0]}, PyTorch ${theirs.data[0]}`);
        continue;
      }
      const a = floats(ours, key);
      const e = floats(theirs, `final/${key}`);
      const w = worst(a, e, (v) => WEIGHTS.atol + WEIGHTS.rtol * Math.abs(v));
      if (w.diff > maxDiff.diff) maxDiff = { diff: w.diff, key };
      if (w.ratio > 1) {
        problems.push(
          `${key}[${w.index}]: ${a[w.index]}, PyTorch ${e[w.index]}, |diff| ${w.diff.toExponential(3)} (${w.ratio.toPrecision(3)}x the tolerance)`,
        );
      }

      // The step itself (running statistics included): final - init against PyTorch's.
      const w0 = floats(init(key), `init/${key}`);
      const du = a.map((v, i) => v - w0[i]!);
      const duTorch = e.map((v, i) => v - w0[i]!);
      const scale = duTorch.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const u = worst(du, duTorch, (_v, i) => UPDATE_REL * scale + UPDATE_ULPS * Math.max(ulp(w0[i]!), ulp(e[i]!)));
      if (u.ratio > maxUpdate.ratio) maxUpdate = { ratio: u.ratio, key };
      if (u.ratio > 1) {
        problems.push(
          `update of ${key}[${u.index}]: ${du[u.index]}, PyTorch ${duTorch[u.index]} (largest PyTorch update ${scale.toExponential(3)}; ${u.ratio.toPrecision(3)}x the tolerance)`,
        );
      }
    }
    lines.push(
      `state_dict: max |diff| ${maxDiff.diff.toExponential(2)} at ${maxDiff.key}; update check at most ${maxUpdate.ratio.toPrecision(3)}x its tolerance (${maxUpdate.key})`,
    );
    lines.push(
      `PyTorch float32 vs float64: state ${fixture.float64.maxAbsDiff.toExponential(2)}, loss ${fixture.float64.maxAbsDiffLoss.toExponential(2)}`,
    );
    if (report) console.log(`${name}:\n  ${lines.join('\n  ')}`);
    expect(problems, `${fixture.case}: ${problems.length} differences from PyTorch\n${lines.join('\n')}`).toEqual([]);
  });
});
