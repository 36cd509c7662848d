// Adaptive average pooling over NCHW, forward and backward (PyTorch AdaptiveAvgPool2d): the average
// pool templates of pool.ts driven by adaptive bins instead of strided windows.
import type { OpAttrs } from '../../ir/ops.ts';
import type { KernelModule } from '../kernel.ts';
import type { KernelFrame } from '../module.ts';
import { wgsl } from '../writer.ts';
import { type PoolAxis, type PoolGeometry, poolBackward, poolForward } from './pool.ts';

export interface AdaptiveAvgpool2dSpec extends KernelFrame {
  /** [N, C, H, W]. */
  readonly input: readonly [number, number, number, number];
  readonly attrs: OpAttrs['adaptive_avgpool2d'];
}

/**
 * PyTorch's bins: output o averages [floor(o * size / out), ceil((o + 1) * size / out)), divisor
 * = the bin's length (bins may overlap when size is not a multiple of out; (1, 1) is global pooling).
 */
function adaptiveAxis(kernel: string, size: number, out: number): PoolAxis {
  if (!Number.isInteger(out) || out < 1) throw new Error(`kernel ${kernel}: bad adaptive output size ${out}`);
  return {
    size,
    out,
    // Equal bins (global pooling among them) tile the input.
    ...(size % out === 0 ? { extent: size / out, disjoint: size / out } : {}),
    window: wgsl`
      let start = (o * ${size}) / ${out};
      let end = ((o + 1) * ${size} + ${out - 1}) / ${out};
      return Win(start, end, end - start);
    `,
    // Bin o reads i when start(o) <= i < end(o), i.e. floor(i * out / size) <= o <= ceil((i + 1) * out / size) - 1.
    cover: wgsl`
      return vec2i((i * ${out}) / ${size}, ((i + 1) * ${out} + ${size - 1}) / ${size} - 1);
    `,
  };
}

function adaptiveGeometry(spec: AdaptiveAvgpool2dSpec): PoolGeometry {
  const [, , h, w] = spec.input;
  const [oh, ow] = spec.attrs.output;
  return { input: spec.input, rows: adaptiveAxis(spec.name, h, oh), cols: adaptiveAxis(spec.name, w, ow) };
}

/** Bindings: x | y. */
export function adaptiveAvgpool2dForward(spec: AdaptiveAvgpool2dSpec): KernelModule {
  return poolForward(spec, 'avg', adaptiveGeometry(spec));
}

/** Bindings: dy | dx. */
export function adaptiveAvgpool2dBackward(spec: AdaptiveAvgpool2dSpec): KernelModule {
  return poolBackward(spec, 'avg', adaptiveGeometry(spec));
}
