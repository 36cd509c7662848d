// Squared-error loss (PyTorch nn.MSELoss with reduction 'sum' or 'mean'), forward and backward.
import type { KernelModule } from '../kernel.ts';
import { buildModule, readBinding, writeBinding, type KernelFrame } from '../module.ts';
import { f32Lit, wgsl } from '../writer.ts';
import { perItemKernel, reductionThreads, workgroupSum } from './reduce.ts';

export interface MseSpec extends KernelFrame {
  /** Elements of the prediction yhat and the target y (any shape, flattened), in `batch` rows. */
  readonly elements: number;
  readonly batch: number;
  readonly reduction: 'sum' | 'mean';
}

/** The factor applied to the sum: 1 for 'sum', 1 / n for 'mean'. */
function scale(spec: MseSpec): number {
  if (spec.elements < 1) throw new Error(`kernel ${spec.name}: mse over ${spec.elements} elements`);
  return spec.reduction === 'sum' ? 1 : 1 / spec.elements;
}

/**
 * One workgroup loops over the elements of the batch's rows before the padding. Bindings: yhat, y,
 * padding (u32 [1]: the batch's last rows left out) | loss (f32 [1]).
 */
export function mseForward(spec: MseSpec): KernelModule {
  const threads = reductionThreads(spec.elements, spec);
  const bindings = [
    readBinding('yhat', spec.elements),
    readBinding('y', spec.elements),
    readBinding('padding', 1, 'u32'),
    writeBinding('loss', 1),
  ];
  if (spec.elements % spec.batch !== 0)
    throw new Error(`kernel ${spec.name}: ${spec.elements} elements in ${spec.batch} rows`);
  const perRow = spec.elements / spec.batch;
  const sum = workgroupSum(spec, 'error_sum', 'f32', threads);
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings,
    lid: 'index',
    lanes: threads,
    groups: 1,
    decls: sum.decls,
    main: (w) =>
      w.chunk(wgsl`
      let count = (${spec.batch}u - padding[0]) * ${perRow}u;
      var part = 0.0;
      for (var e = lid; e < count; e += ${threads}u) {
        let d = yhat[e] - y[e];
        part += d * d;
      }
      let total = ${sum.call('part')};
      if (lid == 0u) {
        loss[0] = ${spec.reduction === 'sum' ? 'total' : 'total / f32(count)'};
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
