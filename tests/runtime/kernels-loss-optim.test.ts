// Loss, dropout, accumulation and optimizer kernels on the GPU against the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelModule, KernelOrigin } from '../../compiler/codegen/kernel.ts';
import { softmaxXentBackward, softmaxXentForward } from '../../compiler/codegen/kernels/softmax-xent.ts';
import { mseBackward, mseForward } from '../../compiler/codegen/kernels/mse.ts';
import { accumulateKernel, ITEM_THREADS } from '../../compiler/codegen/kernels/reduce.ts';
import { defaultLimits } from '../../compiler/codegen/limits.ts';
import { dropoutBackward, dropoutForward } from '../../compiler/codegen/kernels/dropout.ts';
import {
  type AdamSpec,
  type ParamRange,
  type SgdSpec,
  adamStep,
  adamwStep,
  sgdStep,
  stepWords,
} from '../../compiler/codegen/kernels/optimizer.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { type HostArray, runKernels } from '../../runtime/gpu/run-kernel.ts';
import { dropoutMask } from '../../runtime/gpu/rng.ts';
import * as ref from '../../runtime/reference/ops.ts';
import { type Tensor, tensor } from '../../runtime/reference/tensor.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { createRng, randint, randn } from '../helpers/random.ts';

const tol = { rtol: 1e-4, atol: 1e-5 };
const origin: KernelOrigin = { phase: 'loss', sources: [], ops: ['test#0'] };

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

/** runKernels on this file's device. */
const run = (kernels: readonly KernelModule[], inputs: Record<string, HostArray>, outputs: readonly string[]) =>
  runKernels(gpu, kernels, inputs, outputs);

/** A seeded normal tensor rounded to f32 and scaled, so the reference sees exactly what the GPU sees. */
function randomF32(seed: number, shape: readonly number[], scale = 1): Tensor {
  return tensor(
    shape,
    Float32Array.from(randn(createRng(seed), shape).data, (v) => v * scale),
  );
}

const f32 = (t: Tensor): Float32Array => Float32Array.from(t.data);

describe.each([
  { batch: 8, classes: 10, scale: 1 },
  { batch: 300, classes: 7, scale: 3 },
  { batch: 3, classes: 1000, scale: 40 },
])(
  'softmax cross-entropy [$batch, $classes] x$scale (float64 reference, rtol 1e-4 atol 1e-5)',
  ({ batch, classes, scale }) => {
    const spec = { name: 'k_xent', origin, batch, classes };
    const logits = randomF32(1, [batch, classes], scale);
    const labels = randint(createRng(2), batch, classes);
    const hits = (rows: number): number => {
      let n = 0;
      for (let r = 0; r < rows; r++) {
        const row = Array.from(logits.data.subarray(r * classes, (r + 1) * classes));
        if (row.indexOf(Math.max(...row)) === labels[r]) n++;
      }
      return n;
    };

    it('loss, correct count accumulated onto the buffer, and dlogits', async () => {
      const out = await run(
        [softmaxXentForward(spec), softmaxXentBackward({ ...spec, name: 'k_xent_grad' })],
        { logits: f32(logits), labels, correct: new Uint32Array([5]) },
        ['loss', 'correct', 'dlogits'],
      );
      expectAllclose(out['loss']!, [ref.softmaxCrossEntropy(logits, labels)], tol, 'loss');
      expect(out['correct']![0]).toBe(5 + hits(batch));
      expectAllclose(out['dlogits']!, ref.softmaxCrossEntropyBackward(logits, labels).data, tol, 'dlogits');
    });

    it('leaves the padded last rows out of the loss and the count', async () => {
      const rows = Math.max(1, batch - 2);
      const out = await run(
        [softmaxXentForward(spec)],
        { logits: f32(logits), labels, padding: new Uint32Array([batch - rows]) },
        ['loss', 'correct'],
      );
      const head = tensor([rows, classes], logits.data.subarray(0, rows * classes));
      expectAllclose(out['loss']!, [ref.softmaxCrossEntropy(head, labels.subarray(0, rows))], tol, 'loss');
      expect(out['correct']![0]).toBe(hits(rows));
    });
  },
);

