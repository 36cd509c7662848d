// The TypeScript API: compile(source, options) -> a Model on the GPU with forward, trainStep,
// evaluateStep, parameter get/set and dispose. The CLI commands are thin layers over this. The
// runtime runs what the compiler (compiler/index.ts) produced: it only opens the device, writes the
// initial weights and dispatches the kernels.
import {
  analyzeSource,
  type BackendOptions,
  type Compiled,
  compileModel,
  type FrontendOptions,
  type FrontendResult,
} from '../compiler/index.ts';
import { PASSES, type PassName, type StepProgram, type TensorId } from '../compiler/autodiff/step-ir.ts';
import { numel } from '../compiler/ir/graph.ts';
import type { KernelChoices } from '../compiler/codegen/tuning/choice.ts';
import type { DeviceLimits } from '../compiler/codegen/limits.ts';
import type { KernelOrigin } from '../compiler/ir/kernel-facts.ts';
import { openGpu, type Gpu } from './gpu/device.ts';
import { Executor } from './gpu/executor.ts';
import { initParam } from './train/init.ts';
import { Mulberry32 } from './random.ts';

/** How kernels are timed: the GPU's timestamp queries, or the wall clock around repeated dispatches. */
export type ProfileMethod = 'timestamps' | 'wall-clock';

/** Wall-clock profiling: each kernel's dispatches per submit, so that the submit's own cost is spread. */
export const WALL_CLOCK_REPEATS = 5;

/** One kernel of a profiled step: its name, the op and layer it came from, its time. */
export interface KernelTime {
  readonly kernel: string;
  readonly origin: KernelOrigin;
  readonly ms: number;
}

/**
 * Tuned choices for a device, made once the device is open: from the tuning cache, or after a
 * search (runtime/tune/choices.ts), which compiles the model with the rules' kernels to find them.
 */
export type ChoicesFor = (gpu: Gpu, withRules: () => Compiled, limits: DeviceLimits) => Promise<KernelChoices>;

/** How an analysed model becomes a Model: the back end's options, with the device in place of its limits. */
export interface ModelOptions extends Omit<BackendOptions, 'limits' | 'limitSeverity' | 'choices'> {
  /** An open device to use (and not dispose); default: a new one, disposed with the model. */
  readonly gpu?: Gpu;
  /** Let GEMM kernels share loads through subgroups where the device has them (default true). */
  readonly subgroups?: boolean;
  /** Tuned GEMM kernels (BackendOptions.choices), or how to get them for the device; default the rules'. */
  readonly choices?: KernelChoices | ChoicesFor;
}

export interface CompileOptions extends FrontendOptions, ModelOptions {
  /** Shown in diagnostics and kernel headers. */
  readonly path?: string;
}

/** The back end's options for this device: its limits, which the kernels must keep to, and the tuned choices. */
function backendOptions(gpu: Gpu, options: ModelOptions, choices?: KernelChoices): BackendOptions {
  const { choices: _, ...rest } = options;
  return {
    ...rest,
    limits: options.subgroups === false ? { ...gpu.limits, subgroupMinSize: 0 } : gpu.limits,
    ...(choices ? { choices } : {}),
  };
}

/**
 * A Model on the GPU from source text (analysed here, at the train section's batch unless
 * `batch` says otherwise) or from a front-end result a command has already analysed.
 * Throws CompileError (compiler/index.ts) with the rendered diagnostics.
 */
export async function compile(source: string, options?: CompileOptions): Promise<Model>;
export async function compile(front: FrontendResult, options?: ModelOptions): Promise<Model>;
export async function compile(input: string | FrontendResult, options: CompileOptions = {}): Promise<Model> {
  const front = typeof input === 'string' ? analyzeSource(input, options) : input;
  const gpu = options.gpu ?? (await openGpu());
  try {
    const rules = backendOptions(gpu, options);
    const choices =
      typeof options.choices === 'function'
        ? await options.choices(gpu, () => compileModel(front, rules), rules.limits)
        : options.choices;
    const start = performance.now();
    const compiled = compileModel(front, backendOptions(gpu, options, choices));
    const executor = await Executor.create(gpu, compiled.program, compiled.plan, compiled.kernels, null, (ex) =>
      writeInitialWeights(compiled, ex),
    );
    const compileSeconds = (performance.now() - start) / 1000;
    return new Model(
      {
        front,
        options,
        ...(choices ? { choices } : {}),
        gpu,
        ownsGpu: !options.gpu,
        steps: 0,
        tracked: new Map(),
        trainedSinceLoad: 0,
        compileSeconds,
      },
      compiled,
      executor,
    );
  } catch (e) {
    if (!options.gpu) gpu.dispose();
    throw e;
  }
}

