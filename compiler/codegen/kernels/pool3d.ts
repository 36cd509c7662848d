// Max and average 3-D pooling over [N, C, D, H, W], forward and backward (PyTorch MaxPool3d with
// dilation, AvgPool3d with count_include_pad = true; ceil_mode = false), and the window loops
// conv3d.ts shares. Direct kernels, written for correctness first: one invocation per output
// element forward, one per input element backward (a gather, so no two invocations write one dx).
import type { OpAttrs, Triple } from '../../ir/ops.ts';
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import type { KernelModule } from '../kernel.ts';
import { readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { WgslWriter } from '../writer.ts';
import { perItemKernel } from './reduce.ts';

/** [N, C, D, H, W]. */
export type Shape5 = readonly [number, number, number, number, number];

/** A 3-D window; average pooling's has dilation 1. */
export type Window3d = Pick<OpAttrs['maxpool3d'], 'kernel' | 'stride' | 'padding' | 'dilation'>;

export interface Pool3dSpec extends KernelFrame {
  readonly input: Shape5;
  readonly attrs: Window3d;
  /** Backward only: applied to each dx before it is stored (a fused activation gradient). */
  readonly epilogue?: Epilogue;
}

const AXES = ['D', 'H', 'W'] as const;
const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** [OD, OH, OW] as PyTorch: floor((n + 2p - d(k - 1) - 1) / s) + 1; shape inference has checked the fit. */
export function outVolume(kernel: string, input: Shape5, w: Window3d): Triple {
  const out = [0, 1, 2].map(
    (i) => Math.floor((input[2 + i]! + 2 * w.padding[i]! - w.dilation[i]! * (w.kernel[i]! - 1) - 1) / w.stride[i]!) + 1,
  );
  if (out.some((o) => o < 1))
    throw new Error(`kernel ${kernel}: window ${JSON.stringify(w)} does not fit the input [${input.join(', ')}]`);
  return [out[0]!, out[1]!, out[2]!];
}

/** WGSL consts of the geometry: D, H, W, OD, OH, OW, KD.., S_D.., P_D.., DIL_D.. (i32). */
export function volumeDecls(input: Shape5, out: Triple, w: Window3d): string {
  const lines = AXES.flatMap((a, i) => [
    `const ${a}: i32 = ${input[2 + i]};`,
    `const O${a}: i32 = ${out[i]};`,
    `const K${a}: i32 = ${w.kernel[i]};`,
    `const S_${a}: i32 = ${w.stride[i]};`,
    `const P_${a}: i32 = ${w.padding[i]};`,
    `const DIL_${a}: i32 = ${w.dilation[i]};`,
  ]);
  return lines.join('\n');
}

/**
 * `let` bindings splitting the flat u32 `index` over `dims` (outermost first) into i32 `names`;
 * the outermost takes what is left, so it needs no modulo.
 */
export function split(w: WgslWriter, index: string, names: readonly string[], dims: readonly number[]): void {
  let rest = index;
  for (let i = names.length - 1; i > 0; i--) {
    w.line(`let ${names[i]} = i32(${rest} % ${dims[i]}u);`);
    const next = `${names[i]}_rest`;
    w.line(`let ${next} = ${rest} / ${dims[i]}u;`);
    rest = next;
  }
  w.line(`let ${names[0]} = i32(${rest});`);
}

/**
 * Loops over the kernel taps kd, kh, kw (in d, h, w scan order). 'window': from output (od, oh,
 * ow) to the input position (id, ih, iw) of each tap, skipping taps in the padding. 'cover': from
 * input (id, ih, iw) to the output (od, oh, ow) whose window reads it through that tap, skipping
 * taps no output uses (off the stride's grid or past the edge).
 */
export function tapLoops(w: WgslWriter, mode: 'window' | 'cover', body: () => void, axis = 0): void {
  if (axis === 3) {
    body();
    return;
  }
  const a = AXES[axis]!;
  const [k, i, o] = [`k${a.toLowerCase()}`, `i${a.toLowerCase()}`, `o${a.toLowerCase()}`];
  w.block(`for (var ${k} = 0; ${k} < K${a}; ${k}++)`, () => {
    if (mode === 'window') {
      w.line(`let ${i} = ${o} * S_${a} - P_${a} + ${k} * DIL_${a};`).line(
        `if (${i} < 0 || ${i} >= ${a}) { continue; }`,
      );
    } else {
      w.line(`let a${a} = ${i} + P_${a} - ${k} * DIL_${a};`)
        .line(`if (a${a} < 0 || a${a} % S_${a} != 0 || a${a} / S_${a} >= O${a}) { continue; }`)
        .line(`let ${o} = a${a} / S_${a};`);
    }
    tapLoops(w, mode, body, axis + 1);
  });
}

export type PoolKind = 'max' | 'avg';

/**
 * One invocation per output. Max keeps the FIRST maximum in d, h, w scan order (PyTorch's CPU
 * kernel; padding acts as -inf, so only real taps compete) and stores its index in the input
 * volume as the argmax; avg divides by the kernel volume (count_include_pad; no window reaches
 * past the padding without ceil_mode).
 */
export function pool3dForward(spec: Pool3dSpec, kind: PoolKind): KernelModule {
  const [n, c, ...volume] = spec.input;
  const out = outVolume(spec.name, spec.input, spec.attrs);
  const [inCount, outCount] = [n * c * prod(volume), n * c * prod(out)];
  const bindings = [
    readBinding('x', inCount),
    writeBinding('y', outCount),
    ...(kind === 'max' ? [writeBinding('argmax', outCount, 'i32')] : []),
  ];
  const w = new WgslWriter();
  split(w, 'i', ['plane', 'od', 'oh', 'ow'], [n * c, ...out]);
  w.line(`let base = u32(plane) * ${prod(volume)}u;`);
  w.line(kind === 'max' ? 'var best = 0.0;\nvar arg = -1;' : 'var sum = 0.0;');
  tapLoops(w, 'window', () => {
    w.line('let t = (id * H + ih) * W + iw;').line('let v = x[base + u32(t)];');
    if (kind === 'max') w.block('if (arg < 0 || v > best)', () => w.line('best = v;').line('arg = t;'));
    else w.line('sum += v;');
  });
  // A dilated window can miss the input entirely (all its taps in the padding): PyTorch gives -inf.
  // WGSL has no -inf constant; u32(-1) masked to the sign and exponent bits is its pattern.
  if (kind === 'max')
    w.line('y[i] = select(best, bitcast<f32>(u32(arg) & 0xff800000u), arg < 0);').line('argmax[i] = arg;');
  else w.line(`y[i] = sum / ${prod(spec.attrs.kernel)}.0;`);
  return perItemKernel({ ...spec, bindings }, outCount, volumeDecls(spec.input, out, spec.attrs), w.toString());
}

/**
 * One invocation per input element, gathering from the outputs whose windows read it: max, the
 * whole dy of each whose argmax is this element; avg, dy over the kernel volume.
 */
export function pool3dBackward(spec: Pool3dSpec, kind: PoolKind): KernelModule {
  const [n, c, ...volume] = spec.input;
  const out = outVolume(spec.name, spec.input, spec.attrs);
  const [inCount, outCount] = [n * c * prod(volume), n * c * prod(out)];
  const bindings = [
    ...(kind === 'max' ? [readBinding('argmax', outCount, 'i32')] : []),
    readBinding('dy', outCount),
    writeBinding('dx', inCount),
    ...epilogueBindings(spec.epilogue, inCount, c),
  ];
  const w = new WgslWriter();
  split(w, 'i', ['plane', 'id', 'ih', 'iw'], [n * c, ...volume]);
  w.line(`let base = u32(plane) * ${prod(out)}u;`)
    .line('let t = (id * H + ih) * W + iw;')
    .line('var g = 0.0;');
  tapLoops(w, 'cover', () => {
    w.line('let o = base + u32((od * OH + oh) * OW + ow);');
    if (kind === 'max') w.block('if (argmax[o] == t)', () => w.line('g += dy[o];'));
    else w.line('g += dy[o];');
  });
  w.line(epilogueStore('dx', 'i', kind === 'max' ? 'g' : `g / ${prod(spec.attrs.kernel)}.0`, spec.epilogue));
  return perItemKernel(
    { ...spec, bindings },
    inCount,
    [volumeDecls(spec.input, out, spec.attrs), epilogueDecls(spec.epilogue)].join('\n'),
    w.toString(),
  );
}