describe.each([
  { elements: 7, batch: 7, reduction: 'sum' as const },
  { elements: 1000, batch: 8, reduction: 'mean' as const },
  { elements: 1000, batch: 5, reduction: 'sum' as const },
])(
  'mse $reduction over $elements in $batch rows (float64 reference, rtol 1e-4 atol 1e-5)',
  ({ elements, batch, reduction }) => {
    const spec = { name: 'k_mse', origin, elements, batch, reduction };
    const pred = randomF32(3, [elements]);
    const target = randomF32(4, [elements]);
    const loss = (p: Tensor, t: Tensor): number => (reduction === 'sum' ? ref.mseSum(p, t) : ref.mseMean(p, t));

    it('loss and gradient', async () => {
      const out = await run(
        [mseForward(spec), mseBackward({ ...spec, name: 'k_mse_grad' })],
        { yhat: f32(pred), y: f32(target) },
        ['loss', 'dyhat'],
      );
      const grad = reduction === 'sum' ? ref.mseSumBackward(pred, target) : ref.mseMeanBackward(pred, target);
      expectAllclose(out['loss']!, [loss(pred, target)], tol, 'loss');
      expectAllclose(out['dyhat']!, grad.data, tol, 'dyhat');
    });

    it('leaves the padded last rows out of the loss', async () => {
      const kept = ((batch - 3) * elements) / batch;
      const out = await run([mseForward(spec)], { yhat: f32(pred), y: f32(target), padding: new Uint32Array([3]) }, [
        'loss',
      ]);
      const head = (t: Tensor): Tensor => tensor([kept], t.data.subarray(0, kept));
      expectAllclose(out['loss']!, [loss(head(pred), head(target))], tol, 'loss');
    });
  },
);

describe('accumulate (exact)', () => {
  it('adds the step loss onto a running sum', async () => {
    const k = accumulateKernel({ name: 'k_acc', origin, source: 'loss', target: 'loss_sum', elements: 1 });
    const out = await run([k], { loss: new Float32Array([0.25]), loss_sum: new Float32Array([1.5]) }, ['loss_sum']);
    expect(out['loss_sum']![0]).toBe(1.75);
  });

  it('covers every element when the grid folds past 65,535 workgroups', async () => {
    const elements = defaultLimits.maxComputeWorkgroupsPerDimension * ITEM_THREADS + 100;
    const k = accumulateKernel({ name: 'k_acc_big', origin, source: 'x', target: 'acc', elements });
    expect(k.dispatch[1]).toBe(2);
    const out = await run([k], { x: new Float32Array(elements).fill(1) }, ['acc']);
    expect(out['acc']!.every((v) => v === 1)).toBe(true);
  });
});

describe('dropout (CPU twin of the mask hash, exact mask; rtol 1e-4 atol 1e-5 values)', () => {
  const elements = 20003; // not a multiple of the 4 items an invocation
  const p = 0.3;
  const spec = { name: 'k_drop', origin, elements, attrs: { p }, stream: 2 };
  const x = randomF32(5, [elements]);
  const dy = randomF32(6, [elements]);
  const draw = async (step: number) =>
    run(
      [dropoutForward(spec), dropoutBackward({ ...spec, name: 'k_drop_grad' })],
      { params: new Uint32Array([1234, step]), x: f32(x), dy: f32(dy) },
      ['y', 'dx'],
    );

  it('forward and backward follow the CPU twin mask, scaled by 1/(1-p), about p dropped', async () => {
    const out = await draw(0);
    const mask = tensor([elements], dropoutMask(elements, p, { seed: 1234, step: 0, stream: 2 }));
    expectAllclose(out['y']!, ref.dropout(x, mask, p).data, tol, 'y');
    expectAllclose(out['dx']!, ref.dropoutBackward(dy, mask, p).data, tol, 'dx');
    const dropped = out['y']!.filter((v) => v === 0).length / elements;
    expect(Math.abs(dropped - p)).toBeLessThan(0.02);
  });

  it('draws a different mask at another step', async () => {
    const [a, b] = [await draw(0), await draw(1)];
    const differ = a['y']!.filter((v, i) => (v === 0) !== (b['y']![i] === 0)).length / elements;
    // Independent masks disagree on 2p(1-p) = 42% of elements.
    expect(Math.abs(differ - 2 * p * (1 - p))).toBeLessThan(0.03);
  });

  it('p = 0 keeps everything and p = 1 drops everything', async () => {
    const ones = new Float32Array(16).fill(1);
    for (const q of [0, 1]) {
      const k = dropoutForward({ ...spec, name: `k_drop_${q}`, elements: 16, attrs: { p: q } });
      const out = await run([k], { params: new Uint32Array([7, 3]), x: ones }, ['y']);
      expect(Array.from(out['y']!)).toEqual(Array(16).fill(1 - q));
    }
  });
});

