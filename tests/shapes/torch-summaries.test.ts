// Every example model against PyTorch: per-layer output shapes, state_dict names (in order) and shapes, and
// parameter totals, from tests/fixtures/torch/summaries.json (made by tests/fixtures/gen/summaries.py
// with Debian's PyTorch 1.13; exact integer comparisons).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { summarize } from '../../compiler/shapes/summary.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { numel } from '../../compiler/ir/graph.ts';

interface TorchSummary {
  file: string;
  model: string;
  input: number[];
  layers: { path: string; op: string; outputShape: number[] }[];
  params: Record<string, number[]>;
  totalParams: number;
  output: number[];
}

const root = join(import.meta.dirname, '..', '..');
const fixtures = JSON.parse(readFileSync(join(root, 'tests/fixtures/torch/summaries.json'), 'utf8')) as Record<
  string,
  TorchSummary
>;

const buffer = /\.(running_mean|running_var|num_batches_tracked)$/;

describe('example models match PyTorch', () => {
  it.each(Object.entries(fixtures))('%s', (_key, t) => {
    const path = join('dsl-examples', t.file);
    const r = analyze(path, readFileSync(join(root, path), 'utf8'), {
      model: t.model,
      batch: t.input[0]!,
      inputShape: t.input.slice(1),
    });
    if (!r.shaped) throw new Error(renderDiagnostics(r.diagnostics.all));
    const g = r.shaped;
    expect([...g.nodes[g.output]!.shape]).toEqual(t.output);
    const layers = summarize(g, 'expanded')
      .layers.filter((l) => l.op !== 'Add' && l.op !== 'Concat')
      .map((l) => ({ path: l.name, op: l.op, outputShape: [...l.outputShape] }));
    expect(layers).toEqual(t.layers);
    // The state_dict in PyTorch's order, as `cnnc summary --params` lists it; buffers not learnable.
    const summary = summarize(g, 'collapsed');
    expect(summary.params.map((p) => [p.name, [...p.shape]])).toEqual(Object.entries(t.params));
    for (const p of summary.params) expect([p.numel, p.learnable]).toEqual([numel(p.shape), !buffer.test(p.name)]);
    expect(summary.totalParams).toBe(t.totalParams);
  });
});
