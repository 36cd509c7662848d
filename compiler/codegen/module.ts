// Module assembly shared by every kernel family: header comment first, binding declarations,
// helpers, then `main` over a 1-D workgroup run folded into a 2-D grid past the per-dimension
// limit; checked against the limits it was built for, so a plan that cannot run fails at compile
// time naming its kernel, not in the driver.
import { bindingDecls, kernelHeader, storageDecl } from './header.ts';
import { KernelLimitError, type BindingSpec, type KernelModule, type KernelOrigin, type ScalarType } from './kernel.ts';
import { defaultLimits, type DeviceLimits } from './limits.ts';
import { WgslWriter } from './writer.ts';

/** What every kernel template is given besides its shapes. */
export interface KernelFrame {
  readonly name: string;
  readonly origin: KernelOrigin;
  /** The limits to fit; absent: WebGPU's defaults (a template called outside a lowering). */
  readonly limits?: DeviceLimits | undefined;
}

/** The limits a frame's kernel must fit. */
export const limitsOf = (frame: KernelFrame): DeviceLimits => frame.limits ?? defaultLimits;

export const readBinding = (name: string, elements: number, type: ScalarType = 'f32'): BindingSpec => ({
  name,
  access: 'read',
  type,
  elements,
});
export const writeBinding = (name: string, elements: number, type: ScalarType = 'f32'): BindingSpec => ({
  name,
  access: 'read_write',
  type,
  elements,
});

/**
 * `groups` workgroups as a grid: (groups, 1, 1) when that fits, else (gx, gy, 1) with
 * gx * gy >= groups; `flat` is the WGSL for the flat workgroup index (uniform across the group).
 */
export function foldGrid(
  kernel: string,
  groups: number,
  limits: DeviceLimits,
): { dispatch: [number, number, number]; flat: string } {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`kernel ${kernel}: bad workgroup count ${groups}`);
  const perDim = limits.maxComputeWorkgroupsPerDimension;
  const gy = Math.ceil(groups / perDim);
  if (gy > perDim) throw new KernelLimitError(`kernel ${kernel}: ${groups} workgroups exceed ${perDim} x ${perDim}`);
  const gx = Math.ceil(groups / gy);
  return { dispatch: [gx, gy, 1], flat: gy === 1 ? 'wid.x' : `wid.x + wid.y * ${gx}u` };
}

/** Throws, naming the kernel, where a module exceeds one of `limits`. */
function checkLimits(k: KernelModule, limits: DeviceLimits): KernelModule {
  const fail = (what: string): never => {
    throw new KernelLimitError(`kernel ${k.name}: ${what}`);
  };
  if (k.bindings.length > limits.maxStorageBuffersPerShaderStage) {
    fail(
      `${k.bindings.length} storage buffers, the limit is ${limits.maxStorageBuffersPerShaderStage} per shader stage`,
    );
  }
  const perDim = limits.maxComputeWorkgroupsPerDimension;
  if (k.dispatch.some((d) => d > perDim)) fail(`grid (${k.dispatch.join(', ')}) exceeds ${perDim} per dimension`);
  if (k.workgroupSize[0] > limits.maxComputeWorkgroupSizeX)
    fail(`workgroup size ${k.workgroupSize[0]}, the limit is ${limits.maxComputeWorkgroupSizeX} in x`);
  const lanes = k.workgroupSize[0] * k.workgroupSize[1] * k.workgroupSize[2];
  if (lanes > limits.maxComputeInvocationsPerWorkgroup)
    fail(`${lanes} invocations per workgroup, the limit is ${limits.maxComputeInvocationsPerWorkgroup}`);
  return k;
}

