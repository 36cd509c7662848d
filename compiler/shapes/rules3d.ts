// Shape rules of the 3-D ops (PyTorch Conv3d, MaxPool3d, AvgPool3d) on [N, C, D, H, W] inputs:
// output shape, parameters and forward FLOPs, as rules.ts gives them for the 2-D ops.
import { formatShape, numel, type NodeOf, type ParamRole, type Shape } from '../ir/graph.ts';
import type { Triple } from '../ir/ops.ts';

// rules.ts's RuleResult, restated to keep this file out of an import cycle with the table there.
type ParamShape = { readonly role: ParamRole; readonly shape: Shape };
type RuleResult =
  | { readonly ok: true; readonly shape: Shape; readonly params: readonly ParamShape[]; readonly flops: number }
  | {
      readonly ok: false;
      readonly code: 'E0301' | 'E0302' | 'E0305' | 'E0211';
      readonly message: string;
      readonly help?: string;
    };

const fail = (code: 'E0301' | 'E0302' | 'E0305' | 'E0211', message: string, help?: string): RuleResult =>
  help === undefined ? { ok: false, code, message } : { ok: false, code, message, help };
const fmt = (t: Triple): string => (t[0] === t[1] && t[1] === t[2] ? String(t[0]) : `(${t.join(', ')})`);

function rank5(what: string, x: Shape): RuleResult | null {
  if (x.length === 5) return null;
  return fail(
    'E0301',
    `${what} expects a 5-D input [N, C, D, H, W], got ${formatShape(x)}`,
    x.length === 4
      ? 'the 3-D layers need `input [C, D, H, W]`'
      : x.length === 2
        ? 'this input is already flattened; move `flatten` after the spatial layers'
        : undefined,
  );
}

interface Window3d {
  readonly kernel: Triple;
  readonly stride: Triple;
  readonly padding: Triple;
  readonly dilation: Triple;
}

/** [OD, OH, OW] as PyTorch: floor((n + 2p - d(k - 1) - 1) / s) + 1 per axis, or why the window does not fit. */
function volumeOut(what: string, x: Shape, w: Window3d): Triple | RuleResult {
  const extent = w.kernel.map((k, i) => w.dilation[i]! * (k - 1) + 1);
  const padded = x.slice(2).map((n, i) => n + 2 * w.padding[i]!);
  if (extent.some((e, i) => e > padded[i]!)) {
    const dilated = w.dilation.some((d) => d > 1) ? `, dilation ${fmt(w.dilation)}` : '';
    return fail(
      'E0302',
      `${what} window ${extent.join('x')} (kernel ${fmt(w.kernel)}${dilated}) is larger than its padded input ${padded.join('x')} (input ${formatShape(x)}, padding ${fmt(w.padding)})`,
    );
  }
  const out = padded.map((n, i) => Math.floor((n - extent[i]!) / w.stride[i]!) + 1);
  return [out[0]!, out[1]!, out[2]!];
}

const ok = (shape: Shape, flops: number, params: readonly ParamShape[] = []): RuleResult => ({
  ok: true,
  shape,
  params,
  flops,
});

export function conv3dRule(node: NodeOf<'conv3d'>, x: Shape): RuleResult {
  const bad = rank5('conv3d', x);
  if (bad) return bad;
  const a = node.attrs;
  const c = x[1]!;
  if (c % a.groups !== 0 || a.outChannels % a.groups !== 0) {
    return fail(
      'E0305',
      `conv3d groups = ${a.groups} must divide both the input channels (${c}) and the output channels (${a.outChannels})`,
    );
  }
  const o = volumeOut('conv3d', x, a);
  if (!Array.isArray(o)) return o as RuleResult;
  const shape = [x[0]!, a.outChannels, ...o];
  const weight = [a.outChannels, c / a.groups, ...a.kernel];
  const macs = numel(shape) * numel(weight.slice(1));
  const params: ParamShape[] = [{ role: 'weight', shape: weight }];
  if (a.bias) params.push({ role: 'bias', shape: [a.outChannels] });
  return ok(shape, 2 * macs + (a.bias ? numel(shape) : 0), params);
}

/** Max and average 3-D pooling: one FLOP per window element, as the 2-D pools count. */
export function pool3dRule(node: NodeOf<'maxpool3d' | 'avgpool3d'>, x: Shape): RuleResult {
  const what = node.op;
  const bad = rank5(what, x);
  if (bad) return bad;
  const w: Window3d = { dilation: [1, 1, 1], ...node.attrs };
  // PyTorch: "pad should be smaller than or equal to half of kernel size".
  if (w.padding.some((p, i) => p * 2 > w.kernel[i]!))
    return fail('E0211', `${what} padding ${fmt(w.padding)} must be at most half the kernel ${fmt(w.kernel)}`);
  const o = volumeOut(what, x, w);
  if (!Array.isArray(o)) return o as RuleResult;
  const shape = [x[0]!, x[1]!, ...o];
  return ok(shape, numel(shape) * numel(w.kernel));
}
