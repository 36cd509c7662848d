// `cnnc export --torch` for every model of every example file: the module PyTorch builds from the
// exported file takes a checkpoint written by cnnc with load_state_dict(strict=True), its
// state_dict keys come in cnnc's order, its parameter count is cnnc's, and its forward pass in eval
// mode (float64) equals cnnc's float64 reference interpreter (runtime/reference) on the same
// weights and batch within rtol 1e-9, atol 1e-12 (both float64: only the summation order differs).
// Large models run at a small input size (`smallest`). PyTorch: /usr/bin/python3, Debian's 1.13.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllclose } from '../helpers/allclose.ts';
import { numel } from '../../compiler/ir/graph.ts';
import { exampleModels, exportModel, referenceOutput, runTorch, smallest, type TorchRun } from './exported.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-export-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every example model, exported to PyTorch', () => {
  const models = exampleModels();
  const cases = models.map(({ file, model }) => exportModel(dir, `${file}:${model}`, smallest(file, model, 1)));
  let runs: TorchRun[] = [];
  beforeAll(() => {
    runs = runTorch(dir, cases, 'float64');
  });

  it('covers every model of every file', () => {
    expect(models.length).toBeGreaterThan(25);
    expect(models.map((m) => m.model)).toEqual(
      expect.arrayContaining(['LeNet', 'ResNet18', 'GoogleNet', 'DenseNet', 'Residual6']),
    );
  });

  it.each(cases.map((c, i) => [c.key, i] as const))('%s', (_key, i) => {
    const c = cases[i]!;
    const run = runs[i]!;
    const names = c.graph.nodes.flatMap((n) => n.params.map((p) => p.name));
    expect(run.keys).toEqual(names);
    const learnable = c.graph.nodes.flatMap((n) => n.params.filter((p) => p.learnable).map((p) => numel(p.shape)));
    expect(run.params).toBe(learnable.reduce((a, b) => a + b, 0));
    const out = c.graph.nodes[c.graph.output]!.shape;
    expect(run.shape).toEqual([...out]);
    expectAllclose(run.output, referenceOutput(c), { rtol: 1e-9, atol: 1e-12 }, c.key);
  });
});
