// The TypeScript API: compile(source, options) -> a Model on the GPU with forward, trainStep,
// evaluate, parameter get/set and dispose. The CLI commands are thin layers over this.
import { analyze, type FrontendOptions } from '../compiler/index.ts';
import { buildStepProgram } from '../compiler/autodiff/build.ts';
import type { StepProgram, TensorId } from '../compiler/autodiff/step-ir.ts';
import { lowerProgram, type DeviceLimits, type LoweredProgram } from '../compiler/codegen/index.ts';
import { renderDiagnostics } from '../compiler/diagnostics/render.ts';
import { type InitKind, type LossKind, type OptimizerConfig, type TrainConfig } from '../compiler/elaborate/train-config.ts';
import type { ShapedGraph } from '../compiler/ir/graph.ts';
import { planMemory, type MemoryPlan } from '../compiler/plan/allocate.ts';
import { openGpu, type Gpu } from './gpu/device.ts';
import { Executor } from './gpu/executor.ts';
import { initParam, mulberry32 } from './train/init.ts';

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
}

/** A model that failed to compile: `message` holds the rendered diagnostics. */
export class CompileError extends Error {}

export interface Compiled {
  readonly graph: ShapedGraph;
  readonly train: TrainConfig;
  readonly program: StepProgram;
  readonly plan: MemoryPlan;
  readonly kernels: LoweredProgram;
}

/** Everything up to WGSL, without a device: what `cnnc compile` and `cnnc kernels` show. */
export function compileToKernels(source: string, options: CompileOptions, limits: DeviceLimits): Compiled {
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
  const program = buildStepProgram(front.shaped, { loss: train.loss, optimizer: train.optimizer }, front.diagnostics);
  if (!program) throw fail();
  const plan = planMemory(program);
  const kernels = lowerProgram(program, plan, limits, front.diagnostics);
  if (front.diagnostics.hasErrors) throw fail();
  return { graph: front.shaped, train, program, plan, kernels };
}

export async function compile(source: string, options: CompileOptions = {}): Promise<Model> {
  const gpu = options.gpu ?? (await openGpu());
  try {
    const compiled = compileToKernels(source, options, gpu.limits);
    const executor = await Executor.create(gpu, compiled.program, compiled.plan, compiled.kernels);
    const model = new Model(compiled, executor, options.gpu ? null : gpu);
    model.initialize();
    return model;
  } catch (e) {
    if (!options.gpu) gpu.dispose();
    throw e;
  }
}

export class Model {
  readonly compiled: Compiled;
  private readonly executor: Executor;
  private readonly ownGpu: Gpu | null;
  private readonly byName: ReadonlyMap<string, TensorId>;
  /** Training steps run so far: the optimizer's step count and batch norm's num_batches_tracked. */
  steps = 0;

  constructor(compiled: Compiled, executor: Executor, ownGpu: Gpu | null) {
    this.compiled = compiled;
    this.executor = executor;
    this.ownGpu = ownGpu;
    this.byName = new Map(compiled.program.params.map((id) => [compiled.program.tensors[id]!.name, id]));
  }

  get paramNames(): string[] {
    return [...this.byName.keys()];
  }

  /** Fresh weights from the recipe's init scheme and seed. */
  initialize(): void {
    const random = mulberry32(this.compiled.train.seed);
    for (const node of this.compiled.graph.nodes) {
      if (node.op !== 'conv2d' && node.op !== 'linear' && node.op !== 'batchnorm') continue;
      const weightShape = node.params.find((p) => p.role === 'weight')?.shape ?? null;
      for (const p of node.params) {
        if (p.role === 'num_batches_tracked') continue;
        this.executor.write(this.byName.get(p.name)!, initParam({ name: p.name, shape: p.shape, weightShape, role: p.role, layer: node.op }, this.compiled.train.init, random));
      }
    }
    this.steps = 0;
  }

  private feed(x: Float32Array, target: Int32Array | Float32Array | null): void {
    const p = this.compiled.program;
    this.executor.write(p.input, x);
    if (target) this.executor.write(p.target, target);
  }

  /** Evaluation-mode forward pass on one batch; returns the output (logits). */
  async forward(x: Float32Array): Promise<Float32Array> {
    this.feed(x, null);
    this.executor.run('forward', this.compiled.train.seed, this.steps);
    return new Float32Array(await this.executor.read(this.compiled.program.output));
  }

  /** One training step (forward, loss, backward, update), submitted without reading anything back. */
  trainStep(x: Float32Array, target: Int32Array | Float32Array): void {
    this.feed(x, target);
    this.executor.run('train', this.compiled.train.seed, this.steps);
    this.steps++;
  }

  /** Evaluation-mode loss on one batch. */
  async evaluate(x: Float32Array, target: Int32Array | Float32Array): Promise<number> {
    this.feed(x, target);
    this.executor.run('evaluate', this.compiled.train.seed, this.steps);
    return this.lastLoss();
  }

  /** The loss of the last step or evaluation (a readback: call it when you need the number). */
  async lastLoss(): Promise<number> {
    return new Float32Array(await this.executor.read(this.compiled.program.loss))[0]!;
  }

  async getParam(name: string): Promise<Float32Array> {
    return new Float32Array(await this.executor.read(this.param(name)));
  }

  setParam(name: string, data: Float32Array): void {
    this.executor.write(this.param(name), data);
  }

  private param(name: string): TensorId {
    const id = this.byName.get(name);
    if (id === undefined) throw new Error(`no parameter named ${name} (parameters: ${this.paramNames.join(', ')})`);
    return id;
  }

  /** Frees GPU memory; the device too when the model opened it, so the process can exit. */
  dispose(): void {
    this.executor.dispose();
    this.ownGpu?.dispose();
  }
}

