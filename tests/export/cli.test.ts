// `cnnc export` through the CLI (in process, no GPU): the flags it refuses, the located error for
// a layer PyTorch export does not know, a checkpoint of another model refused by name, a missing
// Python or PyTorch named as such, and `--onnx` checked in an independent runtime: ONNX Runtime
// (onnxruntime-node) runs the file and its output equals cnnc's float64 reference interpreter on
// the same weights and batch within rtol 1e-4, atol 1e-5 (float32 inference against float64), for
// LeNet, ResNet-18 (residual `+`, batch norm) and GoogLeNet and DenseNet (`concat`) at 32x32.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { DiagnosticBag } from '../../compiler/diagnostics/diagnostic.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { torchModule } from '../../compiler/export/torch.ts';
import type { ShapedGraph } from '../../compiler/ir/graph.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { exportModel, referenceOutput, root } from './exported.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-export-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lenet = 'dsl-examples/lenet.cnn';

describe('cnnc export: refused input', () => {
  it('wants exactly one target', async () => {
    for (const args of [[], ['--torch', join(dir, 'a.py'), '--onnx', join(dir, 'a.onnx')]]) {
      const r = await cnncInProcess('export', lenet, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^cnnc: export writes one thing: give exactly one of --torch OUT.py, --torch-train DIR, --onnx OUT.onnx or --web DIR/,
      );
    }
    const r = await cnncInProcess('export', lenet, '--torch', join(dir, 'a.py'), '--weights', 'w.safetensors');
    expect([r.code, r.stderr]).toEqual([
      1,
      'cnnc: --weights goes with --onnx or --web (a --torch module loads weights itself: load_cnnc)\n',
    ]);
  });

  it('refuses an output that is the model', async () => {
    const r = await cnncInProcess('export', lenet, '--torch', lenet);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('would overwrite the model');
  });

  it('names the layer whose op or attribute it cannot write, at its line', () => {
    const front = analyze(lenet, readFileSync(join(root, lenet), 'utf8'));
    const g = front.shaped!;
    // As a new op or a new pooling option would arrive from the IR before the exporter knows it.
    const withNode = (id: number, change: object): ShapedGraph => ({
      ...g,
      nodes: g.nodes.map((n) => (n.id === id ? ({ ...n, ...change } as typeof n) : n)),
    });
    const pool = g.nodes.find((n) => n.op === 'avgpool2d')!;
    for (const [graph, message] of [
      [withNode(pool.id, { op: 'future_pool' }), '`future_pool` has no PyTorch equivalent in `cnnc export` yet'],
      [
        withNode(pool.id, { attrs: { ...pool.attrs, futureOption: true } }),
        "`cnnc export` cannot express avgpool2d's `futureOption` in PyTorch yet",
      ],
    ] as const) {
      const bag = new DiagnosticBag();
      expect(torchModule(graph, [], lenet, bag)).toBeNull();
      const text = renderDiagnostics(bag.all);
      expect(text).toContain(`error[E0501]: ${message}`);
      expect(text).toContain(`${lenet}:18:3`);
    }
  });

  it('refuses weights of another model by name, before running Python', async () => {
    const other = exportModel(
      dir,
      'other',
      analyze('dsl-examples/corr2d.cnn', readFileSync(join(root, 'dsl-examples/corr2d.cnn'), 'utf8')),
    );
    const r = await cnncInProcess('export', lenet, '--onnx', join(dir, 'x.onnx'), '--weights', other.weights);
    expect([r.code, r.stderr]).toEqual([1, `cnnc: ${other.weights} holds weights of model Corr2d, not LeNet\n`]);
    expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
  });

  it('says what to install when Python or PyTorch is missing', async () => {
    const saved = process.env.CNNC_PYTHON;
    try {
      process.env.CNNC_PYTHON = join(dir, 'no-python');
      let r = await cnncInProcess('export', lenet, '--onnx', join(dir, 'x.onnx'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `--onnx needs Python 3 with PyTorch (Debian: apt install python3-torch; another interpreter: CNNC_PYTHON=/path/to/python): cannot run ${join(dir, 'no-python')}: not found`,
      );
      // A Python without its site packages: no torch.
      const bare = join(dir, 'bare-python');
      writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n', { mode: 0o755 });
      process.env.CNNC_PYTHON = bare;
      r = await cnncInProcess('export', lenet, '--onnx', join(dir, 'x.onnx'));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot import torch`);
    } finally {
      if (saved === undefined) delete process.env.CNNC_PYTHON;
      else process.env.CNNC_PYTHON = saved;
    }
  });
});

describe('cnnc export --torch', () => {
  it('writes the module and names its class', async () => {
    const out = join(dir, 'lenet.py');
    const r = await cnncInProcess('export', lenet, '--torch', out);
    expect([r.code, r.stdout]).toEqual([0, `wrote ${out}: class LeNet (from lenet import model, load_cnnc)\n`]);
    expect(readFileSync(out, 'utf8')).toContain('class LeNet(nn.Module):');
  });
});

describe('cnnc export --onnx, run by ONNX Runtime', () => {
  it.each([
    ['dsl-examples/lenet.cnn', null],
    ['dsl-examples/resnet18.cnn', 32],
    ['dsl-examples/googlenet.cnn', 32],
    ['dsl-examples/densenet.cnn', 32],
  ] as const)('%s at %s', async (file, size) => {
    const text = readFileSync(join(root, file), 'utf8');
    const c = exportModel(
      dir,
      `onnx-${file}`,
      analyze(file, text, { batch: 3, ...(size ? { inputSize: [size, size] as const } : {}) }),
    );
    const out = join(dir, `${c.graph.model}.onnx`);
    const r = await cnncInProcess(
      'export',
      file,
      '--onnx',
      out,
      '--weights',
      c.weights,
      ...(size ? ['--resize', String(size)] : []),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const session = await ort.InferenceSession.create(out);
    const input = c.graph.nodes.find((n) => n.op === 'input')!.shape;
    const result = await session.run({ input: new ort.Tensor('float32', c.x, [...input]) });
    expect([...result.output!.dims]).toEqual([...c.graph.nodes[c.graph.output]!.shape]);
    expectAllclose(result.output!.data as Float32Array, referenceOutput(c), { rtol: 1e-4, atol: 1e-5 }, file);
  });
});
