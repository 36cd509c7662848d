// The tuner's guard: a candidate's kernels run on random inputs of the site's exact shape and their
// outputs are compared with the float64 reference (runtime/reference/), so that a variant that
// computes anything else is never kept. Where the reference would take long (large layers), only
// two images of the batch carry data (the first and the last; the others are zero): the kernel
// still runs the whole shape, the reference only those images.
import type { KernelModule } from '../../compiler/codegen/kernel.ts';
import { type GemmSite, gemmDims, siteGeometry } from '../../compiler/codegen/tuning/site.ts';
import type { Epilogue } from '../../compiler/autodiff/step-ir.ts';
import type { Gpu } from '../gpu/device.ts';
import { runKernels } from '../gpu/run-kernel.ts';
import { Mulberry32 } from '../random.ts';
import * as ref from '../reference/ops.ts';
import { numel, type Tensor, tensor } from '../reference/tensor.ts';

/** Multiply-adds up to which the reference computes the whole batch (about a second of float64 JavaScript). */
const FULL_REFERENCE_MACS = 2e8;

/** One tensor of the problem: its binding name, shape, and whether its first dimension is the batch. */
interface Operand {
  readonly name: string;
  readonly shape: readonly number[];
  readonly batched: boolean;
  /** Only positive values (a running variance). */
  readonly positive?: boolean;
}

/** A family's problem: its operands and the reference from (focus-sliced) inputs to outputs. */
interface Problem {
  readonly inputs: readonly Operand[];
  readonly outputs: readonly Operand[];
  readonly reference: (t: Readonly<Record<string, Tensor>>) => Record<string, Tensor>;
}

export interface CheckResult {
  readonly ok: boolean;
  /** The first output element outside the tolerance, when not ok. */
  readonly mismatch?: string;
}

/** rtol 1e-3, atol 1e-4 * sqrt(K): float32 sums of K terms in another order, with room; garbage is far off. */
const tolerance = (depth: number) => ({ rtol: 1e-3, atol: 1e-4 * Math.max(1, Math.sqrt(depth)) });

/** Runs `kernels` (the site's, any choice) and compares them with the float64 reference. */
export async function checkKernels(
  gpu: Gpu,
  site: GemmSite,
  kernels: readonly KernelModule[],
  seed = 7,
): Promise<CheckResult> {
  const p = problem(site);
  const batch = p.inputs.find((o) => o.batched)!.shape[0]!;
  const { rows, cols, depth, groups } = gemmDims(site);
  const images = rows * cols * depth * groups <= FULL_REFERENCE_MACS || batch <= 2 ? null : [0, batch - 1];
  const random = new Mulberry32(seed);
  const host: Record<string, Float32Array> = {};
  const focused: Record<string, Tensor> = {};
  for (const o of p.inputs) {
    const data = Float32Array.from({ length: numel(o.shape) }, () =>
      o.positive ? 0.5 + random.next() : 2 * random.next() - 1,
    );
    if (images && o.batched) zeroOutside(data, o.shape, images);
    host[o.name] = data;
    focused[o.name] = o.batched && images ? slice(data, o.shape, images) : tensor(o.shape, data);
  }
  const got = await runKernels(
    gpu,
    kernels,
    host,
    p.outputs.map((o) => o.name),
  );
  const want = p.reference(focused);
  const tol = tolerance(depth);
  for (const o of p.outputs) {
    const out = got[o.name] as Float32Array;
    const mine = o.batched && images ? slice(out, o.shape, images).data : out;
    const theirs = want[o.name]!.data;
    for (let i = 0; i < theirs.length; i++) {
      const [a, b] = [mine[i]!, theirs[i]!];
      if (!(Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b)))
        return { ok: false, mismatch: `${o.name}[${i}] = ${a}, the float64 reference says ${b}` };
    }
  }
  return { ok: true };
}

function zeroOutside(data: Float32Array, shape: readonly number[], images: readonly number[]): void {
  const per = numel(shape) / shape[0]!;
  for (let n = 0; n < shape[0]!; n++) if (!images.includes(n)) data.fill(0, n * per, (n + 1) * per);
}

/** The images `images` of a batched tensor, as a float64 tensor of that many images. */
function slice(data: ArrayLike<number>, shape: readonly number[], images: readonly number[]): Tensor {
  const per = numel(shape) / shape[0]!;
  const out = new Float64Array(images.length * per);
  images.forEach((n, i) => {
    for (let j = 0; j < per; j++) out[i * per + j] = data[n * per + j]!;
  });
  return tensor([images.length, ...shape.slice(1)], out);
}

/** The epilogue's per-channel and per-element operands (the kernels' binding names). */
function epilogueOperands(e: Epilogue | null, out: readonly number[], channels: number): Operand[] {
  if (e?.kind === 'act_grad') return [{ name: 'act', shape: out, batched: true }];
  if (!e?.bn) return [];
  return [
    { name: 'bn_gamma', shape: [channels], batched: false },
    { name: 'bn_beta', shape: [channels], batched: false },
    { name: 'bn_mean', shape: [channels], batched: false },
    { name: 'bn_var', shape: [channels], batched: false, positive: true },
  ];
}

