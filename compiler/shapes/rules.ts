// Shape rules: output shape, parameters and FLOPs of every op from its input shapes (NCHW).
// A missing op here is a type error, so a new op cannot skip shape inference.
import type { DiagCode } from '../diagnostics/codes.ts';
import { formatShape, numel, type NodeOf, type ParamRole, type Shape } from '../ir/graph.ts';
import type { OpKind, Pair } from '../ir/ops.ts';
import { poolOptions, windowMissingInput, windowOutSize } from '../ir/pool-window.ts';
import { conv3dRule, pool3dRule } from './rules3d.ts';

export interface ParamShape {
  readonly role: ParamRole;
  readonly shape: Shape;
}

export type RuleResult =
  | { readonly ok: true; readonly shape: Shape; readonly params: readonly ParamShape[]; readonly flops: number }
  | { readonly ok: false; readonly code: DiagCode; readonly message: string; readonly help?: string };

type ShapeRule<K extends OpKind> = (node: NodeOf<K>, inputs: readonly Shape[], batch: number) => RuleResult;

const ok = (shape: Shape, flops = 0, params: readonly ParamShape[] = []): RuleResult => ({
  ok: true,
  shape,
  params,
  flops,
});
const err = (code: DiagCode, message: string, help?: string): RuleResult =>
  help === undefined ? { ok: false, code, message } : { ok: false, code, message, help };

const fmtPair = (p: Pair): string => (p[0] === p[1] ? String(p[0]) : `(${p[0]}, ${p[1]})`);

function rank4(what: string, x: Shape): RuleResult | null {
  if (x.length === 4) return null;
  return err(
    'E0301',
    `${what} expects a 4-D input [N, C, H, W], got ${formatShape(x)}`,
    x.length === 2 ? 'this input is already flattened; move `flatten` after the spatial layers' : undefined,
  );
}

/**
 * Spatial output size of a sliding window, as PyTorch: floor((n + 2p - d(k - 1) - 1) / s) + 1, or
 * with ceil_mode rounded up while the last window starts inside the input or its left padding.
 * Returns an error when the (dilated) window does not fit the padded input.
 */
function windowOut(what: string, x: Shape, k: Pair, s: Pair, p: Pair, d: Pair, ceilMode = false): Pair | RuleResult {
  const out: number[] = [];
  for (const i of [0, 1] as const) {
    const o = windowOutSize(x[2 + i]!, k[i], s[i], p[i], d[i], ceilMode);
    if (o < 1) {
      return err(
        'E0302',
        `${what} window ${fmtPair([d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1])} (kernel ${fmtPair(k)}${d[0] * d[1] > 1 ? `, dilation ${fmtPair(d)}` : ''}) is larger than its padded input ${x[2]! + 2 * p[0]}x${x[3]! + 2 * p[1]} (input ${formatShape(x)}, padding ${fmtPair(p)})`,
      );
    }
    out.push(o);
  }
  return [out[0]!, out[1]!];
}

function pool(what: string, node: NodeOf<'maxpool2d' | 'avgpool2d'>, x: Shape): RuleResult {
  const bad = rank4(what, x);
  if (bad) return bad;
  const { kernel: k, stride: s, padding: p } = node.attrs;
  const { dilation: d, ceilMode } = poolOptions(node.attrs);
  // PyTorch: "pad should be at most half of kernel size" (the kernel, not the dilated window).
  if (p[0] * 2 > k[0] || p[1] * 2 > k[1])
    return err('E0211', `${what} padding ${fmtPair(p)} must be at most half the kernel ${fmtPair(k)}`);
  const o = windowOut(what, x, k, s, p, d, ceilMode);
  if (!Array.isArray(o)) return o as RuleResult;
  for (const i of [0, 1] as const) {
    const miss = windowMissingInput(x[2 + i]!, o[i], k[i], s[i], p[i], d[i]);
    if (miss >= 0) {
      return err(
        'E0302',
        `${what} window ${miss} along ${i === 0 ? 'H' : 'W'} (kernel ${k[i]}, dilation ${d[i]}, padding ${p[i]}) reads only padding of the input ${formatShape(x)}`,
        'PyTorch would give -inf there; use a smaller dilation or padding',
      );
    }
  }
  const shape = [x[0]!, x[1]!, o[0], o[1]];
  return ok(shape, numel(shape) * k[0] * k[1]);
}

function elementwise<K extends OpKind>(flopsPerElement: number): ShapeRule<K> {
  return (_node, [x]) => ok(x!, numel(x!) * flopsPerElement);
}

