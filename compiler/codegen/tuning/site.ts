// A GEMM-family kernel as the tuner sees it, a "site": its family, full shape and fused epilogue.
// Here: the site of a step op, the stable key its tuned choice is stored under, its kernels for a
// choice (lowering and the tuner build them alike), and the rules' own choice spelled out.
import type { Epilogue as StepEpilogue, StepOp, StepProgram } from '../../autodiff/step-ir.ts';
import type { OpAttrs } from '../../ir/ops.ts';
import type { KernelModule } from '../kernel.ts';
import { type DeviceLimits, hasSubgroups } from '../limits.ts';
import type { KernelFrame } from '../module.ts';
import { type ConvGeometry, convForwardPlan, conv2dKernel, convGeometry } from '../kernels/conv2d.ts';
import { conv2dGradInputKernel, dgradOrder } from '../kernels/conv2d-grad-input.ts';
import { conv2dGradWeightKernels, wgradPlan } from '../kernels/conv2d-grad-weight.ts';
import { type LinearSpec, linearMatmuls, matmulKernel, matmulTile } from '../kernels/matmul.ts';
import { fused, type LowerContext } from '../lower/context.ts';
import type { GemmChoice } from './choice.ts';

export type ConvFamily = 'conv2d' | 'conv2d_dx' | 'conv2d_dw';
export type DenseFamily = 'linear' | 'linear_dx' | 'linear_dw';
export type GemmFamily = ConvFamily | DenseFamily;
export type GemmOp = Extract<StepOp, { op: GemmFamily }>;

interface SiteBase {
  /** The op's fused epilogue (it changes the code): its tensors are the op's, only its kind counts. */
  readonly epilogue: StepEpilogue | null;
  /** The device has subgroups of 8 or more (GemmTile.shareU is allowed). */
  readonly subgroups: boolean;
  /** A weight gradient of a batch slice after the first (`lower/slices.ts`): it adds to what is stored. */
  readonly accumulate?: boolean;
}
export type ConvSite = SiteBase & {
  readonly family: ConvFamily;
  /** The input's [N, C, H, W]. */
  readonly input: readonly [number, number, number, number];
  readonly attrs: OpAttrs['conv2d'];
};
export type DenseSite = SiteBase & {
  readonly family: DenseFamily;
  readonly batch: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
};
export type GemmSite = ConvSite | DenseSite;

const GEMM_OPS: ReadonlySet<string> = new Set<GemmFamily>([
  'conv2d',
  'conv2d_dx',
  'conv2d_dw',
  'linear',
  'linear_dx',
  'linear_dw',
]);
export const isGemmOp = (op: StepOp): op is GemmOp => GEMM_OPS.has(op.op);

export function gemmSite(op: GemmOp, program: StepProgram, subgroups: boolean, accumulate = false): GemmSite {
  const shape = (id: number): readonly number[] => program.tensors[id]!.shape;
  const shape4 = (id: number) => shape(id) as unknown as readonly [number, number, number, number];
  const gradient = op.op === 'conv2d_dw' || op.op === 'linear_dw';
  const base = {
    epilogue: gradient ? null : (op.epilogue ?? null),
    subgroups,
    ...(gradient && accumulate ? { accumulate } : {}),
  };
  switch (op.op) {
    case 'conv2d':
    case 'conv2d_dw':
      return { ...base, family: op.op, input: shape4(op.x), attrs: op.attrs };
    case 'conv2d_dx':
      return { ...base, family: op.op, input: shape4(op.dx), attrs: op.attrs };
    case 'linear':
    case 'linear_dx':
    case 'linear_dw': {
      const [batch, inFeatures] = shape(op.op === 'linear_dx' ? op.dx : op.x) as [number, number];
      const outFeatures = shape(op.op === 'linear_dw' ? op.dw : op.w)[0]!;
      const bias = op.op === 'linear' ? op.b !== null : op.op === 'linear_dw' ? op.db !== null : false;
      return { ...base, family: op.op, batch, inFeatures, outFeatures, bias };
    }
  }
}

