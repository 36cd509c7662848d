// Concatenation along channels (PyTorch torch.cat(xs, dim=1) on NCHW) and its backward, which
// slices dy back into one gradient per part. Both are the same copy between part p, viewed as
// [N, C_p * S], and columns off_p * S .. (off_p + C_p) * S of the whole, viewed as [N, C * S].
import type { KernelModule } from '../kernel.ts';
import { workgroupLanes } from '../limits.ts';
import { buildModule, limitsOf, readBinding, writeBinding, type KernelFrame } from '../module.ts';

export interface ConcatSpec extends KernelFrame {
  /** 'forward' copies parts into whole; 'backward' copies the whole gradient out into the parts. */
  readonly direction: 'forward' | 'backward';
  readonly batch: number;
  /** Channels of each part, in concatenation order. */
  readonly channels: readonly number[];
  /** Elements per channel: H * W for NCHW, 1 for [N, F] features. */
  readonly spatial: number;
  /** Binding names: one per part (x_i forward, dx_i backward), and the whole (y forward, dy backward). */
  readonly parts: readonly string[];
  readonly whole: string;
}

export function concatKernel(spec: ConcatSpec): KernelModule {
  // 256 invocations a workgroup, or fewer where the device allows fewer.
  const lanes = workgroupLanes(limitsOf(spec), 256);
  const { batch, channels, spatial, parts, whole } = spec;
  if (parts.length !== channels.length)
    throw new Error(`kernel ${spec.name}: ${parts.length} part names for ${channels.length} parts`);
  // Every slice starts at a multiple of S, so with S % 4 == 0 the copy moves vec4s (fewer
  // per-lane accesses, which is what costs on lavapipe).
  const width = spatial % 4 === 0 ? 4 : 1;
  const s = spatial / width;
  const total = channels.reduce((a, c) => a + c, 0);
  const partBindings = parts.map((p, i) =>
    (spec.direction === 'forward' ? readBinding : writeBinding)(p, batch * (channels[i] ?? 0) * spatial),
  );
  const wholeBinding = (spec.direction === 'forward' ? writeBinding : readBinding)(whole, batch * total * spatial);
  // Each part gets its own run of workgroups, so which part a workgroup copies is uniform
  // (no divergent branch per element).
  const runs = channels.map((c) => Math.ceil((batch * c * s) / lanes));
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings: spec.direction === 'forward' ? [...partBindings, wholeBinding] : [wholeBinding, ...partBindings],
    lanes,
    groups: runs.reduce((a, r) => a + r, 0),
    vec4: width === 4,
    main: (w) => {
      let first = 0;
      let offset = 0;
      channels.forEach((c, p) => {
        const run = runs[p] ?? 0;
        const part = parts[p] ?? '';
        w.block(`if (group < ${first + run}u)`, () => {
          w.line(`let i = (group - ${first}u) * ${lanes}u + lid.x;`);
          w.line(`if (i >= ${batch * c * s}u) { return; }`);
          w.line(`let j = i / ${c * s}u * ${total * s}u + ${offset * s}u + i % ${c * s}u;`);
          w.line(spec.direction === 'forward' ? `${whole}[j] = ${part}[i];` : `${part}[i] = ${whole}[j];`);
          w.line('return;');
        });
        first += run;
        offset += c;
      });
    },
  });
}
