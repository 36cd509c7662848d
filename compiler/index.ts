// The compiler as two ordered lists of passes: the front end (`analyze`: source -> shaped graph and
// train recipe) and the back end (`compileModel`: shaped graph -> step program, fusion, memory plan
// and WGSL kernels). Each pass is a pure function of the previous pass's output; each list stops at
// the first pass that reports an error, so errors never cascade. A command analyses its source once
// and hands the result to the back end, as often as it needs kernels (one batch size each).
import { buildStepProgram } from './autodiff/build.ts';
import type { StepProgram } from './autodiff/step-ir.ts';
import { type DeviceLimits, type LoweredProgram, lowerProgram } from './codegen/index.ts';
import type { KernelChoices } from './codegen/tuning/choice.ts';
import { DiagnosticBag, type Diagnostic } from './diagnostics/diagnostic.ts';
import { renderDiagnostics } from './diagnostics/render.ts';
import { SourceFile } from './diagnostics/source.ts';
import { builtinFunctions } from './elaborate/builtins.ts';
import { evaluateConstants, tensorFunctions } from './elaborate/constants.ts';
import { elaborate } from './elaborate/expand.ts';
import { loadImports, type ReadFile } from './imports.ts';
import { layers } from './elaborate/layers.ts';
import type { ConstTensor } from './ir/constant.ts';
import { readTrainConfig } from './elaborate/train-config.ts';
import type { InitKind, LossKind, OptimizerConfig, TrainConfig } from './ir/recipe.ts';
import { type FusionDecision, fuse } from './fusion/fuse.ts';
import type { ElaboratedGraph, ShapedGraph } from './ir/graph.ts';
import { type MemoryPlan, planMemory } from './plan/allocate.ts';
import { checkClassifierOutput, checkTrainingBatch, inferShapes } from './shapes/infer.ts';
import type { Program } from './syntax/ast.ts';
import { parse, parseSetting } from './syntax/index.ts';

export interface FrontendOptions {
  /** Which model of the file; default: the last one. */
  readonly model?: string;
  /** Batch size of the shaped graph (default 1, as d2l's layer_summary, or see `trainBatch`). */
  readonly batch?: number;
  /** Without `batch`, use the train section's batch size (kernels are specialised to it). */
  readonly trainBatch?: boolean;
  /** Replaces the model's `input [C, H, W]`. */
  readonly inputShape?: readonly number[];
  /**
   * Replaces H and W of an image model's `input [C, H, W]`, keeping its C (`--resize`); a model
   * whose input is not [C, H, W] keeps it, and the data check names the mismatch.
   */
  readonly inputSize?: readonly [number, number];
  /**
   * The command trains or evaluates with the train section's loss (train, eval, predict), so
   * cross-entropy needs classifier logits (E0213); `check` and `compile` also read shape-study models.
   */
  readonly forTraining?: boolean;
  /**
   * Reads the files `import` names (paths relative to the importing file, resolved by the compiler);
   * without it a file that imports is an error. The CLI reads them from disk.
   */
  readonly readFile?: ReadFile;
  /**
   * `NAME=VALUE` texts (`cnnc --set`): the model's parameters set from outside the file, each
   * value a .cnn expression; errors point into the flag (shown as the file `--set`).
   */
  readonly settings?: readonly string[];
}

export interface FrontendResult {
  readonly file: SourceFile;
  readonly diagnostics: DiagnosticBag;
  readonly program: Program | null;
  readonly graph: ElaboratedGraph | null;
  readonly shaped: ShapedGraph | null;
  readonly train: TrainConfig | null;
  /** The file's constant tensors by name (absent when analysis stopped before the end). */
  readonly constants?: ReadonlyMap<string, ConstTensor>;
}