/** `relu`, `bn(0.00001)+sigmoid`, `tanh_grad(output)`, `leaky_relu(0.1)_grad(input)`, or '' (none). */
function epilogueKey(e: StepEpilogue | null): string {
  if (!e) return '';
  const act = (a: { fn: string; slope: number } | null) =>
    a ? (a.fn === 'leaky_relu' ? `${a.fn}(${a.slope})` : a.fn) : '';
  if (e.kind === 'act_grad') return `${act(e)}_grad(${e.from})`;
  return [e.bn ? `bn(${e.bn.eps})` : '', act(e.act)].filter((s) => s).join('+');
}

/**
 * The key a tuned choice is stored under: family, every shape and attribute, the epilogue and
 * whether subgroups are on, e.g. `conv2d x32x1x28x28 o6 k5x5 s1x1 p2x2 d1x1 g1 bias sigmoid sg`.
 */
export function siteKey(s: GemmSite): string {
  const shape =
    'input' in s
      ? [
          `x${s.input.join('x')}`,
          `o${s.attrs.outChannels}`,
          `k${s.attrs.kernel.join('x')}`,
          `s${s.attrs.stride.join('x')}`,
          `p${s.attrs.padding.join('x')}`,
          `d${s.attrs.dilation.join('x')}`,
          `g${s.attrs.groups}`,
          ...(s.attrs.bias ? ['bias'] : []),
        ]
      : [`n${s.batch}`, `in${s.inFeatures}`, `out${s.outFeatures}`, ...(s.bias ? ['bias'] : [])];
  return [s.family, ...shape, epilogueKey(s.epilogue), ...(s.subgroups ? ['sg'] : []), ...(s.accumulate ? ['acc'] : [])]
    .filter((p) => p)
    .join(' ');
}

/** A conv site's geometry (conv2d.ts). */
export const siteGeometry = (s: ConvSite): ConvGeometry =>
  convGeometry({ name: s.family, origin: { phase: 'forward', sources: [], ops: [] }, ...s });

/** The GEMM's dimensions (matmul-core.ts): rows, columns, k depth and independent groups. */
export function gemmDims(s: GemmSite): { rows: number; cols: number; depth: number; groups: number } {
  if (!('input' in s)) {
    const [m, n, k] =
      s.family === 'linear'
        ? [s.batch, s.outFeatures, s.inFeatures]
        : s.family === 'linear_dx'
          ? [s.batch, s.inFeatures, s.outFeatures]
          : [s.outFeatures, s.inFeatures + (s.bias ? 1 : 0), s.batch];
    return { rows: m, cols: n, depth: k, groups: 1 };
  }
  const g = siteGeometry(s);
  if (s.family === 'conv2d')
    return { rows: g.n * g.oh * g.ow, cols: g.og, depth: g.cg * g.kh * g.kw, groups: g.groups };
  if (s.family === 'conv2d_dx')
    return { rows: g.n * g.h * g.w, cols: g.cg, depth: g.og * g.kh * g.kw, groups: g.groups };
  const taps = g.cg * g.kh * g.kw + (s.attrs.bias ? 1 : 0);
  return { rows: taps, cols: g.og, depth: g.n * g.oh * g.ow, groups: g.groups };
}

/** Only the fields of `c` a family reads, so a stray field (a hand-edited cache) changes nothing. */
function pick<K extends keyof GemmChoice>(c: GemmChoice, ...keys: K[]): Pick<GemmChoice, K> {
  return Object.fromEntries(keys.filter((k) => c[k] !== undefined).map((k) => [k, c[k]])) as Pick<GemmChoice, K>;
}

/** A conv site's spec in a frame, its fused epilogue included (the rules decide what a choice leaves out). */
function convSpec(site: ConvSite, frame: KernelFrame) {
  const epilogue = fused(site.epilogue ? { epilogue: site.epilogue } : {}).spec;
  const accumulate = site.accumulate ? { accumulate: true } : {};
  return { ...frame, input: site.input, attrs: site.attrs, subgroups: site.subgroups, ...epilogue, ...accumulate };
}

function linearSpec(site: DenseSite, frame: KernelFrame): LinearSpec {
  const { batch, inFeatures, outFeatures, bias, subgroups } = site;
  const epilogue = fused(site.epilogue ? { epilogue: site.epilogue } : {}).spec;
  const accumulate = site.accumulate ? { accumulate: true } : {};
  return { ...frame, batch, inFeatures, outFeatures, bias, subgroups, ...epilogue, ...accumulate };
}

