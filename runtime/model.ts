// The TypeScript API: compile(source, options) -> a Model on the GPU with forward, trainStep,
// evaluate, parameter get/set and dispose. The CLI commands are thin layers over this.
import { analyze, type FrontendOptions } from '../compiler/index.ts';
import { buildStepProgram } from '../compiler/autodiff/build.ts';
import type { StepProgram, TensorId } from '../compiler/autodiff/step-ir.ts';
import { lowerProgram, type DeviceLimits, type LoweredProgram } from '../compiler/codegen/index.ts';
import { renderDiagnostics } from '../compiler/diagnostics/render.ts';
import type { Diagnostic } from '../compiler/diagnostics/diagnostic.ts';
import type { InitKind, LossKind, OptimizerConfig, TrainConfig } from '../compiler/elaborate/train-config.ts';
import { numel, type ShapedGraph } from '../compiler/ir/graph.ts';
import { fuse, type FusionDecision } from '../compiler/fusion/fuse.ts';
import { planMemory, type MemoryPlan } from '../compiler/plan/allocate.ts';
import { openGpu, type Gpu } from './gpu/device.ts';
import { Executor } from './gpu/executor.ts';
import { initParam } from './train/init.ts';
import { Mulberry32 } from './random.ts';

export interface CompileOptions extends FrontendOptions {
  /** Shown in diagnostics and kernel headers. */
  readonly path?: string;
  readonly loss?: LossKind;
  readonly optimizer?: Partial<OptimizerConfig>;
  readonly init?: InitKind;
  /** Seeds weight init and dropout masks. */
  readonly seed?: number;
  /** An open device to use (and not dispose); default: a new one, disposed with the model. */
  readonly gpu?: Gpu;
  /** Fuse activations and their gradients into neighbouring kernels (default true; `--no-fuse`). */
  readonly fuse?: boolean;
  /** Let GEMM kernels share loads through subgroups where the device has them (default true). */
  readonly subgroups?: boolean;
}

/** The device's limits as this compilation may use them. */
const limitsFor = (gpu: Gpu, options: CompileOptions): DeviceLimits => (options.subgroups === false ? { ...gpu.limits, subgroupMinSize: 0 } : gpu.limits);

/** A model that failed to compile: `message` holds the rendered diagnostics. */
export class CompileError extends Error {}

export interface Compiled {
  /** Warnings (device limits, when compiled only to be shown). */
  readonly warnings: readonly Diagnostic[];
  readonly graph: ShapedGraph;
  readonly train: TrainConfig;
  /** The step program after fusion (when on). */
  readonly program: StepProgram;
  /** Every fusion candidate and what became of it (null with fusion off). */
  readonly fusion: readonly FusionDecision[] | null;
  readonly plan: MemoryPlan;
  readonly kernels: LoweredProgram;
}

/**
 * Everything up to WGSL, without a device. Limit violations are errors, or warnings when
 * `limitSeverity` says the kernels are only shown (`cnnc compile`, `cnnc kernels`).
 */
export function compileToKernels(source: string, options: CompileOptions, limits: DeviceLimits, limitSeverity: 'error' | 'warning' = 'error'): Compiled {
  const front = analyze(options.path ?? 'model.cnn', source, { trainBatch: true, ...options });
  const fail = () => new CompileError(renderDiagnostics(front.diagnostics.all));
  if (!front.shaped || !front.train) throw fail();
  const recipe = front.train;
  const train: TrainConfig = {
    ...recipe,
    loss: options.loss ?? recipe.loss,
    init: options.init ?? recipe.init,
    seed: options.seed ?? recipe.seed,
    optimizer: { ...recipe.optimizer, ...options.optimizer },
  };
  const unfused = buildStepProgram(front.shaped, { loss: train.loss, optimizer: train.optimizer }, front.diagnostics);
  if (!unfused) throw fail();
  const { program, decisions } = options.fuse === false ? { program: unfused, decisions: null } : fuse(unfused);
  const plan = planMemory(program);
  const kernels = lowerProgram(program, plan, limits, front.diagnostics, limitSeverity);
  if (front.diagnostics.hasErrors) throw fail();
  return { warnings: front.diagnostics.all.filter((d) => d.severity === 'warning'), graph: front.shaped, train, program, fusion: decisions, plan, kernels };
}

export async function compile(source: string, options: CompileOptions = {}): Promise<Model> {
  const gpu = options.gpu ?? (await openGpu());
  try {
    const compiled = compileToKernels(source, options, limitsFor(gpu, options));
    const executor = await Executor.create(gpu, compiled.program, compiled.plan, compiled.kernels, null, (ex) => writeInitialWeights(compiled, ex));
    return new Model({ source, options, gpu, ownsGpu: !options.gpu, steps: 0, tracked: new Map(), trainedSinceLoad: 0 }, compiled, executor);
  } catch (e) {
    if (!options.gpu) gpu.dispose();
    throw e;
  }
}

