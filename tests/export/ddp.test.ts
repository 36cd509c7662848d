// `cnnc export --torch-train DIR` without a GPU: train.py's epoch order is cnnc's (epochOrder, same
// seed and epoch), and `torchrun --nproc_per_node 2` (gloo, 127.0.0.1) for 20 steps of LeNet with
// batch 2 x 64 ends at the weights one process with batch 128 reaches from the same seed (the same
// init: torch.manual_seed) and the same order: each process takes every other sample of the epoch's
// order (DistributedSampler, shuffle=False, over the order), so step k of both runs sees the samples
// k*128 .. k*128+127, and DDP's mean of the two half-batch gradients is the full batch's mean
// gradient. Tolerance: atol 1e-6 (measured 3e-8: float32 sums in another order; weights ~0.3).
// The saved pair passes the checks `cnnc train --resume` makes before compiling (readRun), and the
// optimizer file holds exactly the tensors cnnc's holds (momentum buffers, F32, the parameters'
// shapes). The round trip through cnnc itself (eval, train --resume) is ddp-cnnc.test.ts (gpu set).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { epochOrder } from '../../runtime/data/batches.ts';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { readRun } from '../../runtime/train/resume.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { freePort, withMomentum, python, run } from './torch-train.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-ddp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let file: string;
let out: string;
beforeAll(async () => {
  file = withMomentum(dir);
  out = join(dir, 'lenet');
  for (const [model, at] of [
    [file, out],
    ['dsl-examples/lenet-relu.cnn', join(dir, 'other')],
  ] as const) {
    const r = await cnncInProcess('export', model, '--torch-train', at);
    expect([r.code, r.stderr]).toEqual([0, '']);
  }
});

describe('cnnc export --torch-train', () => {
  it("orders each epoch's samples as cnnc does", () => {
    const cases = [
      [1000, true, 0, 1],
      [257, true, 42, 3],
      [10, false, 7, 2],
      [5000, true, -5, 11],
    ] as const;
    const script = `import json, sys; sys.path.insert(0, '.'); import train
print(json.dumps([train.epoch_order(*c).tolist() for c in json.loads(sys.argv[1])]))`;
    const orders = JSON.parse(run(['-c', script, JSON.stringify(cases)], out)) as number[][];
    cases.forEach(([count, shuffle, seed, epoch], i) =>
      expect(orders[i]).toEqual([...epochOrder(count, shuffle, seed, epoch)]),
    );
  });

  it('trains under torchrun with 2 processes to the weights of one process, and saves the pair cnnc resumes', async () => {
    const single = join(dir, 'single.safetensors');
    const ddp = join(dir, 'ddp.safetensors');
    const t0 = performance.now();
    run(['train.py', '--steps', '20', '--save', single], out);
    const t1 = performance.now();
    const port = await freePort();
    // --redirects/--tee: Debian's torchrun 1.13 on Python 3.12 cannot parse their default "0"
    // (Std.NONE is not iterated by 3.12's enum); 1 (stdout) parses, and --tee keeps it on the console.
    const printed = run(
      [
        '-m',
        'torch.distributed.run',
        '--nproc_per_node',
        '2',
        '--master_addr',
        '127.0.0.1',
        '--master_port',
        String(port),
        '--redirects',
        '1',
        '--tee',
        '1',
        '--log_dir',
        join(dir, 'logs'),
        'train.py',
        '--steps',
        '20',
        '--save',
        ddp,
      ],
      out,
    );
    const t2 = performance.now();
    console.log(
      `20 steps of LeNet: one process ${((t1 - t0) / 1000).toFixed(1)} s, torchrun 2 processes ${((t2 - t1) / 1000).toFixed(1)} s`,
    );
    expect(printed).toContain('batch 128 (2 x 64)');

    const a = readCheckpoint(single);
    const b = readCheckpoint(ddp);
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors) {
      const u = b.tensors.get(name)!;
      expect(u.shape).toEqual(t.shape);
      const diff = Math.max(
        ...Array.from(t.data as Float32Array, (v, i) => Math.abs(v - (u.data as Float32Array)[i]!)),
      );
      expect(diff, name).toBeLessThan(1e-6);
    }

    const graph = analyze(file, readFileSync(file, 'utf8')).shaped!;
    const saved = readRun(ddp, graph);
    expect({
      steps: saved.steps,
      epoch: saved.epoch,
      batch: saved.batch,
      shuffle: saved.shuffle,
      seed: saved.seed,
      position: saved.position && { samples: saved.position.samples, batches: saved.position.batches },
    }).toEqual({ steps: 20, epoch: 0, batch: 128, shuffle: true, seed: 0, position: { samples: 2560, batches: 20 } });
    expect(saved.optimizer).toEqual({ kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0 });
    // cnnc's optimizer file: one momentum buffer per parameter, F32, the parameter's shape.
    const params = graph.nodes.flatMap((n) => n.params.filter((p) => p.role === 'weight' || p.role === 'bias'));
    expect([...saved.state.tensors].map(([name, t]) => [name, t.dtype, t.shape]).sort()).toEqual(
      params.map((p) => [`${p.name}.momentum_buffer`, 'F32', [...p.shape]]).sort(),
    );
  }, 120_000);

  it('refuses a checkpoint of another model by name', () => {
    const other = join(dir, 'other');
    const r = spawnSync(python, ['train.py', '--resume', join(dir, 'ddp.safetensors')], {
      cwd: other,
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^train.py: .*ddp.optim.safetensors: holds the training state of model LeNet, not LeNetReLU\n$/,
    );
  });
});
