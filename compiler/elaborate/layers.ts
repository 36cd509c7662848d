// The built-in layers of the language: their argument signatures and the IR op each one makes.
import type { DiagCode } from '../diagnostics/codes.ts';
import { f32Problem } from '../ir/f32.ts';
import type { OpAttrs, OpKind, Pair, Triple } from '../ir/ops.ts';
import type { Value } from './values.ts';
import { typeName, show } from './values.ts';

type ArgType = 'int' | 'pair' | 'triple' | 'float' | 'bool';

interface ParamSig {
  readonly name: string;
  readonly type: ArgType;
  /** Smallest allowed value (each element, for pairs). */
  readonly min?: number;
  /** Floats: `min` itself is excluded (eps > 0). */
  readonly minOpen?: boolean;
  /** Floats: largest allowed value; with `maxOpen`, excluded (dropout's p < 1). */
  readonly max?: number;
  readonly maxOpen?: boolean;
  /** Absent: required. `null`: optional with no value (resolved by the builder). */
  readonly default?: number | boolean | null;
}

export type LayerArgs = ReadonlyMap<string, number | boolean | Pair | Triple | null>;

export interface LayerDef {
  readonly params: readonly ParamSig[];
  /** 'many' for concat: every leading tensor argument is an input. */
  readonly inputs: 1 | 'many';
  readonly build: (a: LayerArgs) => { op: OpKind; attrs: OpAttrs[OpKind] };
  readonly doc: string;
}

const int = (name: string, min: number, def?: number): ParamSig =>
  def === undefined ? { name, type: 'int', min } : { name, type: 'int', min, default: def };
const pair = (name: string, min: number, def?: number | null): ParamSig =>
  def === undefined ? { name, type: 'pair', min } : { name, type: 'pair', min, default: def };
const triple = (name: string, min: number, def?: number | null): ParamSig =>
  def === undefined ? { name, type: 'triple', min } : { name, type: 'triple', min, default: def };
const float = (name: string, def: number, range: Pick<ParamSig, 'min' | 'minOpen' | 'max' | 'maxOpen'>): ParamSig => ({
  name,
  type: 'float',
  default: def,
  ...range,
});
const flag = (name: string, def: boolean): ParamSig => ({ name, type: 'bool', default: def });

const p = (a: LayerArgs, name: string): Pair => a.get(name) as Pair;
const n = (a: LayerArgs, name: string): number => a.get(name) as number;
const none = (op: OpKind, doc: string): LayerDef => ({ params: [], inputs: 1, build: () => ({ op, attrs: {} }), doc });

/** The window arguments PyTorch's MaxPool2d and AvgPool2d share, in their order. */
const poolWindow = [pair('kernel', 1), pair('stride', 1, null), pair('padding', 0, 0)];

function windowAttrs(a: LayerArgs): { kernel: Pair; stride: Pair; padding: Pair } {
  // PyTorch: stride defaults to the kernel size.
  return {
    kernel: p(a, 'kernel'),
    stride: (a.get('stride') as Pair | null) ?? p(a, 'kernel'),
    padding: p(a, 'padding'),
  };
}

const t3 = (a: LayerArgs, name: string): Triple => a.get(name) as Triple;

/** 3-D pooling: PyTorch's MaxPool3d (with dilation) and AvgPool3d; stride defaults to the kernel. */
function pool3d(op: 'maxpool3d' | 'avgpool3d', doc: string): LayerDef {
  const window = [triple('kernel', 1), triple('stride', 1, null), triple('padding', 0, 0)];
  return {
    params: op === 'maxpool3d' ? [...window, triple('dilation', 1, 1)] : window,
    inputs: 1,
    build: (a) => {
      const common = {
        kernel: t3(a, 'kernel'),
        stride: (a.get('stride') as Triple | null) ?? t3(a, 'kernel'),
        padding: t3(a, 'padding'),
      };
      return { op, attrs: op === 'maxpool3d' ? { ...common, dilation: t3(a, 'dilation') } : common };
    },
    doc,
  };
}