/** Each parameter's tensor by its state_dict name. */
function paramIds(program: StepProgram): ReadonlyMap<string, TensorId> {
  return new Map(program.params.map((id) => [program.tensors[id]!.name, id]));
}

/** Fresh weights from the recipe's init scheme and seed. */
function writeInitialWeights(compiled: Compiled, executor: Executor): void {
  const { graph, program, train } = compiled;
  const ids = paramIds(program);
  const random = new Mulberry32(train.seed);
  // One buffer for every parameter: writeBuffer copies what it is given.
  const scratch = new Float32Array(Math.max(0, ...graph.nodes.flatMap((n) => n.params.map((p) => numel(p.shape)))));
  for (const node of graph.nodes) {
    if (node.op !== 'conv2d' && node.op !== 'linear' && node.op !== 'batchnorm') continue;
    const weightShape = node.params.find((p) => p.role === 'weight')?.shape ?? null;
    for (const p of node.params) {
      if (p.role === 'num_batches_tracked') continue;
      const values = scratch.subarray(0, numel(p.shape));
      initParam({ name: p.name, shape: p.shape, weightShape, role: p.role, layer: node.op }, train.init, random, values);
      executor.write(ids.get(p.name)!, values);
    }
  }
}

/** What every batch size of one model shares: its source, device and training-step count. */
interface Shared {
  readonly source: string;
  readonly options: CompileOptions;
  readonly gpu: Gpu;
  readonly ownsGpu: boolean;
  /** Training steps run so far: the optimizer's step count (set on resuming). */
  steps: number;
  /**
   * Batch norm's num_batches_tracked: the counts loaded with the weights (none: 0) plus the training
   * steps run since, as PyTorch goes on counting from a loaded state_dict.
   */
  tracked: ReadonlyMap<string, bigint>;
  trainedSinceLoad: number;
}

export interface Metrics {
  /** Sum of the batch losses since the last reset, and the number of batches behind it. */
  readonly lossSum: number;
  /** Correct predictions since the last reset (classification only). */
  readonly correct: number | null;
}

export class Model {
  readonly compiled: Compiled;
  private readonly shared: Shared;
  private readonly executor: Executor;
  private readonly byName: ReadonlyMap<string, TensorId>;
  private readonly siblings = new Map<number, Promise<Model>>();

  constructor(shared: Shared, compiled: Compiled, executor: Executor) {
    this.shared = shared;
    this.compiled = compiled;
    this.executor = executor;
    this.byName = paramIds(compiled.program);
  }

  get steps(): number {
    return this.shared.steps;
  }

  /** Resuming: the optimizer's step (Adam's bias correction, SGD's first-step buffer) follows it. */
  set steps(steps: number) {
    this.shared.steps = steps;
  }

  /** The num_batches_tracked of batch norm buffer `name` (`0.bn1.num_batches_tracked`). */
  batchesTracked(name: string): bigint {
    return (this.shared.tracked.get(name) ?? 0n) + BigInt(this.shared.trainedSinceLoad);
  }

  /** Loaded weights' num_batches_tracked, by buffer name: training counts on from them. */
  setBatchesTracked(counts: ReadonlyMap<string, bigint>): void {
    this.shared.tracked = new Map(counts);
    this.shared.trainedSinceLoad = 0;
  }

  get batch(): number {
    return this.compiled.program.batch;
  }

  /**
   * The same model specialised to another batch size (kernels are compiled for static shapes),
   * sharing its weights, optimizer state and step count: for a data set's last, partial batch.
   */
  withBatch(batch: number): Promise<Model> {
    if (batch === this.batch) return Promise.resolve(this);
    let sibling = this.siblings.get(batch);
    if (!sibling) {
      sibling = (async () => {
        const compiled = compileToKernels(this.shared.source, { ...this.shared.options, batch, training: false }, limitsFor(this.shared.gpu, this.shared.options));
        const executor = await Executor.create(this.shared.gpu, compiled.program, compiled.plan, compiled.kernels, this.executor);
        return new Model(this.shared, compiled, executor);
      })();
      this.siblings.set(batch, sibling);
    }
    return sibling;
  }

  /**
   * Zeroes the loss sum and correct count that training and evaluation accumulate on the GPU, or
   * starts the loss sum at a saved one (a resumed epoch).
   */
  resetMetrics(lossSum = 0): void {
    const p = this.compiled.program;
    this.executor.write(p.lossSum, Float32Array.of(lossSum));
    if (p.correct !== null) this.executor.write(p.correct, new Uint32Array(1));
  }

  async metrics(): Promise<Metrics> {
    const p = this.compiled.program;
    const lossSum = new Float32Array(await this.executor.read(p.lossSum))[0]!;
    const correct = p.correct === null ? null : new Uint32Array(await this.executor.read(p.correct))[0]!;
    return { lossSum, correct };
  }

  get paramNames(): string[] {
    return [...this.byName.keys()];
  }

  private feed(x: Float32Array, target: Int32Array | Float32Array | null): void {
    const p = this.compiled.program;
    this.executor.write(p.input, x);
    if (target) this.executor.write(p.target, target);
  }

