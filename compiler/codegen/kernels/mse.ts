// Squared-error loss (PyTorch nn.MSELoss with reduction 'sum' or 'mean'), forward and backward.
import type { KernelModule } from '../kernel.ts';
import { buildModule, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { f32Lit, wgsl } from '../writer.ts';
import { perItemKernel, reductionThreads, workgroupSumFn } from './reduce.ts';

export interface MseSpec extends KernelFrame {
  /** Elements of the prediction yhat and the target y (any shape, flattened). */
  readonly elements: number;
  readonly reduction: 'sum' | 'mean';
}

/** The factor applied to the sum: 1 for 'sum', 1 / n for 'mean'. */
function scale(spec: MseSpec): number {
  if (spec.elements < 1) throw new Error(`kernel ${spec.name}: mse over ${spec.elements} elements`);
  return spec.reduction === 'sum' ? 1 : 1 / spec.elements;
}

/** One workgroup loops over the elements. Bindings: yhat, y | loss (f32 [1]). */
export function mseForward(spec: MseSpec): KernelModule {
  const threads = reductionThreads(spec.elements, spec);
  const bindings = [readBinding('yhat', spec.elements), readBinding('y', spec.elements), writeBinding('loss', 1)];
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings,
    lid: 'index',
    lanes: threads,
    groups: 1,
    decls: workgroupSumFn(spec, 'error_sum', 'f32', threads),
    main: (w) =>
      w.chunk(wgsl`
      var part = 0.0;
      for (var e = lid; e < ${spec.elements}u; e += ${threads}u) {
        let d = yhat[e] - y[e];
        part += d * d;
      }
      let total = error_sum(part, lid);
      if (lid == 0u) {
        loss[0] = total * ${f32Lit(scale(spec))};
      }
    `),
  });
}

/** dyhat = 2 (yhat - y) times 1 or 1 / n. Bindings: yhat, y | dyhat. */
export function mseBackward(spec: MseSpec): KernelModule {
  const bindings = [
    readBinding('yhat', spec.elements),
    readBinding('y', spec.elements),
    writeBinding('dyhat', spec.elements),
  ];
  return perItemKernel(
    { name: spec.name, origin: spec.origin, limits: spec.limits, bindings },
    spec.elements,
    '',
    `dyhat[i] = ${f32Lit(2 * scale(spec))} * (yhat[i] - y[i]);`,
  );
}