/** The site's kernels with `choice` applied (in dispatch order: a split-k GEMM has two). */
export function siteKernels(site: GemmSite, frame: KernelFrame, choice: GemmChoice = {}): KernelModule[] {
  switch (site.family) {
    case 'conv2d':
      return [conv2dKernel({ ...convSpec(site, frame), ...pick(choice, 'tile', 'runs', 'workgroup') })];
    case 'conv2d_dx':
      return [conv2dGradInputKernel({ ...convSpec(site, frame), ...pick(choice, 'tile', 'order', 'workgroup') })];
    case 'conv2d_dw':
      return conv2dGradWeightKernels({
        ...convSpec(site, frame),
        ...pick(choice, 'tile', 'runs', 'splitK', 'workgroup'),
      });
    case 'linear':
      return [
        matmulKernel({ ...linearMatmuls.forward(linearSpec(site, frame)), ...pick(choice, 'tile', 'workgroup') }),
      ];
    case 'linear_dx':
      return [
        matmulKernel({ ...linearMatmuls.gradInput(linearSpec(site, frame)), ...pick(choice, 'tile', 'workgroup') }),
      ];
    case 'linear_dw':
      return [
        matmulKernel({ ...linearMatmuls.gradWeight(linearSpec(site, frame)), ...pick(choice, 'tile', 'workgroup') }),
      ];
  }
}

/** What the rules choose for the site, spelled out (building it gives the rules' kernels). */
export function rulesChoice(site: GemmSite, frame: KernelFrame): GemmChoice {
  switch (site.family) {
    case 'conv2d': {
      const { tile, run } = convForwardPlan(convSpec(site, frame));
      return { tile, runs: run !== undefined };
    }
    case 'conv2d_dx': {
      const { tile, order } = dgradOrder(convSpec(site, frame));
      return { tile, order };
    }
    case 'conv2d_dw': {
      const { tile, steps, splitK } = wgradPlan(convSpec(site, frame));
      return { tile, runs: steps !== undefined, splitK };
    }
    case 'linear':
      return { tile: matmulTile(linearMatmuls.forward(linearSpec(site, frame))) };
    case 'linear_dx':
      return { tile: matmulTile(linearMatmuls.gradInput(linearSpec(site, frame))) };
    case 'linear_dw':
      return { tile: matmulTile(linearMatmuls.gradWeight(linearSpec(site, frame))) };
  }
}

/**
 * What lowering builds: the site's kernels with the tuned choice `ctx.choices` has for it, or the
 * rules' where it has none. A choice that does not build (a hand-edited or mismatched cache) falls
 * back to the rules and is reported through `ctx.rejectChoice`: never a crash.
 */
export function tunedKernels(site: GemmSite, frame: KernelFrame, ctx: LowerContext): KernelModule[] {
  const key = ctx.choices === undefined ? undefined : siteKey(site);
  const choice = key === undefined ? undefined : ctx.choices!.get(key);
  if (choice === undefined) return siteKernels(site, frame);
  try {
    return siteKernels(site, frame, choice);
  } catch (e) {
    ctx.rejectChoice?.(key!, e instanceof Error ? e.message : String(e));
    return siteKernels(site, frame);
  }
}

/**
 * Every distinct GEMM site of a step program (training pass first, then evaluation-only ones), with
 * its first op's origin, as lowering for `limits` sees them.
 */
export function gemmSites(
  program: StepProgram,
  limits: DeviceLimits,
): { key: string; site: GemmSite; origin: StepOp['origin'] }[] {
  const out = new Map<string, { key: string; site: GemmSite; origin: StepOp['origin'] }>();
  for (const op of [...program.train, ...program.evaluate, ...program.forward]) {
    if (!isGemmOp(op)) continue;
    const site = gemmSite(op, program, hasSubgroups(limits));
    const key = siteKey(site);
    if (!out.has(key)) out.set(key, { key, site, origin: op.origin });
  }
  return [...out.values()];
}
