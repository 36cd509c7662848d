// The generic elementwise kernel: out[i] = body(in0[i], in1[i], ...) over equal-length tensors.
// Activations forward and backward, add, scale and fused elementwise chains are all this template
// with a different ScalarExpr body.
import { type ScalarExpr, exprInputs } from '../../ir/expr.ts';
import { exprHelpers, printExpr } from '../expr.ts';
import type { KernelModule } from '../kernel.ts';
import { workgroupLanes } from '../limits.ts';
import { buildModule, limitsOf, readBinding, writeBinding, type KernelFrame } from '../module.ts';

export interface ElementwiseSpec extends KernelFrame {
  /** Binding names of the inputs, in @binding order; `body` reads them as `input(name)`. */
  readonly inputs: readonly string[];
  readonly output: string;
  /** Elements of every input and of the output. */
  readonly count: number;
  readonly body: ScalarExpr;
  /** Invocations per workgroup (a tuning knob); 256 by default. */
  readonly lanes?: number;
}

export function elementwiseKernel(spec: ElementwiseSpec): KernelModule {
  // 256 invocations a workgroup, or fewer where the device allows fewer.
  const lanes = workgroupLanes(limitsOf(spec), spec.lanes ?? 256);
  for (const name of exprInputs(spec.body)) {
    if (!spec.inputs.includes(name)) throw new Error(`kernel ${spec.name}: body reads ${name}, which is not an input`);
  }
  // On lavapipe a vec4 access costs about what a scalar one does (per-lane memory traffic is the
  // cost), so 4 elements per invocation when the count allows (measurements: bench/NOTES.md).
  const width = spec.count % 4 === 0 ? 4 : 1;
  const items = spec.count / width;
  const local = (name: string): string => `v${spec.inputs.indexOf(name)}`;
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    limits: spec.limits,
    bindings: [...spec.inputs.map((n) => readBinding(n, spec.count)), writeBinding(spec.output, spec.count)],
    lanes,
    groups: Math.ceil(items / lanes),
    vec4: width === 4,
    decls: exprHelpers([spec.body], width),
    main: (w) => {
      w.line(`let i = group * ${lanes}u + lid.x;`);
      w.line(`if (i >= ${items}u) { return; }`);
      // Each input is loaded once into a local, however often the body reads it.
      spec.inputs.forEach((name, k) => w.line(`let v${k} = ${name}[i];`));
      w.line(`${spec.output}[i] = ${printExpr(spec.body, { input: local, width })};`);
    },
  });
}