export interface ModuleParts extends KernelFrame {
  /** Inputs first, then outputs, in @binding order. */
  readonly bindings: readonly BindingSpec[];
  /** Invocations per workgroup (1-D). */
  readonly lanes: number;
  /** Workgroups to launch (folded by foldGrid). */
  readonly groups: number;
  /**
   * How `main` sees its invocation: `lid: vec3u` (local_invocation_id, read as lid.x; the
   * default) or `lid: u32` ('index': local_invocation_index). The same value in a 1-D workgroup.
   */
  readonly lid?: 'id' | 'index';
  /** Declare the f32 bindings as array<vec4<f32>> (every binding's element count must divide by 4). */
  readonly vec4?: boolean;
  /** Module-scope WGSL after the bindings: consts, helper functions, workgroup variables. */
  readonly decls?: string;
  /** Enables WGSL subgroups; `main` also sees `sid`, the invocation's index in its subgroup. */
  readonly subgroups?: boolean;
  /** Writes the body of `main`, which sees `group` (flat workgroup index, uniform) and `lid`. */
  readonly main: (w: WgslWriter) => void;
}

/** The 0 loopBound adds to hidden bounds: a `let` of `main`'s (helpers take their bounds as arguments). */
const NO_UNROLL = 'noUnroll';

/**
 * A loop bound (WGSL `type` expression) the driver's compiler cannot unroll over, where the device
 * wants that (`DeviceLimits.unrollLoops` false): `bound` plus `main`'s `noUnroll`, a 0 it cannot
 * see through. Elsewhere `bound` itself. Only in `main`.
 */
export function loopBound(frame: KernelFrame, bound: string, type: 'u32' | 'i32' = 'u32'): string {
  if (limitsOf(frame).unrollLoops) return bound;
  return `${bound} + ${type === 'u32' ? NO_UNROLL : `i32(${NO_UNROLL})`}`;
}

/** Header, bindings, helpers and `main` as one KernelModule, checked against the frame's limits. */
export function buildModule(p: ModuleParts): KernelModule {
  const limits = limitsOf(p);
  const { dispatch, flat } = foldGrid(p.name, p.groups, limits);
  const workgroupSize = [p.lanes, 1, 1] as const;
  const body = new WgslWriter();
  p.main(body);
  const hidesBounds = body.toString().includes(NO_UNROLL);
  const w = new WgslWriter();
  w.chunk(kernelHeader(p.name, p.origin, p.bindings, dispatch, workgroupSize)).line();
  if (p.subgroups) w.line('enable subgroups;').line();
  w.chunk(p.vec4 ? vec4Decls(p.name, p.bindings) : bindingDecls(p.bindings)).line();
  if (p.decls) w.chunk(p.decls).line();
  w.line(`@compute @workgroup_size(${p.lanes})`);
  const lid =
    p.lid === 'index' ? '@builtin(local_invocation_index) lid: u32' : '@builtin(local_invocation_id) lid: vec3u';
  const sid = p.subgroups ? ', @builtin(subgroup_invocation_id) sid: u32' : '';
  w.block(`fn main(@builtin(workgroup_id) wid: vec3u, ${lid}${sid})`, () => {
    // Every grid is (x, y, 1) (foldGrid): wid.z is 0, which the driver's compiler cannot know
    // (and uniform, so subgroup operations may follow a loop bounded by it).
    if (hidesBounds)
      w.line(`let ${NO_UNROLL} = wid.z; // 0, unknown to the driver's compiler: loops bounded by it stay loops`);
    w.line(`let group = ${flat};`);
    // A folded grid launches up to gx - 1 workgroups past the end; they leave at once.
    if (dispatch[0] * dispatch[1] > p.groups) w.line(`if (group >= ${p.groups}u) { return; }`);
    w.chunk(body.toString());
  });
  return checkLimits({ name: p.name, wgsl: w.toString(), bindings: p.bindings, workgroupSize, dispatch }, limits);
}

function vec4Decls(kernel: string, bindings: readonly BindingSpec[]): string {
  return bindings
    .map((b, i) => {
      if (b.type !== 'f32' || b.elements % 4 !== 0)
        throw new Error(`kernel ${kernel}: binding ${b.name} cannot be read as vec4<f32>`);
      return storageDecl(b, i, 'vec4<f32>');
    })
    .join('\n');
}