export const layers: ReadonlyMap<string, LayerDef> = new Map<string, LayerDef>([
  [
    'conv',
    {
      params: [
        int('out', 1),
        pair('kernel', 1),
        pair('stride', 1, 1),
        pair('padding', 0, 0),
        pair('dilation', 1, 1),
        int('groups', 1, 1),
        flag('bias', true),
      ],
      inputs: 1,
      build: (a) => ({
        op: 'conv2d',
        attrs: {
          outChannels: n(a, 'out'),
          kernel: p(a, 'kernel'),
          stride: p(a, 'stride'),
          padding: p(a, 'padding'),
          dilation: p(a, 'dilation'),
          groups: n(a, 'groups'),
          bias: a.get('bias') as boolean,
        },
      }),
      doc: 'conv(out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true)',
    },
  ],
  [
    'linear',
    {
      params: [int('out', 1), flag('bias', true)],
      inputs: 1,
      build: (a) => ({ op: 'linear', attrs: { outFeatures: n(a, 'out'), bias: a.get('bias') as boolean } }),
      doc: 'linear(out, bias = true)',
    },
  ],
  [
    'maxpool',
    {
      params: [...poolWindow, pair('dilation', 1, 1), flag('ceil_mode', false)],
      inputs: 1,
      build: (a) => ({
        op: 'maxpool2d',
        attrs: { ...windowAttrs(a), dilation: p(a, 'dilation'), ceilMode: a.get('ceil_mode') as boolean },
      }),
      doc: 'maxpool(kernel, stride = kernel, padding = 0, dilation = 1, ceil_mode = false)',
    },
  ],
  [
    'avgpool',
    {
      params: [...poolWindow, flag('ceil_mode', false), flag('count_include_pad', true)],
      inputs: 1,
      build: (a) => ({
        op: 'avgpool2d',
        attrs: {
          ...windowAttrs(a),
          ceilMode: a.get('ceil_mode') as boolean,
          countIncludePad: a.get('count_include_pad') as boolean,
        },
      }),
      doc: 'avgpool(kernel, stride = kernel, padding = 0, ceil_mode = false, count_include_pad = true)',
    },
  ],
  [
    'conv3d',
    {
      params: [
        int('out', 1),
        triple('kernel', 1),
        triple('stride', 1, 1),
        triple('padding', 0, 0),
        triple('dilation', 1, 1),
        int('groups', 1, 1),
        flag('bias', true),
      ],
      inputs: 1,
      build: (a) => ({
        op: 'conv3d',
        attrs: {
          outChannels: n(a, 'out'),
          kernel: t3(a, 'kernel'),
          stride: t3(a, 'stride'),
          padding: t3(a, 'padding'),
          dilation: t3(a, 'dilation'),
          groups: n(a, 'groups'),
          bias: a.get('bias') as boolean,
        },
      }),
      doc: 'conv3d(out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true)',
    },
  ],
  ['maxpool3d', pool3d('maxpool3d', 'maxpool3d(kernel, stride = kernel, padding = 0, dilation = 1)')],
  ['avgpool3d', pool3d('avgpool3d', 'avgpool3d(kernel, stride = kernel, padding = 0)')],
  [
    'adaptive_avgpool',
    {
      params: [pair('output', 1), int('w', 1, 0)],
      inputs: 1,
      // adaptive_avgpool(h, w) as d2l writes it, or adaptive_avgpool((h, w)), or adaptive_avgpool(s) for s x s.
      build: (a) => {
        const w = n(a, 'w');
        return { op: 'adaptive_avgpool2d', attrs: { output: w === 0 ? p(a, 'output') : [p(a, 'output')[0], w] } };
      },
      doc: 'adaptive_avgpool(h, w)',
    },
  ],
  [
    'global_avgpool',
    {
      params: [],
      inputs: 1,
      build: () => ({ op: 'adaptive_avgpool2d', attrs: { output: [1, 1] } }),
      doc: 'global_avgpool',
    },
  ],
  [
    'batchnorm',
    {
      params: [float('eps', 1e-5, { min: 0, minOpen: true }), float('momentum', 0.1, { min: 0, max: 1 })],
      inputs: 1,
      build: (a) => ({ op: 'batchnorm', attrs: { eps: n(a, 'eps'), momentum: n(a, 'momentum') } }),
      doc: 'batchnorm(eps = 1e-5, momentum = 0.1)',
    },
  ],
  [
    'dropout',
    {
      params: [float('p', 0.5, { min: 0, max: 1, maxOpen: true })],
      inputs: 1,
      build: (a) => ({ op: 'dropout', attrs: { p: n(a, 'p') } }),
      doc: 'dropout(p = 0.5)',
    },
  ],
  [
    'leaky_relu',
    {
      params: [float('slope', 0.01, { min: 0 })],
      inputs: 1,
      build: (a) => ({ op: 'leaky_relu', attrs: { slope: n(a, 'slope') } }),
      doc: 'leaky_relu(slope = 0.01)',
    },
  ],
  ['flatten', none('flatten', 'flatten')],
  ['relu', none('relu', 'relu')],
  ['sigmoid', none('sigmoid', 'sigmoid')],
  ['tanh', none('tanh', 'tanh')],
  ['identity', none('identity', 'identity')],
  ['concat', { params: [], inputs: 'many', build: () => ({ op: 'concat', attrs: {} }), doc: 'concat(a, b, ...)' }],
]);

