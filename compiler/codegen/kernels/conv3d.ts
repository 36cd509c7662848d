// 3-D convolution over [N, C, D, H, W] (PyTorch Conv3d: stride, padding, dilation, groups, bias),
// forward and backward, as direct kernels, correctness first: one invocation per output element
// forward, per input element for the input gradient (a gather over the outputs that read it), per
// weight element for the weight gradient (a loop over the batch and the output volume) and per
// output channel for the bias gradient.
import type { OpAttrs } from '../../ir/ops.ts';
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import type { KernelModule } from '../kernel.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { WgslWriter } from '../writer.ts';
import { outVolume, split, tapLoops, volumeDecls, type Shape5 } from './pool3d.ts';
import { perItemKernel } from './reduce.ts';

export interface Conv3dSpec extends KernelFrame {
  /** The input's shape. */
  readonly input: Shape5;
  readonly attrs: OpAttrs['conv3d'];
  /** Applied to each y (forward: a fused activation) or dx (input gradient: an activation's gradient) before it is stored. */
  readonly epilogue?: Epilogue;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

interface Sizes {
  readonly n: number;
  readonly c: number;
  readonly o: number;
  /** Input channels per group and output channels per group. */
  readonly cg: number;
  readonly og: number;
  readonly inVol: number;
  readonly outVol: number;
  readonly kVol: number;
  readonly out: readonly [number, number, number];
  readonly decls: string;
}

function sizes(spec: Conv3dSpec): Sizes {
  const [n, c, ...volume] = spec.input;
  const a = spec.attrs;
  if (c % a.groups !== 0 || a.outChannels % a.groups !== 0)
    throw new Error(`kernel ${spec.name}: groups ${a.groups} do not divide ${c} -> ${a.outChannels} channels`);
  const out = outVolume(spec.name, spec.input, a);
  const s = {
    n,
    c,
    o: a.outChannels,
    cg: c / a.groups,
    og: a.outChannels / a.groups,
    inVol: prod(volume),
    outVol: prod(out),
    kVol: prod(a.kernel),
    out,
  };
  const decls = [
    volumeDecls(spec.input, out, a),
    `const C: i32 = ${c};`,
    `const O: i32 = ${s.o};`,
    `const CG: i32 = ${s.cg};`,
    `const OG: i32 = ${s.og};`,
  ].join('\n');
  return { ...s, decls };
}

/** The flat OIDHW weight index of (oc, ci, kd, kh, kw). */
const weightAt = 'u32(((oc * CG + ci) * KD + kd) * KH + kh) * u32(KW) + u32(kw)';

/** Bindings: x, w, [b] | y, then the epilogue's. */
export function conv3dKernel(spec: Conv3dSpec): KernelModule {
  const s = sizes(spec);
  const bias = spec.attrs.bias;
  const yCount = s.n * s.o * s.outVol;
  const bindings = [
    readBinding('x', s.n * s.c * s.inVol),
    readBinding('w', s.o * s.cg * s.kVol),
    ...(bias ? [readBinding('b', s.o)] : []),
    writeBinding('y', yCount),
    ...epilogueBindings(spec.epilogue, yCount, s.o),
  ];
  const w = new WgslWriter();
  split(w, 'i', ['n', 'oc', 'od', 'oh', 'ow'], [s.n, s.o, ...s.out]);
  w.line(`var acc = ${bias ? 'b[oc]' : '0.0'};`);
  w.block('for (var ci = 0; ci < CG; ci++)', () => {
    w.line(`let xBase = u32(n * C + (oc / OG) * CG + ci) * ${s.inVol}u;`);
    tapLoops(w, 'window', () => w.line(`acc += x[xBase + u32((id * H + ih) * W + iw)] * w[${weightAt}];`));
  });
  w.line(epilogueStore('y', 'i', 'acc', spec.epilogue, 'u32(oc)'));
  return perItemKernel({ ...spec, bindings }, yCount, [s.decls, epilogueDecls(spec.epilogue)].join('\n'), w.toString());
}

/** Bindings: dy, w | dx, then the epilogue's. */
export function conv3dGradInputKernel(spec: Conv3dSpec): KernelModule {
  const s = sizes(spec);
  const xCount = s.n * s.c * s.inVol;
  const bindings = [
    readBinding('dy', s.n * s.o * s.outVol),
    readBinding('w', s.o * s.cg * s.kVol),
    writeBinding('dx', xCount),
    ...epilogueBindings(spec.epilogue, xCount, s.c),
  ];
  const w = new WgslWriter();
  split(w, 'i', ['n', 'c', 'id', 'ih', 'iw'], [s.n, s.c, ...spec.input.slice(2)]);
  w.line('let ci = c % CG;').line('var acc = 0.0;');
  w.block('for (var j = 0; j < OG; j++)', () => {
    w.line('let oc = (c / CG) * OG + j;').line(`let yBase = u32(n * O + oc) * ${s.outVol}u;`);
    tapLoops(w, 'cover', () => w.line(`acc += dy[yBase + u32((od * OH + oh) * OW + ow)] * w[${weightAt}];`));
  });
  w.line(epilogueStore('dx', 'i', 'acc', spec.epilogue, 'u32(c)'));
  return perItemKernel({ ...spec, bindings }, xCount, [s.decls, epilogueDecls(spec.epilogue)].join('\n'), w.toString());
}

/** Bindings: x, dy | dw; then, with a bias, dy | db. */
export function conv3dGradWeightKernels(spec: Conv3dSpec): KernelModule[] {
  const s = sizes(spec);
  const dyCount = s.n * s.o * s.outVol;
  const wCount = s.o * s.cg * s.kVol;
  const w = new WgslWriter();
  split(w, 'i', ['oc', 'ci', 'kd', 'kh', 'kw'], [s.o, s.cg, ...spec.attrs.kernel]);
  w.line('let c = (oc / OG) * CG + ci;').line('var acc = 0.0;');
  w.block(`for (var n = 0; n < ${s.n}; n++)`, () => {
    w.line(`let xBase = u32(n * C + c) * ${s.inVol}u;`).line(`let yBase = u32(n * O + oc) * ${s.outVol}u;`);
    // The output volume in d, h, w order; each (output, tap) pair reads one input, or padding.
    const axes = [
      ['od', 'D', 'id'],
      ['oh', 'H', 'ih'],
      ['ow', 'W', 'iw'],
    ] as const;
    const loop = (k: number): void => {
      if (k === axes.length) {
        w.line('acc += x[xBase + u32((id * H + ih) * W + iw)] * dy[yBase + u32((od * OH + oh) * OW + ow)];');
        return;
      }
      const [o, a, i] = axes[k]!;
      w.block(`for (var ${o} = 0; ${o} < O${a}; ${o}++)`, () => {
        w.line(`let ${i} = ${o} * S_${a} - P_${a} + k${a.toLowerCase()} * DIL_${a};`).line(
          `if (${i} < 0 || ${i} >= ${a}) { continue; }`,
        );
        loop(k + 1);
      });
    };
    loop(0);
  });
  w.line('dw[i] = acc;');
  const dwKernel = perItemKernel(
    {
      ...spec,
      bindings: [readBinding('x', s.n * s.c * s.inVol), readBinding('dy', dyCount), writeBinding('dw', wCount)],
    },
    wCount,
    s.decls,
    w.toString(),
  );
  if (!spec.attrs.bias) return [dwKernel];
  const b = new WgslWriter().line('var acc = 0.0;');
  b.block(`for (var n = 0u; n < ${s.n}u; n++)`, () =>
    b.block(`for (var v = 0u; v < ${s.outVol}u; v++)`, () =>
      b.line(`acc += dy[(n * ${s.o}u + i) * ${s.outVol}u + v];`),
    ),
  );
  b.line('db[i] = acc;');
  const dbKernel = perItemKernel(
    { ...spec, name: `${spec.name}_bias`, bindings: [readBinding('dy', dyCount), writeBinding('db', s.o)] },
    s.o,
    '',
    b.toString(),
  );
  return [dwKernel, dbKernel];
}