/**
 * A packed buffer of 600 elements whose middle range [100, 499) is one parameter: 399 elements, so
 * the last run of 4 items an invocation is cut short.
 */
const range: ParamRange = { bufferElements: 600, offset: 100, count: 399 };
const slice = (a: HostArray): Tensor => tensor([range.count], a.subarray(range.offset, range.offset + range.count));

describe('optimizers: 3 steps over a packed range (float64 reference, rtol 1e-4 atol 1e-5)', () => {
  const p0 = randomF32(7, [range.bufferElements]);
  const grads = [8, 9, 10].map((s) => randomF32(s, [range.bufferElements]));

  /** Runs 3 steps, feeding back param and state, and checks param + state after each step. */
  async function threeSteps(
    kernel: KernelModule,
    params: (step: number) => Uint32Array,
    stateNames: readonly string[],
    refStep: (p: Tensor, g: Tensor, step: number) => { p: Tensor; state: readonly Tensor[] },
  ): Promise<void> {
    let buffers: Record<string, HostArray> = { param: f32(p0) };
    let refP = slice(f32(p0));
    for (let step = 0; step < 3; step++) {
      const g = grads[step]!;
      const out = await run([kernel], { ...buffers, params: params(step), grad: f32(g) }, ['param', ...stateNames]);
      const want = refStep(refP, slice(f32(g)), step);
      expectAllclose(slice(out['param']!).data, want.p.data, tol, `param after step ${step + 1}`);
      want.state.forEach((s, i) =>
        expectAllclose(slice(out[stateNames[i]!]!).data, s.data, tol, `${stateNames[i]} after step ${step + 1}`),
      );
      // Outside the range nothing moves.
      expect(Array.from(out['param']!.subarray(0, range.offset))).toEqual(
        Array.from(f32(p0).subarray(0, range.offset)),
      );
      expect(Array.from(out['param']!.subarray(range.offset + range.count))).toEqual(
        Array.from(f32(p0).subarray(range.offset + range.count)),
      );
      buffers = out;
      refP = want.p;
    }
  }

  it.each([
    { momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: false },
    { momentum: 0.9, dampening: 0.1, weightDecay: 0, nesterov: false },
    { momentum: 0.8, dampening: 0, weightDecay: 1e-3, nesterov: true },
    { momentum: 0, dampening: 0, weightDecay: 1e-4, nesterov: false },
  ])('SGD momentum $momentum dampening $dampening wd $weightDecay nesterov $nesterov', async (h) => {
    const hyper = { lr: 0.1, ...h };
    const spec: SgdSpec = { name: 'k_sgd', origin, range, hyper };
    let state: ref.SgdState = { momentumBuf: null };
    await threeSteps(
      sgdStep(spec),
      (step) => new Uint32Array([0, step]),
      h.momentum === 0 ? [] : ['momentum_buf'],
      (p, g) => {
        const r = ref.sgdStep(p, g, state, hyper);
        state = r.state;
        return { p: r.p, state: r.state.momentumBuf ? [r.state.momentumBuf] : [] };
      },
    );
  });

  it.each([
    { kind: 'Adam', kernel: adamStep, refStep: ref.adamStep, weightDecay: 0 },
    { kind: 'Adam', kernel: adamStep, refStep: ref.adamStep, weightDecay: 1e-2 },
    { kind: 'AdamW', kernel: adamwStep, refStep: ref.adamwStep, weightDecay: 1e-2 },
  ])('$kind wd $weightDecay', async ({ kernel, refStep, weightDecay }) => {
    const hyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
    const spec: AdamSpec = { name: 'k_adam', origin, range, hyper };
    let state = ref.adamInitState(slice(f32(p0)));
    const config = { kind: 'adam' as const, lr: hyper.lr, betas: [hyper.beta1, hyper.beta2] as const };
    await threeSteps(
      kernel(spec),
      (step) => stepWords(0, step, config),
      ['exp_avg', 'exp_avg_sq'],
      (p, g) => {
        const r = refStep(p, g, state, hyper);
        state = r.state;
        return { p: r.p, state: [r.state.m, r.state.v] };
      },
    );
  });

  // The step itself, du = p_after - p_before, to 1e-5 of its largest element: float32 rounds it
  // by ~1e-7 (p is ~0.01, its ulp ~1e-9 against steps of ~lr = 1e-2). Bias corrections computed in
  // WGSL (1 - pow(0.999, 1) = 0.00100010633 on lavapipe) made every step 5.3e-5 too large.
  it.each([
    { kind: 'adam' as const, kernel: adamStep, refStep: ref.adamStep, t: 1 },
    { kind: 'adam' as const, kernel: adamStep, refStep: ref.adamStep, t: 2 },
    { kind: 'adamw' as const, kernel: adamwStep, refStep: ref.adamwStep, t: 10 },
    { kind: 'adam' as const, kernel: adamStep, refStep: ref.adamStep, t: 1000 },
  ])(
    '$kind at step $t: bias corrections as torch computes them, the step within 1e-5 of its size',
    async ({ kind, kernel, refStep, t }) => {
      const hyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 };
      const p = randomF32(20 + t, [range.bufferElements], 0.01);
      const g = randomF32(21 + t, [range.bufferElements]);
      // Moments as t - 1 earlier steps might leave them (zero before the first).
      const m = t === 1 ? tensor([range.bufferElements]) : randomF32(22 + t, [range.bufferElements], 0.1);
      const v =
        t === 1
          ? tensor([range.bufferElements])
          : tensor(
              [range.bufferElements],
              Float32Array.from(randomF32(23 + t, [range.bufferElements]).data, (x) => 0.01 * x * x),
            );
      const words = stepWords(0, t - 1, { kind, lr: hyper.lr, betas: [hyper.beta1, hyper.beta2] });
      const out = await run(
        [kernel({ name: 'k_adam', origin, range, hyper })],
        { params: words, param: f32(p), grad: f32(g), exp_avg: f32(m), exp_avg_sq: f32(v) },
        ['param'],
      );
      const want = refStep(slice(f32(p)), slice(f32(g)), { m: slice(f32(m)), v: slice(f32(v)), step: t - 1 }, hyper);
      const before = slice(f32(p)).data;
      const du = Array.from(slice(out['param']!).data, (x, i) => x - before[i]!);
      const duRef = Array.from(want.p.data, (x, i) => x - before[i]!);
      const size = Math.max(...duRef.map(Math.abs));
      expectAllclose(du, duRef, { rtol: 0, atol: 1e-5 * size }, `${kind} step ${t}: p_after - p_before`);
    },
  );

  it('rejects Nesterov without momentum, naming the kernel', () => {
    expect(() =>
      sgdStep({
        name: 'k_bad_sgd',
        origin,
        range,
        hyper: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: true },
      }),
    ).toThrow(/k_bad_sgd/);
  });
});
