// Batch normalization kernels (PyTorch BatchNorm2d on [N, C, H, W], BatchNorm3d on [N, C, D, H, W],
// BatchNorm1d on [N, F]):
// training forward with the running-statistics update, its backward, and the eval forward.
import type { OpAttrs } from '../../ir/ops.ts';
import { type Epilogue, epilogueDecls, epilogueStore } from '../epilogue.ts';
import type { KernelModule } from '../kernel.ts';
import { buildModule, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { WgslWriter, f32Lit, wgsl } from '../writer.ts';
import { type ItemLanes, type ReduceFrame, perItemKernel, reductionThreads, workgroupSum } from './reduce.ts';

/**
 * `lanes` (ItemLanes) sizes the eval kernel's workgroups; the training kernels take a workgroup of
 * up to 256 lanes per channel already (reductionThreads).
 */
export interface BatchnormSpec extends KernelFrame, ItemLanes {
  /** [N, C, H, W], [N, C, D, H, W] or [N, F]; statistics are per channel (dim 1) over every other dim. */
  readonly input: readonly number[];
  readonly attrs: OpAttrs['batchnorm'];
  /** Forward only: applied to each y before it is stored (a fused activation; no reads). */
  readonly epilogue?: Epilogue;
}

interface Layout {
  readonly elements: number;
  readonly channels: number;
  /** H * W (D * H * W), or 1 for [N, F]. */
  readonly spatial: number;
  /** Values per channel: N * H * W (or N). */
  readonly count: number;
}

function layout(spec: BatchnormSpec): Layout {
  if (spec.input.length !== 2 && spec.input.length !== 4 && spec.input.length !== 5) {
    throw new Error(
      `kernel ${spec.name}: batchnorm wants [N, C, H, W], [N, C, D, H, W] or [N, F], got [${spec.input.join(', ')}]`,
    );
  }
  const [n = 0, c = 0, ...rest] = spec.input;
  // BatchNorm3d's [D, H, W] is one spatial run per (sample, channel), as BatchNorm2d's [H, W].
  const spatial = rest.reduce((a, b) => a * b, 1);
  return { elements: n * c * spatial, channels: c, spatial, count: n * spatial };
}

/**
 * Shape consts and `at(c, e)`: the flat index of the e-th value of channel c, e over [N, H*W]. One
 * workgroup owns a channel and strides e by its size, so neighbouring lanes read neighbouring words.
 */
function channelDecls(l: Layout, threads: number): string {
  return wgsl`
    const C: u32 = ${l.channels}u;
    const HW: u32 = ${l.spatial}u;
    const M: u32 = ${l.count}u;
    const T: u32 = ${threads}u;

    fn at(c: u32, e: u32) -> u32 {
      return ((e / HW) * C + c) * HW + e % HW;
    }
  `;
}

/** `for (var e = lid; e < M; e += T) { body }` over this workgroup's channel. */
function channelLoop(w: WgslWriter, body: string): void {
  w.block('for (var e = lid; e < M; e += T)', () => w.line('let a = at(c, e);').chunk(body));
}

/** A workgroup per channel: the loops and tree sums of both training kernels. */
function perChannelKernel(
  spec: BatchnormSpec,
  frame: ReduceFrame,
  sumType: 'f32' | 'vec2f',
  build: (w: WgslWriter, channelSum: (v: string) => string) => void,
): KernelModule {
  const l = layout(spec);
  const threads = reductionThreads(l.count, spec);
  const sum = workgroupSum(spec, 'channel_sum', sumType, threads);
  const main = new WgslWriter();
  // `group` is uniform, so this early exit keeps the tree sums' barriers in uniform control flow.
  main.line('let c = group;').block('if (c >= C)', () => main.line('return;'));
  build(main, sum.call);
  const decls = [channelDecls(l, threads), sum.decls, epilogueDecls(spec.epilogue)].filter((d) => d).join('\n\n');
  return buildModule({
    ...frame,
    lid: 'index',
    lanes: threads,
    groups: l.channels,
    decls,
    main: (w) => w.chunk(main.toString()),
  });
}

/**
 * Training forward. Bindings: x, gamma, beta | y, save_mean, save_invstd, running_mean, running_var.
 * Two passes (mean, then the sum of squared deviations) keep the variance accurate when |mean| >> std.
 * PyTorch: normalize with the biased variance, blend the UNBIASED one into running_var, and
 * running = (1 - momentum) * running + momentum * batch.
 */
export function batchnormTrainForward(spec: BatchnormSpec): KernelModule {
  const l = layout(spec);
  const { eps, momentum } = spec.attrs;
  // One value per channel: a model compiled to evaluate (a last batch of 1) never runs this kernel,
  // as training refuses that batch (E0307, and the trainer drops such a last batch).
  const unbiased = l.count > 1 ? l.count / (l.count - 1) : 1;
  const bindings = [
    readBinding('x', l.elements),
    readBinding('gamma', l.channels),
    readBinding('beta', l.channels),
    writeBinding('y', l.elements),
    writeBinding('save_mean', l.channels),
    writeBinding('save_invstd', l.channels),
    writeBinding('running_mean', l.channels),
    writeBinding('running_var', l.channels),
  ];
  const frame = { name: spec.name, origin: spec.origin, limits: spec.limits, bindings };
  return perChannelKernel(spec, frame, 'f32', (w, channelSum) => {
    w.line('var part = 0.0;');
    channelLoop(w, 'part += x[a];');
    w.line(`let mean = ${channelSum('part')} / f32(M);`).line('var dev = 0.0;');
    channelLoop(w, 'let d = x[a] - mean;\ndev += d * d;');
    w.line(`let var_biased = ${channelSum('dev')} / f32(M);`);
    w.line(`let invstd = inverseSqrt(var_biased + ${f32Lit(eps)});`).line('let scale = gamma[c] * invstd;');
    channelLoop(w, epilogueStore('y', 'a', '(x[a] - mean) * scale + beta[c]', spec.epilogue));
    w.block('if (lid == 0u)', () =>
      w.chunk(wgsl`
      save_mean[c] = mean;
      save_invstd[c] = invstd;
      running_mean[c] = ${f32Lit(1 - momentum)} * running_mean[c] + ${f32Lit(momentum)} * mean;
      running_var[c] = ${f32Lit(1 - momentum)} * running_var[c] + ${f32Lit(momentum)} * var_biased * ${f32Lit(unbiased)};
    `),
    );
  });
}

/**
 * Training backward, through the batch statistics, from the saved mean and invstd. Bindings:
 * x, dy, gamma, save_mean, save_invstd | dx, dgamma, dbeta. With xhat = (x - mean) * invstd:
 * dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invstd / M * (M * dy - dbeta - xhat * dgamma).
 */
export function batchnormTrainBackward(spec: BatchnormSpec): KernelModule {
  const l = layout(spec);
  const bindings = [
    readBinding('x', l.elements),
    readBinding('dy', l.elements),
    readBinding('gamma', l.channels),
    readBinding('save_mean', l.channels),
    readBinding('save_invstd', l.channels),
    writeBinding('dx', l.elements),
    writeBinding('dgamma', l.channels),
    writeBinding('dbeta', l.channels),
  ];
  return perChannelKernel(
    spec,
    { name: spec.name, origin: spec.origin, limits: spec.limits, bindings },
    'vec2f',
    (w, channelSum) => {
      w.line('let mean = save_mean[c];').line('let invstd = save_invstd[c];').line('var part = vec2f(0.0);');
      channelLoop(w, 'let g = dy[a];\npart += vec2f(g, g * (x[a] - mean) * invstd);');
      w.line(`let sums = ${channelSum('part')};`).line('let k = gamma[c] * invstd / f32(M);');
      channelLoop(w, 'dx[a] = k * (f32(M) * dy[a] - sums.x - (x[a] - mean) * invstd * sums.y);');
      w.block('if (lid == 0u)', () => w.line('dbeta[c] = sums.x;').line('dgamma[c] = sums.y;'));
    },
  );
}

/** Eval forward, a fixed per-channel affine map. Bindings: x, gamma, beta, running_mean, running_var | y. */
export function batchnormEval(spec: BatchnormSpec): KernelModule {
  const l = layout(spec);
  const bindings = [
    readBinding('x', l.elements),
    readBinding('gamma', l.channels),
    readBinding('beta', l.channels),
    readBinding('running_mean', l.channels),
    readBinding('running_var', l.channels),
    writeBinding('y', l.elements),
  ];
  return perItemKernel(
    {
      name: spec.name,
      origin: spec.origin,
      limits: spec.limits,
      bindings,
      ...(spec.lanes ? { lanes: spec.lanes } : {}),
    },
    l.elements,
    epilogueDecls(spec.epilogue),
    wgsl`
    let c = (i / ${l.spatial}u) % ${l.channels}u;
    let invstd = inverseSqrt(running_var[c] + ${f32Lit(spec.attrs.eps)});
    ${epilogueStore('y', 'i', '(x[i] - running_mean[c]) * (gamma[c] * invstd) + beta[c]', spec.epilogue)}
  `,
  );
}