export const shapeRules: { readonly [K in OpKind]: ShapeRule<K> } = {
  input: (node, _inputs, batch) => ok([batch, ...node.attrs.shape]),
  conv2d: (node, [x]) => {
    const bad = rank4('conv', x!);
    if (bad) return bad;
    const a = node.attrs;
    const c = x![1]!;
    if (c % a.groups !== 0 || a.outChannels % a.groups !== 0) {
      return err(
        'E0305',
        `conv groups = ${a.groups} must divide both the input channels (${c}) and the output channels (${a.outChannels})`,
      );
    }
    const o = windowOut('conv', x!, a.kernel, a.stride, a.padding, a.dilation);
    if (!Array.isArray(o)) return o as RuleResult;
    const shape = [x![0]!, a.outChannels, o[0], o[1]];
    const weight = [a.outChannels, c / a.groups, a.kernel[0], a.kernel[1]];
    const macs = numel(shape) * (c / a.groups) * a.kernel[0] * a.kernel[1];
    const params: ParamShape[] = [{ role: 'weight', shape: weight }];
    if (a.bias) params.push({ role: 'bias', shape: [a.outChannels] });
    return ok(shape, 2 * macs + (a.bias ? numel(shape) : 0), params);
  },
  linear: (node, [x]) => {
    if (x!.length !== 2) {
      return err(
        'E0301',
        `linear expects a 2-D input [N, F], got ${formatShape(x!)}`,
        x!.length >= 4 ? 'add `flatten` before it' : undefined,
      );
    }
    const a = node.attrs;
    const shape = [x![0]!, a.outFeatures];
    const params: ParamShape[] = [{ role: 'weight', shape: [a.outFeatures, x![1]!] }];
    if (a.bias) params.push({ role: 'bias', shape: [a.outFeatures] });
    return ok(shape, 2 * numel(shape) * x![1]! + (a.bias ? numel(shape) : 0), params);
  },
  maxpool2d: (node, [x]) => pool('maxpool', node, x!),
  avgpool2d: (node, [x]) => pool('avgpool', node, x!),
  adaptive_avgpool2d: (node, [x]) => {
    const bad = rank4('adaptive_avgpool', x!);
    if (bad) return bad;
    const [oh, ow] = node.attrs.output;
    return ok([x![0]!, x![1]!, oh, ow], numel(x!));
  },
  conv3d: (node, [x]) => conv3dRule(node, x!),
  maxpool3d: (node, [x]) => pool3dRule(node, x!),
  avgpool3d: (node, [x]) => pool3dRule(node, x!),
  batchnorm: (_node, [x]) => {
    if (x!.length !== 2 && x!.length !== 4 && x!.length !== 5)
      return err('E0301', `batchnorm expects [N, C, H, W], [N, C, D, H, W] or [N, F], got ${formatShape(x!)}`);
    const c = x![1]!;
    return ok(x!, 2 * numel(x!), [
      { role: 'weight', shape: [c] },
      { role: 'bias', shape: [c] },
      { role: 'running_mean', shape: [c] },
      { role: 'running_var', shape: [c] },
      { role: 'num_batches_tracked', shape: [] },
    ]);
  },
  dropout: elementwise(1),
  flatten: (_node, [x]) => {
    if (x!.length < 2) return err('E0301', `flatten expects at least [N, F], got ${formatShape(x!)}`);
    return ok([x![0]!, numel(x!.slice(1))]);
  },
  relu: elementwise(1),
  sigmoid: elementwise(4),
  tanh: elementwise(4),
  identity: elementwise(0),
  leaky_relu: elementwise(2),
  add: (_node, [a, b]) => {
    if (formatShape(a!) !== formatShape(b!)) {
      return err(
        'E0303',
        `cannot add tensors of different shapes: ${formatShape(a!)} + ${formatShape(b!)}`,
        a!.length === 4 && b!.length === 4
          ? 'a 1x1 conv on the shortcut (with the same stride) can match channels and size'
          : undefined,
      );
    }
    return ok(a!, numel(a!));
  },
  concat: (_node, xs) => {
    const first = xs[0]!;
    for (const x of xs) {
      const bad = rank4('concat', x);
      if (bad) return bad;
      if (x[0] !== first[0] || x[2] !== first[2] || x[3] !== first[3]) {
        return err('E0303', `concat needs the same N, H and W on every input: ${xs.map(formatShape).join(', ')}`);
      }
    }
    return ok([first[0]!, xs.reduce((c, x) => c + x[1]!, 0), first[2]!, first[3]!]);
  },
};