  /** Evaluation-mode forward pass on one batch; returns the output (logits). */
  async forward(x: Float32Array): Promise<Float32Array> {
    this.feed(x, null);
    this.executor.run('forward', this.compiled.train.seed, this.shared.steps);
    return new Float32Array(await this.executor.read(this.compiled.program.output));
  }

  /** One training step (forward, loss, backward, update), submitted without reading anything back. */
  trainStep(x: Float32Array, target: Int32Array | Float32Array): void {
    this.feed(x, target);
    this.executor.run('train', this.compiled.train.seed, this.shared.steps);
    this.shared.steps++;
    this.shared.trainedSinceLoad++;
  }

  /**
   * One real training step (the weights are updated) with each kernel timed on the GPU: the
   * kernel names and milliseconds, in dispatch order. Needs the timestamp-query feature.
   */
  async profileTrainStep(x: Float32Array, target: Int32Array | Float32Array): Promise<{ kernel: string; ms: number }[]> {
    this.feed(x, target);
    const ns = await this.executor.profile('train', this.compiled.train.seed, this.shared.steps);
    this.shared.steps++;
    this.shared.trainedSinceLoad++;
    return this.compiled.kernels.train.map((call, i) => ({ kernel: call.kernel.name, ms: ns[i]! / 1e6 }));
  }

  /** Evaluation-mode loss of one batch, added to the GPU's running totals; nothing is read back. */
  evaluateStep(x: Float32Array, target: Int32Array | Float32Array): void {
    this.feed(x, target);
    this.executor.run('evaluate', this.compiled.train.seed, this.shared.steps);
  }

  /** Evaluation-mode loss on one batch. */
  async evaluate(x: Float32Array, target: Int32Array | Float32Array): Promise<number> {
    this.evaluateStep(x, target);
    return this.lastLoss();
  }

  /** The loss of the last step or evaluation (a readback: call it when you need the number). */
  async lastLoss(): Promise<number> {
    return new Float32Array(await this.executor.read(this.compiled.program.loss))[0]!;
  }

  /** The losses of training steps `from` to `to - 1` (0-based), or null when they are too far back to be kept. */
  stepLosses(from: number, to: number): Promise<Float32Array | null> {
    return this.executor.stepLosses(from, to);
  }

  async getParam(name: string): Promise<Float32Array> {
    return new Float32Array(await this.executor.read(this.param(name)));
  }

  setParam(name: string, data: Float32Array): void {
    this.executor.write(this.param(name), data);
  }

  /**
   * The optimizer's per-parameter state, named as torch.optim names it (`0.weight.momentum_buffer`;
   * Adam(W)'s `exp_avg`, `exp_avg_sq`), with the parameter's shape; none for plain SGD.
   */
  optimizerState(): { name: string; shape: readonly number[] }[] {
    return this.stateSlots().map(({ name, shape }) => ({ name, shape }));
  }

  async getOptimizerState(): Promise<{ name: string; shape: readonly number[]; data: Float32Array }[]> {
    const out = [];
    for (const { name, shape, param, arena } of this.stateSlots()) out.push({ name, shape, data: new Float32Array(await this.executor.readMirror(param, arena)) });
    return out;
  }

  /** Replaces the optimizer state; `state` holds every name optimizerState() lists. */
  setOptimizerState(state: ReadonlyMap<string, Float32Array>): void {
    for (const s of this.stateSlots()) {
      const data = state.get(s.name);
      if (!data) throw new Error(`no optimizer state ${s.name} given`);
      this.executor.writeMirror(s.param, s.arena, data);
    }
  }

  /** State arenas mirror the `param` layout; the plan sizes only those the optimizer uses. */
  private stateSlots(): { name: string; shape: readonly number[]; param: TensorId; arena: 'state1' | 'state2' }[] {
    const { program, plan, train } = this.compiled;
    const slots = train.optimizer.kind === 'sgd' ? ['momentum_buffer'] : ['exp_avg', 'exp_avg_sq'];
    const learnable = program.params.map((id) => program.tensors[id]!).filter((t) => t.arena === 'param');
    return slots.flatMap((slot, i) => {
      const arena = i === 0 ? 'state1' : 'state2';
      return plan.arenas[arena] === 0 ? [] : learnable.map((t) => ({ name: `${t.name}.${slot}`, shape: t.shape, param: t.id, arena }));
    });
  }

  private param(name: string): TensorId {
    const id = this.byName.get(name);
    if (id === undefined) throw new Error(`no parameter named ${name} (parameters: ${this.paramNames.join(', ')})`);
    return id;
  }

  /** Frees GPU memory (siblings' too); the device as well when the model opened it, so the process can exit. */
  async dispose(): Promise<void> {
    for (const s of this.siblings.values()) (await s).executor.dispose();
    this.executor.dispose();
    if (this.shared.ownsGpu) this.shared.gpu.dispose();
  }
}

