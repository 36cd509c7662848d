// The built-in layers of the language: their argument signatures and the IR op each one makes.
import type { OpAttrs, OpKind, Pair } from '../ir/ops.ts';
import type { Value } from './values.ts';
import { typeName, show } from './values.ts';

type ArgType = 'int' | 'pair' | 'float' | 'bool';

interface ParamSig {
  readonly name: string;
  readonly type: ArgType;
  /** Smallest allowed value (each element, for pairs). */
  readonly min?: number;
  /** Absent: required. `null`: optional with no value (resolved by the builder). */
  readonly default?: number | boolean | null;
}

export type LayerArgs = ReadonlyMap<string, number | boolean | Pair | null>;

export interface LayerDef {
  readonly params: readonly ParamSig[];
  /** 'many' for concat: every leading tensor argument is an input. */
  readonly inputs: 1 | 'many';
  readonly build: (a: LayerArgs) => { op: OpKind; attrs: OpAttrs[OpKind] };
  readonly doc: string;
}

const int = (name: string, min: number, def?: number): ParamSig => (def === undefined ? { name, type: 'int', min } : { name, type: 'int', min, default: def });
const pair = (name: string, min: number, def?: number | null): ParamSig => (def === undefined ? { name, type: 'pair', min } : { name, type: 'pair', min, default: def });
const float = (name: string, min: number, def: number): ParamSig => ({ name, type: 'float', min, default: def });
const flag = (name: string, def: boolean): ParamSig => ({ name, type: 'bool', default: def });

const p = (a: LayerArgs, name: string): Pair => a.get(name) as Pair;
const n = (a: LayerArgs, name: string): number => a.get(name) as number;
const none = (op: OpKind, doc: string): LayerDef => ({ params: [], inputs: 1, build: () => ({ op, attrs: {} }), doc });

function pool(op: 'maxpool2d' | 'avgpool2d', doc: string): LayerDef {
  return {
    params: [pair('kernel', 1), pair('stride', 1, null), pair('padding', 0, 0)],
    inputs: 1,
    // PyTorch: stride defaults to the kernel size.
    build: (a) => ({ op, attrs: { kernel: p(a, 'kernel'), stride: (a.get('stride') as Pair | null) ?? p(a, 'kernel'), padding: p(a, 'padding') } }),
    doc,
  };
}

export const layers: ReadonlyMap<string, LayerDef> = new Map<string, LayerDef>([
  ['conv', {
    params: [int('out', 1), pair('kernel', 1), pair('stride', 1, 1), pair('padding', 0, 0), pair('dilation', 1, 1), int('groups', 1, 1), flag('bias', true)],
    inputs: 1,
    build: (a) => ({ op: 'conv2d', attrs: { outChannels: n(a, 'out'), kernel: p(a, 'kernel'), stride: p(a, 'stride'), padding: p(a, 'padding'), dilation: p(a, 'dilation'), groups: n(a, 'groups'), bias: a.get('bias') as boolean } }),
    doc: 'conv(out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true)',
  }],
  ['linear', {
    params: [int('out', 1), flag('bias', true)],
    inputs: 1,
    build: (a) => ({ op: 'linear', attrs: { outFeatures: n(a, 'out'), bias: a.get('bias') as boolean } }),
    doc: 'linear(out, bias = true)',
  }],
  ['maxpool', pool('maxpool2d', 'maxpool(kernel, stride = kernel, padding = 0)')],
  ['avgpool', pool('avgpool2d', 'avgpool(kernel, stride = kernel, padding = 0)')],
  ['adaptive_avgpool', {
    params: [pair('output', 1), int('w', 1, 0)],
    inputs: 1,
    // adaptive_avgpool(h, w) as d2l writes it, or adaptive_avgpool((h, w)), or adaptive_avgpool(s) for s x s.
    build: (a) => {
      const w = n(a, 'w');
      return { op: 'adaptive_avgpool2d', attrs: { output: w === 0 ? p(a, 'output') : [p(a, 'output')[0], w] } };
    },
    doc: 'adaptive_avgpool(h, w)',
  }],
  ['global_avgpool', { params: [], inputs: 1, build: () => ({ op: 'adaptive_avgpool2d', attrs: { output: [1, 1] } }), doc: 'global_avgpool' }],
  ['batchnorm', {
    params: [float('eps', 0, 1e-5), float('momentum', 0, 0.1)],
    inputs: 1,
    build: (a) => ({ op: 'batchnorm', attrs: { eps: n(a, 'eps'), momentum: n(a, 'momentum') } }),
    doc: 'batchnorm(eps = 1e-5, momentum = 0.1)',
  }],
  ['dropout', {
    params: [float('p', 0, 0.5)],
    inputs: 1,
    build: (a) => ({ op: 'dropout', attrs: { p: n(a, 'p') } }),
    doc: 'dropout(p = 0.5)',
  }],
  ['leaky_relu', {
    params: [float('slope', 0, 0.01)],
    inputs: 1,
    build: (a) => ({ op: 'leaky_relu', attrs: { slope: n(a, 'slope') } }),
    doc: 'leaky_relu(slope = 0.01)',
  }],
  ['flatten', none('flatten', 'flatten')],
  ['relu', none('relu', 'relu')],
  ['sigmoid', none('sigmoid', 'sigmoid')],
  ['tanh', none('tanh', 'tanh')],
  ['identity', none('identity', 'identity')],
  ['concat', { params: [], inputs: 'many', build: () => ({ op: 'concat', attrs: {} }), doc: 'concat(a, b, ...)' }],
]);

/** Converts one argument to its declared type, or says what was expected. */
export function convertArg(layer: string, sig: ParamSig, v: Value): { ok: true; value: number | boolean | Pair } | { ok: false; message: string } {
  const bad = (want: string) => ({ ok: false as const, message: `\`${layer}\` argument \`${sig.name}\` must be ${want}, got ${typeName(v)} ${show(v)}` });
  const checkMin = (x: number) => sig.min === undefined || x >= sig.min;
  switch (sig.type) {
    case 'bool':
      return v.kind === 'bool' ? { ok: true, value: v.value } : bad('true or false');
    case 'float':
      if (v.kind !== 'num') return bad('a number');
      if (!checkMin(v.value)) return bad(`>= ${sig.min}`);
      if (sig.name === 'p' && v.value >= 1) return bad('in [0, 1)');
      return { ok: true, value: v.value };
    case 'int':
      if (v.kind !== 'num' || !Number.isInteger(v.value)) return bad('an integer');
      return checkMin(v.value) ? { ok: true, value: v.value } : bad(`an integer >= ${sig.min}`);
    case 'pair': {
      const want = `an integer >= ${sig.min} or a pair (h, w) of them`;
      const items = v.kind === 'seq' ? v.items : [v, v];
      if (items.length !== 2) return bad(want);
      const [h, w] = items;
      if (h?.kind !== 'num' || w?.kind !== 'num' || !Number.isInteger(h.value) || !Number.isInteger(w.value)) return bad(want);
      if (!checkMin(h.value) || !checkMin(w.value)) return bad(want);
      return { ok: true, value: [h.value, w.value] };
    }
  }
}

export type { ParamSig };