export function analyze(path: string, text: string, options: FrontendOptions = {}): FrontendResult {
  const file = new SourceFile(path, text);
  const diagnostics = new DiagnosticBag();
  const none = { file, diagnostics, program: null, graph: null, shaped: null, train: null };

  // 1. syntax: tokens -> CST -> AST; recovers, so every syntax error is reported in one run.
  const parsed = parse(file);
  for (const d of parsed.diagnostics) diagnostics.add(d);
  if (diagnostics.hasErrors) return none;
  const program = parsed.program;

  // 2. the file's constant tensors, then the train section (independent of the model: read
  //    first so its errors show together), which may name constants as its data.
  const constants = evaluateConstants(program, diagnostics, reservedNames(program));
  if (constants === null) return { ...none, program };
  const train = readTrainConfig(program, diagnostics, constants);

  // 3. elaborate: blocks, loops and conditionals expanded into a lazy graph, parameters named;
  //    the model's parameters set by `--set` replace their defaults.
  const settings = (options.settings ?? []).map((text) => parseSetting(new SourceFile('--set', text)));
  for (const d of settings.flatMap((s) => s.diagnostics)) diagnostics.add(d);
  const imports = loadImports(program, options.readFile, diagnostics);
  if (diagnostics.hasErrors) return { ...none, program };
  const graph = elaborate(
    program,
    diagnostics,
    {
      ...(options.model === undefined ? {} : { model: options.model }),
      imports,
      settings: settings.map((s) => s.param!),
    },
    constants,
  );
  if (!graph || diagnostics.hasErrors) return { ...none, program };

  // 4. shapes: every lazy dimension resolved; bad shapes reported at the layer that made them
  //    (what training alone refuses, batch norm on one value per channel, is checked by
  //    compileModel at the kernels' batch).
  const batch = options.batch ?? (options.trainBatch ? train.batch : 1);
  const inputShape = options.inputShape ?? resized(graph, options.inputSize);
  const shaped = inferShapes(graph, { batch, ...(inputShape ? { inputShape } : {}) }, diagnostics);
  if (!shaped) return { ...none, program, graph };

  // 5. the recipe's loss against the model: cross-entropy needs [N, classes] logits.
  if (options.forTraining && train.loss === 'cross_entropy') checkClassifierOutput(shaped, diagnostics);
  if (diagnostics.hasErrors) return { ...none, program, graph };
  return { file, diagnostics, program, graph, shaped, train, constants };
}

/** Names a constant tensor may not take: layers, functions, and the file's models and blocks. */
function reservedNames(program: Program): ReadonlySet<string> {
  return new Set([...layers.keys(), ...builtinFunctions, ...tensorFunctions, ...program.defs.map((d) => d.name.name)]);
}

/** The declared `input [C, H, W]` with H and W replaced (none when not asked, or not an image input). */
function resized(graph: ElaboratedGraph, size: readonly [number, number] | undefined): readonly number[] | undefined {
  const declared = (graph.nodes.find((n) => n.op === 'input')?.attrs as { shape?: readonly number[] } | undefined)
    ?.shape;
  return size && declared?.length === 3 ? [declared[0]!, ...size] : undefined;
}

export interface BackendOptions {
  /** The batch size the kernels are specialised to (default: the train section's). */
  readonly batch?: number;
  /** Override the train section's loss, optimizer (field by field), init scheme and seed. */
  readonly loss?: LossKind;
  readonly optimizer?: Partial<OptimizerConfig>;
  readonly init?: InitKind;
  readonly seed?: number;
  /** Fuse activations and their gradients into neighbouring kernels (default true; `--no-fuse`). */
  readonly fuse?: boolean;
  /** The kernels will train at this batch: refuse what training alone cannot do (E0307). */
  readonly training?: boolean;
  /** The device's limits, or WebGPU's defaults (`defaultLimits`) when compiling without one. */
  readonly limits: DeviceLimits;
  /**
   * Limit violations are errors when the kernels are about to run, warnings when they are only
   * shown (`cnnc compile`, `cnnc kernels`). Default 'error'.
   */
  readonly limitSeverity?: 'error' | 'warning';
  /**
   * Tuned GEMM kernels (`cnnc tune`), by kernel key (codegen/tuning/site.ts): lowering builds them
   * where it has a choice and today's rules elsewhere; absent, every kernel is the rules'.
   */
  readonly choices?: KernelChoices;
}

