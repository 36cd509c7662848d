// Launch geometry shared by the kernel templates: 1-D workgroup runs folded into a 2-D grid past
// the per-dimension limit, module assembly (header first) and the build-time WebGPU limit check,
// so a plan that cannot run fails at compile time naming its kernel, not in the driver.
import { bindingDecls, kernelHeader, storageDecl } from './header.ts';
import { KernelLimitError, type BindingSpec, type KernelModule, type KernelOrigin } from './kernel.ts';
import { WgslWriter } from './writer.ts';

/** WebGPU's default limits (design.md 'WebGPU facts that bite'): what every adapter grants. */
export const LIMITS = {
  groupsPerDim: 65535,
  invocationsPerGroup: 256,
  storageBuffers: 8,
} as const;

/**
 * `groups` workgroups as a grid: (groups, 1, 1) when that fits, else (gx, gy, 1) with
 * gx * gy >= groups; `flat` is the WGSL for the flat workgroup index (uniform across the group).
 */
export function foldGrid(kernel: string, groups: number): { dispatch: [number, number, number]; flat: string } {
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`kernel ${kernel}: bad workgroup count ${groups}`);
  const gy = Math.ceil(groups / LIMITS.groupsPerDim);
  if (gy > LIMITS.groupsPerDim) {
    throw new KernelLimitError(`kernel ${kernel}: ${groups} workgroups exceed ${LIMITS.groupsPerDim} x ${LIMITS.groupsPerDim}`);
  }
  const gx = Math.ceil(groups / gy);
  return { dispatch: [gx, gy, 1], flat: gy === 1 ? 'wid.x' : `wid.x + wid.y * ${gx}u` };
}

/** Throws, naming the kernel, when a module exceeds a default WebGPU limit. */
export function checkLimits(k: KernelModule): KernelModule {
  const fail = (what: string): never => {
    throw new KernelLimitError(`kernel ${k.name}: ${what}`);
  };
  if (k.bindings.length > LIMITS.storageBuffers) {
    fail(`${k.bindings.length} storage buffers, the limit is ${LIMITS.storageBuffers} per shader stage`);
  }
  if (k.dispatch.some((d) => d > LIMITS.groupsPerDim)) fail(`grid (${k.dispatch.join(', ')}) exceeds ${LIMITS.groupsPerDim} per dimension`);
  const lanes = k.workgroupSize[0] * k.workgroupSize[1] * k.workgroupSize[2];
  if (lanes > LIMITS.invocationsPerGroup) fail(`${lanes} invocations per workgroup, the limit is ${LIMITS.invocationsPerGroup}`);
  return k;
}

export const readBinding = (name: string, elements: number): BindingSpec => ({ name, access: 'read', type: 'f32', elements });
export const writeBinding = (name: string, elements: number): BindingSpec => ({ name, access: 'read_write', type: 'f32', elements });

export interface ModuleParts {
  readonly name: string;
  readonly origin: KernelOrigin;
  /** Inputs first, then outputs, in @binding order. */
  readonly bindings: readonly BindingSpec[];
  /** Invocations per workgroup (1-D). */
  readonly lanes: number;
  /** Workgroups to launch (folded by foldGrid). */
  readonly groups: number;
  /** Declare the f32 bindings as array<vec4<f32>> (every binding's element count must divide by 4). */
  readonly vec4?: boolean;
  /** Module-scope WGSL after the bindings: helper functions. */
  readonly decls?: string;
  /** Enables WGSL subgroups; `main` also sees `sid`, the invocation's index in its subgroup. */
  readonly subgroups?: boolean;
  /** Writes the body of `main`, which sees `group` (flat workgroup index, uniform) and `lid.x`. */
  readonly main: (w: WgslWriter) => void;
}

/** Header, bindings, helpers and `main` as one checked KernelModule. */
export function buildModule(p: ModuleParts): KernelModule {
  const { dispatch, flat } = foldGrid(p.name, p.groups);
  const workgroupSize = [p.lanes, 1, 1] as const;
  const w = new WgslWriter();
  w.chunk(kernelHeader(p.name, p.origin, p.bindings, dispatch, workgroupSize)).line();
  if (p.subgroups) w.line('enable subgroups;').line();
  w.chunk(p.vec4 ? vec4Decls(p.name, p.bindings) : bindingDecls(p.bindings)).line();
  if (p.decls) w.chunk(p.decls).line();
  w.line(`@compute @workgroup_size(${p.lanes})`);
  const sid = p.subgroups ? ', @builtin(subgroup_invocation_id) sid: u32' : '';
  w.block(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u${sid})`, () => {
    w.line(`let group = ${flat};`);
    // A folded grid launches up to gx - 1 workgroups past the end; they leave at once.
    if (dispatch[0] * dispatch[1] > p.groups) w.line(`if (group >= ${p.groups}u) { return; }`);
    p.main(w);
  });
  return checkLimits({ name: p.name, wgsl: w.toString(), bindings: p.bindings, workgroupSize, dispatch });
}

function vec4Decls(kernel: string, bindings: readonly BindingSpec[]): string {
  return bindings
    .map((b, i) => {
      if (b.type !== 'f32' || b.elements % 4 !== 0) throw new Error(`kernel ${kernel}: binding ${b.name} cannot be read as vec4<f32>`);
      return storageDecl(b, i, 'vec4<f32>');
    })
    .join('\n');
}