/** The epilogue applied to `v` in float64: eval batch norm and an activation, or an activation's gradient. */
function applyEpilogue(e: Epilogue | null, v: Tensor, t: Readonly<Record<string, Tensor>>): Tensor {
  if (e === null) return v;
  if (e.kind === 'act_grad') {
    const at = t['act']!;
    if (e.from === 'input') {
      if (e.fn === 'relu') return ref.reluBackward(at, v);
      if (e.fn === 'sigmoid') return ref.sigmoidBackward(at, v);
      if (e.fn === 'tanh') return ref.tanhBackward(at, v);
      return ref.leakyReluBackward(at, v, e.slope);
    }
    // From the activation's output y: relu and leaky relu keep y's sign, sigmoid' = y (1 - y), tanh' = 1 - y^2.
    const y = at.data;
    const scale = (i: number): number => {
      const yi = y[i]!;
      if (e.fn === 'sigmoid') return yi * (1 - yi);
      if (e.fn === 'tanh') return 1 - yi * yi;
      return yi > 0 ? 1 : e.fn === 'relu' ? 0 : e.slope;
    };
    return tensor(
      v.shape,
      v.data.map((d, i) => d * scale(i)),
    );
  }
  const normed = e.bn ? ref.batchnormEval(v, t['bn_gamma']!, t['bn_beta']!, t['bn_mean']!, t['bn_var']!, e.bn.eps) : v;
  if (!e.act) return normed;
  if (e.act.fn === 'relu') return ref.relu(normed);
  if (e.act.fn === 'sigmoid') return ref.sigmoid(normed);
  if (e.act.fn === 'tanh') return ref.tanh(normed);
  return ref.leakyRelu(normed, e.act.slope);
}

function problem(site: GemmSite): Problem {
  const e = site.epilogue;
  if ('input' in site) {
    const g = siteGeometry(site);
    const a = site.attrs;
    const x = { name: 'x', shape: site.input, batched: true };
    const w = { name: 'w', shape: [g.o, g.cg, g.kh, g.kw], batched: false };
    const y = [g.n, g.o, g.oh, g.ow];
    switch (site.family) {
      case 'conv2d':
        return {
          inputs: [
            x,
            w,
            ...(a.bias ? [{ name: 'b', shape: [g.o], batched: false }] : []),
            ...epilogueOperands(e, y, g.o),
          ],
          outputs: [{ name: 'y', shape: y, batched: true }],
          reference: (t) => ({ y: applyEpilogue(e, ref.conv2d(t['x']!, t['w']!, t['b'] ?? null, a), t) }),
        };
      case 'conv2d_dx':
        return {
          inputs: [{ name: 'dy', shape: y, batched: true }, w, ...epilogueOperands(e, site.input, g.c)],
          outputs: [{ name: 'dx', shape: site.input, batched: true }],
          reference: (t) => {
            const dy = t['dy']!;
            const { dx } = ref.conv2dBackward(tensor([dy.shape[0]!, g.c, g.h, g.w]), t['w']!, dy, a);
            return { dx: applyEpilogue(e, dx, t) };
          },
        };
      case 'conv2d_dw':
        return {
          inputs: [x, { name: 'dy', shape: y, batched: true }],
          outputs: [
            { name: 'dw', shape: w.shape, batched: false },
            ...(a.bias ? [{ name: 'db', shape: [g.o], batched: false }] : []),
          ],
          reference: (t) => {
            const { dw, db } = ref.conv2dBackward(t['x']!, tensor(w.shape), t['dy']!, a);
            return { dw, ...(db ? { db } : {}) };
          },
        };
    }
  }
  const { batch, inFeatures: fin, outFeatures: fout, bias } = site;
  const w = { name: 'w', shape: [fout, fin], batched: false };
  switch (site.family) {
    case 'linear':
      return {
        inputs: [
          { name: 'x', shape: [batch, fin], batched: true },
          w,
          ...(bias ? [{ name: 'b', shape: [fout], batched: false }] : []),
          ...epilogueOperands(e, [batch, fout], fout),
        ],
        outputs: [{ name: 'y', shape: [batch, fout], batched: true }],
        reference: (t) => ({ y: applyEpilogue(e, ref.linear(t['x']!, t['w']!, t['b'] ?? null), t) }),
      };
    case 'linear_dx':
      return {
        inputs: [{ name: 'dy', shape: [batch, fout], batched: true }, w, ...epilogueOperands(e, [batch, fin], fin)],
        outputs: [{ name: 'dx', shape: [batch, fin], batched: true }],
        reference: (t) => {
          const dy = t['dy']!;
          const { dx } = ref.linearBackward(tensor([dy.shape[0]!, fin]), t['w']!, dy, false);
          return { dx: applyEpilogue(e, dx, t) };
        },
      };
    case 'linear_dw':
      return {
        inputs: [
          { name: 'dy', shape: [batch, fout], batched: true },
          { name: 'x', shape: [batch, fin], batched: true },
        ],
        outputs: [
          { name: 'dw', shape: [fout, fin], batched: false },
          ...(bias ? [{ name: 'db', shape: [fout], batched: false }] : []),
        ],
        reference: (t) => {
          const { dw, db } = ref.linearBackward(t['x']!, tensor(w.shape), t['dy']!, bias);
          return { dw, ...(db ? { db } : {}) };
        },
      };
  }
}