/** Each parameter's tensor by its state_dict name. */
function paramIds(program: StepProgram): ReadonlyMap<string, TensorId> {
  return new Map(program.params.map((id) => [program.tensors[id]!.name, id]));
}

/** Fresh weights from the recipe's init scheme and seed; parameters the file fixes get their constants. */
function writeInitialWeights(compiled: Compiled, executor: Executor): void {
  const { graph, program, train } = compiled;
  const ids = paramIds(program);
  const random = new Mulberry32(train.seed);
  // One buffer for every parameter: writeBuffer copies what it is given.
  const scratch = new Float32Array(Math.max(0, ...graph.nodes.flatMap((n) => n.params.map((p) => numel(p.shape)))));
  for (const node of graph.nodes) {
    const weightShape = node.params.find((p) => p.role === 'weight')?.shape ?? null;
    for (const p of node.params) {
      if (p.role === 'num_batches_tracked') continue;
      const values = scratch.subarray(0, numel(p.shape));
      const fixed = graph.fixed?.get(p.name);
      if (fixed !== undefined) {
        executor.write(ids.get(p.name)!, fixed.tensor.data);
        continue;
      }
      initParam(
        { name: p.name, shape: p.shape, weightShape, role: p.role, layer: node.op },
        train.init,
        random,
        values,
      );
      executor.write(ids.get(p.name)!, values);
    }
  }
}

/** What every batch size of one model shares: its analysed source, device and training-step count. */
interface Shared {
  readonly front: FrontendResult;
  readonly options: ModelOptions;
  /** The tuned choices every batch size compiles with. */
  readonly choices?: KernelChoices;
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
  /** Seconds spent compiling kernels and pipelines so far, every batch size's (`Model.compileSeconds`). */
  compileSeconds: number;
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
  /** What the program's `padding` holds now (its buffer starts zeroed). */
  private padding = 0;

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
   * Seconds this model (every batch size of it) has spent compiling: the back end, pipeline
   * creation and the bind groups. Drivers that compile at the first dispatch (lavapipe) do most of
   * it later, in the first step: the trainer times that step and reports both apart from training.
   */
  get compileSeconds(): number {
    return this.shared.compileSeconds;
  }

  /**
   * The same model specialised to another batch size (kernels are compiled for static shapes),
   * sharing its weights, optimizer state and step count: for training on a data set's last, partial
   * batch (batch norm's statistics and the gradient's mean are the batch's, so training cannot pad
   * as `forward` and `evaluateStep` do). `pass`: the one pass the caller will run, so only its
   * pipelines are compiled now; absent, all of them.
   */
  async withBatch(batch: number, pass?: PassName): Promise<Model> {
    if (batch === this.batch) return this;
    const passes = pass === undefined ? PASSES : [pass];
    let sibling = this.siblings.get(batch);
    if (!sibling) {
      sibling = this.timed(async () => {
        // From the analysed graph: shape inference at this batch and the back end, no parse. A
        // sibling only ever evaluates or trains a last partial batch the trainer has checked.
        const compiled = compileModel(this.shared.front, {
          ...backendOptions(this.shared.gpu, this.shared.options, this.shared.choices),
          batch,
          training: false,
        });
        const executor = await Executor.create(
          this.shared.gpu,
          compiled.program,
          compiled.plan,
          compiled.kernels,
          this.executor,
          undefined,
          passes,
        );
        return new Model(this.shared, compiled, executor);
      });
      this.siblings.set(batch, sibling);
    }
    const model = await sibling;
    if (!passes.every((p) => model.executor.prepared(p))) await this.timed(() => model.executor.prepare(...passes));
    return model;
  }

  /** Runs `work`, counting its time as compile time. */
  private async timed<T>(work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.shared.compileSeconds += (performance.now() - start) / 1000;
    }
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

  /**
   * Writes a batch of `rows` samples, 1 <= rows <= the batch: fewer are padded with zeros to the
   * compiled batch, and the program's `padding` tells the loss to leave the padded rows out. Padding
   * a short batch costs its missing rows' arithmetic; compiling the model again for its size costs
   * every kernel's driver compile (seconds on lavapipe: bench/NOTES.md, "Cold start"). A training
   * step takes `whole` batches only (`withBatch` compiles for a short one). Returns rows.
   */
  private feed(x: Float32Array, target: Int32Array | Float32Array | null, whole = false): number {
    const p = this.compiled.program;
    const perSample = this.perSample(p.input);
    const rows = x.length / perSample;
    if (!Number.isInteger(rows) || rows < 1 || rows > this.batch)
      throw new Error(`${x.length} input values: not 1 to ${this.batch} samples of ${perSample}`);
    if (whole && rows !== this.batch)
      throw new Error(`a training step takes a whole batch of ${this.batch} samples (withBatch for fewer)`);
    const padding = this.batch - rows;
    this.executor.write(p.input, padded(x, perSample * this.batch));
    if (target) this.executor.write(p.target, padded(target, (target.length / rows) * this.batch));
    if (padding !== this.padding) {
      this.executor.write(p.padding, Uint32Array.of(padding));
      this.padding = padding;
    }
    return rows;
  }

