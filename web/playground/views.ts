// The model's views: the summary table (compiler/shapes/summary.ts's rows), the graph (one box per
// layer, as `cnnc compile --emit graph` lists them) and the kernels (the WGSL `cnnc kernels`
// prints, each kernel's header linked to its .cnn lines, each layer to its kernels).
import { distinctCalls } from '../../compiler/codegen/index.ts';
import { kernelLimits } from '../../compiler/codegen/limits.ts';
import { type Compiled, compileModel, type FrontendResult } from '../../compiler/index.ts';
import { formatShape, type ShapedGraph } from '../../compiler/ir/graph.ts';
import { formatFlops, summarize } from '../../compiler/shapes/summary.ts';
import { el, svg } from './dom.ts';

/** Jumps the editor to `file:line:col` (a location the compiler printed). */
export type GoTo = (location: string) => void;

/** `file:line:col` at the start of a summary source or a kernel header's layer entry. */
const LOCATION = /^(.*):(\d+):(\d+)/;

function sourceLink(location: string, goTo: GoTo): HTMLElement {
  const a = el('a', { 'data-location': location }, location);
  a.addEventListener('click', () => goTo(location));
  return a;
}

export function summaryView(graph: ShapedGraph, goTo: GoTo): HTMLElement {
  const s = summarize(graph, 'collapsed');
  const head = el(
    'tr',
    {},
    ...['layer', 'type', 'output shape', 'params', 'FLOPs', 'source'].map((h) => el('th', {}, h)),
  );
  const rows = s.layers.map((r) =>
    el(
      'tr',
      {},
      el('td', {}, r.name),
      el('td', { class: 'op' }, r.op),
      el('td', {}, formatShape(r.outputShape)),
      el('td', {}, r.params.toLocaleString('en-US')),
      el('td', {}, formatFlops(r.flops)),
      el('td', { class: 'op' }, sourceLink(r.source, goTo)),
    ),
  );
  const total = el(
    'tr',
    {},
    el('th', {}, 'total'),
    el('th', {}),
    el('th', {}),
    el('th', {}, s.totalParams.toLocaleString('en-US')),
    el('th', {}, formatFlops(s.totalFlops)),
    el('th', {}),
  );
  return el(
    'div',
    {},
    el('p', {}, `model ${s.model}, input ${formatShape(s.input)}`),
    el('table', { id: 'summary' }, head, ...rows, total),
  );
}

const BOX = { w: 260, h: 40, gap: 22 };

/** Boxes top to bottom in the graph's order; an edge that skips boxes arcs on the right. */
export function graphView(graph: ShapedGraph): SVGElement {
  const y = (i: number): number => 10 + i * (BOX.h + BOX.gap);
  const index = new Map(graph.nodes.map((n, i) => [n.id, i]));
  const parts: SVGElement[] = [];
  graph.nodes.forEach((n, i) => {
    for (const input of n.inputs) {
      const from = index.get(input)!;
      if (from === i - 1) {
        parts.push(
          svg('line', { x1: 10 + BOX.w / 2, y1: y(from) + BOX.h, x2: 10 + BOX.w / 2, y2: y(i), class: 'edge' }),
        );
      } else {
        const bend = 10 + BOX.w + 20 + 12 * (i - from);
        const [y1, y2] = [y(from) + BOX.h / 2, y(i) + BOX.h / 2];
        parts.push(
          svg('path', {
            d: `M ${10 + BOX.w} ${y1} C ${bend} ${y1}, ${bend} ${y2}, ${10 + BOX.w} ${y2}`,
            class: 'edge',
          }),
        );
      }
    }
    parts.push(
      svg('rect', { x: 10, y: y(i), width: BOX.w, height: BOX.h, rx: 4, class: 'node' }),
      svg('text', { x: 18, y: y(i) + 16 }, `${n.path === '' ? '' : `${n.path} `}${n.op}`),
      svg('text', { x: 18, y: y(i) + 32, class: 'shape' }, formatShape(n.shape)),
    );
  });
  const height = y(graph.nodes.length);
  return svg(
    'svg',
    { id: 'graph', width: BOX.w + 200, height, viewBox: `0 0 ${BOX.w + 200} ${height}` },
    svg(
      'style',
      {},
      '.node{fill:#eef4fb;stroke:#1f3b57}.edge{fill:none;stroke:#555}text{font:12px monospace}.shape{fill:#0b6e4f}',
    ),
    ...parts,
  );
}

/**
 * The kernels as `cnnc kernels FILE [--subgroups]` compiles them: training kernels at the train
 * section's batch, WebGPU's default limits; from the editor's analysis, not parsed again.
 */
export function compileKernels(front: FrontendResult, subgroups: boolean): Compiled {
  return compileModel(front, {
    training: true,
    limits: kernelLimits(subgroups),
    limitSeverity: 'warning',
  });
}

const PASSES = [
  { pass: 'forward', title: 'Forward pass (cnnc kernels)' },
  { pass: 'train', title: 'Training step (cnnc kernels --backward)' },
] as const;

const kernelId = (pass: string, name: string): string => `kernel-${pass}-${name}`;

export function kernelsView(c: Compiled, goTo: GoTo): HTMLElement {
  // Each layer (its `file:line:col  text` entry) and the kernels that compute it, by pass.
  const layers = new Map<string, { forward: string[]; backward: string[] }>();
  // Each kernel once, as `cnnc kernels` lists them.
  const kernels = { forward: distinctCalls(c.kernels.forward), train: distinctCalls(c.kernels.train) };
  for (const { pass } of PASSES)
    for (const k of kernels[pass])
      for (const source of k.origin.sources) {
        const entry = layers.get(source) ?? { forward: [], backward: [] };
        layers.set(source, entry);
        if (pass === 'forward') entry.forward.push(k.kernel.name);
        else if (k.origin.phase === 'backward') entry.backward.push(k.kernel.name);
      }
  const link = (pass: string, name: string): HTMLElement => el('a', { href: `#${kernelId(pass, name)}` }, name);
  const layerList = el(
    'ul',
    { class: 'layer-links' },
    ...[...layers].map(([source, k]) =>
      el(
        'li',
        {},
        sourceLink(LOCATION.exec(source)?.[0] ?? source, goTo),
        ` ${source.replace(LOCATION, '').trim()}  forward: `,
        ...k.forward.map((n) => link('forward', n)),
        ' backward: ',
        ...k.backward.map((n) => link('train', n)),
      ),
    ),
  );
  const sections = PASSES.map(({ pass, title }) =>
    el(
      'div',
      {},
      el('h3', {}, title),
      ...kernels[pass].flatMap((k) => [
        el(
          'div',
          { class: 'kernel-head' },
          el('b', {}, k.kernel.name),
          ' from ',
          ...k.origin.sources.map((s) => sourceLink(LOCATION.exec(s)?.[0] ?? s, goTo)),
        ),
        el('pre', { class: 'kernel', id: kernelId(pass, k.kernel.name), 'data-pass': pass }, k.kernel.wgsl),
      ]),
    ),
  );
  return el('div', {}, el('h3', {}, 'Layers'), layerList, ...sections);
}
