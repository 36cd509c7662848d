// Inline .cnn snippets for tests: analyze a source string and get shapes or diagnostics back.
import { analyze, type FrontendOptions } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import type { ShapedGraph } from '../../compiler/ir/graph.ts';

/** The shaped graph of `src`; fails the test with the rendered diagnostics if there are errors. */
export function shaped(src: string, options: FrontendOptions = {}): ShapedGraph {
  const r = analyze('test.cnn', src, options);
  if (!r.shaped) throw new Error(`unexpected errors:\n${renderDiagnostics(r.diagnostics.all)}`);
  return r.shaped;
}

export function outputShape(src: string, options: FrontendOptions = {}): number[] {
  const g = shaped(src, options);
  return [...g.nodes[g.output]!.shape];
}

/** `CODE@line:col` of each diagnostic. */
export function errors(src: string, options: FrontendOptions = {}): string[] {
  const r = analyze('test.cnn', src, options);
  return r.diagnostics.all.map((d) => {
    const pos = d.span ? d.span.file.position(d.span.start) : null;
    return pos ? `${d.code}@${pos.line}:${pos.col}` : d.code;
  });
}

/** A one-layer model around `layer` with input [C, H, W]. */
export const oneLayer = (input: string, layer: string): string => `model M {\n  input [${input}]\n  ${layer}\n}\n`;
