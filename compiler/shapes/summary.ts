// `cnnc summary`: per-layer output shape, parameters and FLOPs, like d2l's layer_summary.
import { formatShape, numel, type Shape, type ShapedGraph, type ShapedNode } from '../ir/graph.ts';
import { opDisplayNames } from '../ir/ops.ts';
import { totalParams } from './infer.ts';
import { location } from '../diagnostics/render.ts';

export interface SummaryRow {
  /** Parameter path of the layer or block instance ("3", "1.0"); "" for the input. */
  readonly name: string;
  /** PyTorch class name for layers (Conv2d), the block's name for collapsed blocks. */
  readonly op: string;
  readonly outputShape: Shape;
  /** Learnable parameters (running statistics excluded, as PyTorch's numel over parameters()). */
  readonly params: number;
  readonly flops: number;
  /** Source position `file:line:col`. */
  readonly source: string;
}

/** One state_dict entry (d2l prints `net[0].weight.shape`). */
export interface ParamRow {
  readonly name: string;
  readonly shape: Shape;
  readonly numel: number;
  /** False for batch norm's buffers (running statistics, num_batches_tracked). */
  readonly learnable: boolean;
}

export interface Summary {
  readonly model: string;
  readonly input: Shape;
  readonly layers: readonly SummaryRow[];
  /** Every parameter and buffer, in state_dict order. */
  readonly params: readonly ParamRow[];
  readonly totalParams: number;
  readonly totalFlops: number;
}

/** PyTorch's class name for a layer; batch norm's depends on the rank it sees. */
export function layerName(n: ShapedNode): string {
  return n.op === 'batchnorm'
    ? `BatchNorm${n.shape.length === 5 ? '3d' : n.shape.length === 4 ? '2d' : '1d'}`
    : opDisplayNames[n.op];
}

const learnable = (n: ShapedNode): number =>
  n.params.filter((p) => p.learnable).reduce((s, p) => s + numel(p.shape), 0);

/**
 * Expanded: one row per layer. Collapsed: one row per top-level layer or block call, as d2l's
 * layer_summary prints one row per child of the model's nn.Sequential.
 */
export function summarize(graph: ShapedGraph, mode: 'collapsed' | 'expanded'): Summary {
  const body = graph.nodes.filter((n) => n.op !== 'input');
  const rows: SummaryRow[] = [];
  if (mode === 'expanded') {
    for (const n of body) {
      rows.push({
        name: n.path,
        op: layerName(n),
        outputShape: n.shape,
        params: learnable(n),
        flops: n.flops,
        source: location(n.span),
      });
    }
  } else {
    // Nodes of one top-level call are contiguous in topological order (blocks expand in place).
    for (const n of body) {
      const call = n.callers[0];
      const key = call ? n.path.split('.')[0]! : n.path;
      const last = rows.at(-1);
      if (call && last && last.name === key) {
        rows[rows.length - 1] = {
          ...last,
          outputShape: n.shape,
          params: last.params + learnable(n),
          flops: last.flops + n.flops,
        };
      } else {
        rows.push({
          name: key,
          op: call ? call.block : layerName(n),
          outputShape: n.shape,
          params: learnable(n),
          flops: n.flops,
          source: location(call?.span ?? n.span),
        });
      }
    }
  }
  const input = graph.nodes.find((n) => n.op === 'input')!;
  const params = graph.nodes.flatMap((n) =>
    n.params.map((p) => ({ name: p.name, shape: p.shape, numel: numel(p.shape), learnable: p.learnable })),
  );
  return {
    model: graph.model,
    input: input.shape,
    layers: rows,
    params,
    totalParams: totalParams(graph),
    totalFlops: body.reduce((s, n) => s + n.flops, 0),
  };
}

const group = (x: number): string => x.toLocaleString('en-US');

export function formatFlops(f: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [scale, u] of units) if (f >= scale) return `${(f / scale).toFixed(2)} ${u}FLOP`;
  return `${f} FLOP`;
}

/** Columns padded to their widest cell; columns from `right` on are right-aligned. */
function columns(rows: readonly string[][], right: number): { line: (row: string[]) => string; width: number } {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (i >= right ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return { line, width: widths.reduce((a, b) => a + b + 2, -2) };
}

/** `--params`: every state_dict entry with its shape and size; buffers marked. */
function renderParams(params: readonly ParamRow[]): string[] {
  if (params.length === 0) return ['no parameters'];
  // The fourth column marks buffers, when the model has any.
  const marks = params.some((p) => !p.learnable);
  const header = ['parameter', 'shape', 'count', ...(marks ? [''] : [])];
  const body = params.map((p) => [
    p.name,
    formatShape(p.shape),
    group(p.numel),
    ...(marks ? [p.learnable ? '' : 'buffer'] : []),
  ]);
  const { line, width } = columns([header, ...body], 2);
  return [line(header), '-'.repeat(width), ...body.map(line)];
}

export function renderSummary(s: Summary, withParams = false): string {
  const header = ['layer', 'op', 'output shape', 'params', 'FLOPs'];
  const body = s.layers.map((r) => [r.name, r.op, formatShape(r.outputShape), group(r.params), formatFlops(r.flops)]);
  const { line, width } = columns([header, ...body], 3);
  const rule = '-'.repeat(width);
  return [
    `model ${s.model}, input ${formatShape(s.input)}`,
    line(header),
    rule,
    ...body.map(line),
    rule,
    `total params: ${group(s.totalParams)}`,
    `total FLOPs (forward, batch ${s.input[0]}): ${formatFlops(s.totalFlops)}`,
    ...(withParams ? ['', ...renderParams(s.params)] : []),
  ].join('\n');
}

export function summaryJson(s: Summary, withParams = false): object {
  return {
    model: s.model,
    input: s.input,
    layers: s.layers.map((r) => ({
      name: r.name,
      op: r.op,
      outputShape: r.outputShape,
      params: r.params,
      flops: r.flops,
    })),
    ...(withParams ? { parameters: s.params } : {}),
    totalParams: s.totalParams,
    totalFlops: s.totalFlops,
  };
}