export interface SourceOptions extends FrontendOptions, BackendOptions {
  /** Shown in diagnostics and kernel headers (default `model.cnn`). */
  readonly path?: string;
}

/** A model that failed to compile: `message` holds the rendered diagnostics. */
export class CompileError extends Error {}

export interface Compiled {
  /** Warnings: the front end's, and device limits when compiled only to be shown. */
  readonly warnings: readonly Diagnostic[];
  readonly graph: ShapedGraph;
  /** The train section with the options' overrides. */
  readonly train: TrainConfig;
  /** The step program after fusion (when on). */
  readonly program: StepProgram;
  /** Every fusion candidate and what became of it (null with fusion off). */
  readonly fusion: readonly FusionDecision[] | null;
  readonly plan: MemoryPlan;
  readonly kernels: LoweredProgram;
}

/** Source text analysed for kernels: at the options' batch size, or the train section's. */
export function analyzeSource(source: string, options: FrontendOptions & { readonly path?: string }): FrontendResult {
  return analyze(options.path ?? 'model.cnn', source, { trainBatch: true, ...options });
}

/**
 * Everything from a model to WGSL, without a device; throws CompileError with the rendered
 * diagnostics. Given source text it analyses it first (for the TypeScript API and tests); given a
 * front-end result (a command's one analysis) it runs the back end only, shape inference again
 * from the elaborated graph when the batch differs: a partial batch's kernels never re-parse.
 */
export function compileModel(source: string, options: SourceOptions): Compiled;
export function compileModel(front: FrontendResult, options: BackendOptions): Compiled;
export function compileModel(input: string | FrontendResult, options: SourceOptions): Compiled {
  const front = typeof input === 'string' ? analyzeSource(input, options) : input;
  // The caller's result stays as it was: each compilation (one per batch size) reports into its own bag.
  const diagnostics = new DiagnosticBag();
  for (const d of front.diagnostics.all) diagnostics.add(d);
  const fail = () => new CompileError(renderDiagnostics(diagnostics.all));
  if (!front.graph || !front.shaped || !front.train) throw fail();
  const recipe = front.train;
  const train: TrainConfig = {
    ...recipe,
    loss: options.loss ?? recipe.loss,
    init: options.init ?? recipe.init,
    seed: options.seed ?? recipe.seed,
    optimizer: { ...recipe.optimizer, ...options.optimizer },
  };

  // 1. shapes at the kernels' batch size, from the elaborated graph, with the analysed input shape.
  const batch = options.batch ?? recipe.batch;
  const inputShape = front.shaped.nodes.find((n) => n.op === 'input')!.shape.slice(1);
  const graph =
    front.shaped.batch === batch ? front.shaped : inferShapes(front.graph, { batch, inputShape }, diagnostics);
  if (!graph || (options.training && !checkTrainingBatch(graph, diagnostics))) throw fail();

  // 2. autodiff: forward (training and evaluation mode), loss, gradients and the optimizer update.
  const unfused = buildStepProgram(graph, { loss: train.loss, optimizer: train.optimizer }, diagnostics);
  if (!unfused) throw fail();

  // 3. fusion: activations and their gradients folded into neighbouring ops' epilogues.
  const { program, decisions } = options.fuse === false ? { program: unfused, decisions: null } : fuse(unfused);

  // 4. plan: every tensor's arena, buffer and offset, buffers reused once their last reader has
  //    run, none larger than the device allows.
  const plan = planMemory(program, Math.floor(options.limits.maxBufferSize / 4));

  // 5. codegen: WGSL kernel calls for each pass, checked against the device's limits.
  const kernels = lowerProgram(
    program,
    plan,
    options.limits,
    diagnostics,
    options.limitSeverity ?? 'error',
    options.choices,
  );
  if (diagnostics.hasErrors) throw fail();
  return {
    warnings: diagnostics.all.filter((d) => d.severity === 'warning'),
    graph,
    train,
    program,
    fusion: decisions,
    plan,
    kernels,
  };
}