/**
 * Integer sizes (channels, kernels, strides, padding) stay below 2^31 so every index the kernels
 * compute from them fits an i32; shape inference bounds the tensors they make (E0306).
 */
export const MAX_INT_ARG = 2 ** 31 - 1;

type Converted = { ok: true; value: number | boolean | Pair | Triple } | { ok: false; code: DiagCode; message: string };

function floatRange(sig: ParamSig): string {
  const lo = sig.min === undefined ? '' : `${sig.minOpen ? '>' : '>='} ${sig.min}`;
  const hi = sig.max === undefined ? '' : `${sig.maxOpen ? '<' : '<='} ${sig.max}`;
  return [lo, hi].filter((s) => s !== '').join(' and ');
}

const inFloatRange = (sig: ParamSig, x: number): boolean =>
  (sig.min === undefined || (sig.minOpen ? x > sig.min : x >= sig.min)) &&
  (sig.max === undefined || (sig.maxOpen ? x < sig.max : x <= sig.max));

/** Converts one argument to its declared type and range, or says what was expected (E0204 type, E0211 range). */
export function convertArg(layer: string, sig: ParamSig, v: Value): Converted {
  const what = `\`${layer}\` argument \`${sig.name}\``;
  const bad = (want: string, code: DiagCode = 'E0204') => ({
    ok: false as const,
    code,
    message: `${what} must be ${want}, got ${typeName(v)} ${show(v)}`,
  });
  const intInRange = (x: number) => x >= (sig.min ?? -MAX_INT_ARG) && x <= MAX_INT_ARG;
  switch (sig.type) {
    case 'bool':
      return v.kind === 'bool' ? { ok: true, value: v.value } : bad('true or false');
    case 'float': {
      if (v.kind !== 'num') return bad('a number');
      // Floats become WGSL f32 literals: checked here, where they are written.
      const problem = f32Problem(v.value);
      if (problem !== null) return { ok: false, code: 'E0211', message: `${what} ${problem}` };
      return inFloatRange(sig, v.value) ? { ok: true, value: v.value } : bad(floatRange(sig), 'E0211');
    }
    case 'int':
      if (v.kind !== 'num' || !Number.isInteger(v.value)) return bad('an integer');
      return intInRange(v.value)
        ? { ok: true, value: v.value }
        : bad(`an integer from ${sig.min} to ${MAX_INT_ARG}`, 'E0211');
    case 'triple': {
      const want = `an integer >= ${sig.min} or a triple (d, h, w) of them`;
      const items = v.kind === 'seq' ? v.items : [v, v, v];
      if (items.length !== 3 || items.some((x) => x?.kind !== 'num' || !Number.isInteger(x.value))) return bad(want);
      const nums = items.map((x) => (x as { value: number }).value);
      if (!nums.every(intInRange)) return bad(`from ${sig.min} to ${MAX_INT_ARG} (or a triple of such)`, 'E0211');
      return { ok: true, value: [nums[0]!, nums[1]!, nums[2]!] };
    }
    case 'pair': {
      const want = `an integer >= ${sig.min} or a pair (h, w) of them`;
      const items = v.kind === 'seq' ? v.items : [v, v];
      if (items.length !== 2) return bad(want);
      const [h, w] = items;
      if (h?.kind !== 'num' || w?.kind !== 'num' || !Number.isInteger(h.value) || !Number.isInteger(w.value))
        return bad(want);
      if (!intInRange(h.value) || !intInRange(w.value))
        return bad(`from ${sig.min} to ${MAX_INT_ARG} (or a pair of such)`, 'E0211');
      return { ok: true, value: [h.value, w.value] };
    }
  }
}

export type { ParamSig };
