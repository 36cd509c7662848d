// The generic elementwise kernel: out[i] = body(in0[i], in1[i], ...) over equal-length tensors.
// Activations forward and backward, add, scale and fused elementwise chains are all this template
// with a different ScalarExpr body.
import { type ScalarExpr, exprInputs } from '../../ir/expr.ts';
import { exprHelpers, printExpr } from '../expr.ts';
import { buildModule, readBinding, writeBinding } from '../indexing.ts';
import type { KernelModule, KernelOrigin } from '../kernel.ts';

export interface ElementwiseSpec {
  readonly name: string;
  readonly origin: KernelOrigin;
  /** Binding names of the inputs, in @binding order; `body` reads them as `input(name)`. */
  readonly inputs: readonly string[];
  readonly output: string;
  /** Elements of every input and of the output. */
  readonly count: number;
  readonly body: ScalarExpr;
}

const LANES = 256;

export function elementwiseKernel(spec: ElementwiseSpec): KernelModule {
  for (const name of exprInputs(spec.body)) {
    if (!spec.inputs.includes(name)) throw new Error(`kernel ${spec.name}: body reads ${name}, which is not an input`);
  }
  // On lavapipe a vec4 access costs about what a scalar one does (per-lane memory traffic is the
  // cost, design.md), so 4 elements per invocation when the count allows: ~2x measured on 4M relu.
  const width = spec.count % 4 === 0 ? 4 : 1;
  const items = spec.count / width;
  const local = (name: string): string => `v${spec.inputs.indexOf(name)}`;
  return buildModule({
    name: spec.name,
    origin: spec.origin,
    bindings: [...spec.inputs.map((n) => readBinding(n, spec.count)), writeBinding(spec.output, spec.count)],
    lanes: LANES,
    groups: Math.ceil(items / LANES),
    vec4: width === 4,
    decls: exprHelpers([spec.body], width),
    main: (w) => {
      w.line(`let i = group * ${LANES}u + lid.x;`);
      w.line(`if (i >= ${items}u) { return; }`);
      // Each input is loaded once into a local, however often the body reads it.
      spec.inputs.forEach((name, k) => w.line(`let v${k} = ${name}[i];`));
      w.line(`${spec.output}[i] = ${printExpr(spec.body, { input: local, width })};`);
    },
  });
}