  /** Values of `tensor` per sample of the batch. */
  private perSample(tensor: TensorId): number {
    return numel(this.compiled.program.tensors[tensor]!.shape) / this.batch;
  }

  /**
   * Evaluation-mode forward pass over any number of samples, a batch at a time (the last one
   * padded); returns their outputs (logits), sample after sample.
   */
  async forward(x: Float32Array): Promise<Float32Array> {
    const p = this.compiled.program;
    const [inPer, outPer] = [this.perSample(p.input), this.perSample(p.output)];
    const count = x.length / inPer;
    if (!Number.isInteger(count) || count < 1) throw new Error(`${x.length} input values: not samples of ${inPer}`);
    const out = new Float32Array(count * outPer);
    for (let first = 0; first < count; first += this.batch) {
      const rows = this.feed(x.subarray(first * inPer, Math.min(count, first + this.batch) * inPer), null);
      this.executor.run('forward', this.compiled.train.seed, this.shared.steps);
      const y = new Float32Array(await this.executor.read(p.output));
      out.set(y.subarray(0, rows * outPer), first * outPer);
    }
    return out;
  }

  /** One training step (forward, loss, backward, update), submitted without reading anything back. */
  trainStep(x: Float32Array, target: Int32Array | Float32Array): void {
    this.feed(x, target, true);
    this.executor.run('train', this.compiled.train.seed, this.shared.steps);
    this.shared.steps++;
    this.shared.trainedSinceLoad++;
  }

  /** How profileTrainStep times kernels on this device by default: timestamps where it has them. */
  get profileMethod(): ProfileMethod {
    return this.shared.gpu.timestamps ? 'timestamps' : 'wall-clock';
  }

  /**
   * One training step with each kernel timed on the GPU: the kernels, their origins and
   * milliseconds, in dispatch order. With timestamp queries ('timestamps', the default where the
   * device has them) it is one real step, the same as trainStep's; on the wall clock ('wall-clock')
   * each kernel runs `repeats` times in a row, so the weights afterwards are not one step's.
   */
  async profileTrainStep(
    x: Float32Array,
    target: Int32Array | Float32Array,
    method: ProfileMethod = this.profileMethod,
    repeats = WALL_CLOCK_REPEATS,
  ): Promise<KernelTime[]> {
    this.feed(x, target, true);
    const { seed } = this.compiled.train;
    const ms =
      method === 'timestamps'
        ? (await this.executor.profile('train', seed, this.shared.steps)).map((ns) => ns / 1e6)
        : await this.executor.timeDispatches('train', seed, this.shared.steps, repeats);
    this.shared.steps++;
    this.shared.trainedSinceLoad++;
    return this.compiled.kernels.train.map((call, i) => ({
      kernel: call.kernel.name,
      origin: call.origin,
      ms: ms[i]!,
    }));
  }

  /**
   * Evaluation-mode loss of up to a batch of samples (the mean over them), added to the GPU's
   * running totals; nothing is read back.
   */
  evaluateStep(x: Float32Array, target: Int32Array | Float32Array): void {
    this.feed(x, target);
    this.executor.run('evaluate', this.compiled.train.seed, this.shared.steps);
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
    for (const { name, shape, param, arena } of this.stateSlots())
      out.push({ name, shape, data: new Float32Array(await this.executor.readMirror(param, arena)) });
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

  /** Every parameter's optimizer states, state by state (all momentum buffers, or all exp_avg then all exp_avg_sq). */
  private stateSlots(): { name: string; shape: readonly number[]; param: TensorId; arena: 'state1' | 'state2' }[] {
    const { program } = this.compiled;
    const perParam = [...program.optimizerStates];
    const count = Math.max(0, ...perParam.map(([, states]) => states.length));
    return Array.from({ length: count }, (_, i) =>
      perParam.flatMap(([param, states]) => {
        const s = states[i];
        const t = program.tensors[param]!;
        return s ? [{ name: `${t.name}.${s.name}`, shape: t.shape, param, arena: s.arena }] : [];
      }),
    ).flat();
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

/** `data` followed by zeros up to `length` elements (itself when it has them). */
function padded<T extends Float32Array | Int32Array>(data: T, length: number): T {
  if (data.length === length) return data;
  const out = new (data.constructor as new (n: number) => T)(length);
  out.set(data);
  return out;
}
