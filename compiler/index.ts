// The compiler front end as an ordered list of passes. Each pass is a pure function of the previous
// pass's output; the pipeline stops at the first pass that reports an error, so errors never cascade.
import { DiagnosticBag } from './diagnostics/diagnostic.ts';
import { SourceFile } from './diagnostics/source.ts';
import type { Program } from './syntax/ast.ts';
import { parse } from './syntax/index.ts';
import { elaborate } from './elaborate/expand.ts';
import { readTrainConfig, type TrainConfig } from './elaborate/train-config.ts';
import { checkTrainingBatch, inferShapes } from './shapes/infer.ts';
import type { ElaboratedGraph, ShapedGraph } from './ir/graph.ts';

export interface FrontendOptions {
  /** Which model of the file; default: the last one. */
  readonly model?: string;
  /** Batch size of the shaped graph (default 1, as d2l's layer_summary, or see `trainBatch`). */
  readonly batch?: number;
  /** Without `batch`, use the train section's batch size (kernels are specialised to it). */
  readonly trainBatch?: boolean;
  /** Replaces the model's `input [C, H, W]`. */
  readonly inputShape?: readonly number[];
  /** The model will be trained at this batch: refuse what training alone cannot do (E0307). */
  readonly training?: boolean;
}

export interface FrontendResult {
  readonly file: SourceFile;
  readonly diagnostics: DiagnosticBag;
  readonly program: Program | null;
  readonly graph: ElaboratedGraph | null;
  readonly shaped: ShapedGraph | null;
  readonly train: TrainConfig | null;
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

  // 2. the train section is independent of the model: read it first so its errors show together.
  const train = readTrainConfig(program, diagnostics);

  // 3. elaborate: blocks, loops and conditionals expanded into a lazy graph, parameters named.
  const graph = elaborate(program, diagnostics, options.model === undefined ? {} : { model: options.model });
  if (!graph || diagnostics.hasErrors) return { ...none, program };

  // 4. shapes: every lazy dimension resolved; bad shapes reported at the layer that made them; for
  //    training, batch norm's values per channel.
  const batch = options.batch ?? (options.trainBatch ? train.batch : 1);
  const inferred = inferShapes(graph, { batch, ...(options.inputShape ? { inputShape: options.inputShape } : {}) }, diagnostics);
  const shaped = inferred && (!options.training || checkTrainingBatch(inferred, diagnostics)) ? inferred : null;
  return { file, diagnostics, program, graph, shaped, train: shaped ? train : null };
}
