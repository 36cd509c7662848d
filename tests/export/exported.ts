// What the export tests share: a model of dsl-examples exported with `torchModule`, weights drawn
// with cnnc's own init (runtime/train/init.ts, the recipe's scheme and seed) and batch norm
// statistics drawn at random (so evaluation mode reads them), saved as cnnc saves a checkpoint; and
// the exported modules run by PyTorch (/usr/bin/python3, Debian's 1.13) in one child process.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze, type FrontendResult } from '../../compiler/index.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { torchModule } from '../../compiler/export/torch.ts';
import { numel, type ShapedGraph } from '../../compiler/ir/graph.ts';
import { Mulberry32 } from '../../runtime/random.ts';
import { forward } from '../../runtime/reference/interpret.ts';
import { tensor, type Tensor } from '../../runtime/reference/tensor.ts';
import { writeCheckpoint, type StoredTensor } from '../../runtime/train/checkpoint.ts';
import { initParam } from '../../runtime/train/init.ts';
import { createRng, normal } from '../helpers/random.ts';

export const root = join(import.meta.dirname, '..', '..');

export interface Exported {
  readonly key: string;
  readonly front: FrontendResult;
  readonly graph: ShapedGraph;
  readonly module: string;
  readonly weights: string;
  readonly input: string;
  readonly params: ReadonlyMap<string, Float32Array>;
  readonly x: Float32Array;
}

/** Reads the files an example imports (paths from the repository's root). */
const readFile = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Every model of every example file, as `FILE` (the default model) or `FILE:MODEL`. */
export function exampleModels(): { file: string; model: string }[] {
  return readdirSync(join(root, 'dsl-examples'))
    .filter((f) => f.endsWith('.cnn'))
    .sort()
    .flatMap((f) => {
      const path = join('dsl-examples', f);
      const r = analyze(path, readFile(path), { readFile });
      return r.program!.defs.filter((d) => d.kind === 'model').map((d) => ({ file: path, model: d.name.name }));
    });
}

/**
 * The model at its own input size when that is at most 32 pixels high, else at the smallest of 32,
 * 64, 96 its layers accept (the float64 reference runs it on the CPU).
 */
export function smallest(file: string, model: string, batch: number): FrontendResult {
  const text = readFileSync(join(root, file), 'utf8');
  const own = analyze(file, text, { model, batch, readFile });
  const input = own.shaped?.nodes.find((n) => n.op === 'input')?.shape;
  if (input?.length !== 4 || input[2]! <= 32) return own;
  for (const s of [32, 64, 96]) {
    const r = analyze(file, text, { model, batch, inputSize: [s, s], readFile });
    if (r.shaped) return r;
  }
  return own;
}

/** Exports `front`'s model into `dir` with weights (seeded) and an input batch. */
export function exportModel(dir: string, key: string, front: FrontendResult, seed = 1): Exported {
  if (!front.shaped) throw new Error(renderDiagnostics(front.diagnostics.all));
  const graph = front.shaped;
  const name = key.replace(/\W/g, '_');
  const exported = torchModule(graph, [], key, front.diagnostics);
  if (!exported) throw new Error(renderDiagnostics(front.diagnostics.all));
  const module = join(dir, `${name}.py`);
  writeFileSync(module, exported.source);

  const random = new Mulberry32(seed);
  const rng = createRng(seed);
  const params = new Map<string, Float32Array>();
  const tensors = new Map<string, StoredTensor>();
  for (const node of graph.nodes) {
    const weightShape = node.params.find((p) => p.role === 'weight')?.shape ?? null;
    for (const p of node.params) {
      if (p.role === 'num_batches_tracked') {
        tensors.set(p.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) });
        continue;
      }
      const values = new Float32Array(numel(p.shape));
      if (node.op === 'batchnorm') {
        // Statistics and affine maps away from the identity, so that eval mode's use of them shows.
        const [lo, hi] = p.role === 'running_var' || p.role === 'weight' ? [0.5, 2] : [-0.5, 0.5];
        for (let i = 0; i < values.length; i++) values[i] = lo + (hi - lo) * rng.next();
      } else {
        initParam(
          { name: p.name, shape: p.shape, weightShape, role: p.role, layer: node.op },
          'default',
          random,
          values,
        );
      }
      params.set(p.name, values);
      tensors.set(p.name, { dtype: 'F32', shape: p.shape, data: values });
    }
  }
  const weights = join(dir, `${name}.safetensors`);
  writeCheckpoint(weights, tensors, { format: 'pt', model: graph.model });
  const shape = graph.nodes.find((n) => n.op === 'input')!.shape;
  const x = Float32Array.from({ length: numel(shape) }, () => normal(rng));
  const input = join(dir, `${name}.x.safetensors`);
  writeCheckpoint(input, new Map([['x', { dtype: 'F32', shape, data: x }]]));
  return { key, front, graph, module, weights, input, params, x };
}

export interface TorchRun {
  readonly keys: string[];
  readonly params: number;
  readonly shape: number[];
  readonly output: Float64Array;
}

/** Runs the exported modules in PyTorch (one process), at `dtype`. */
export function runTorch(dir: string, cases: readonly Exported[], dtype: 'float64' | 'float32'): TorchRun[] {
  const jobs = cases.map((c) => ({
    module: c.module,
    weights: c.weights,
    input: c.input,
    dtype,
    output: `${c.module}.${dtype}.out`,
  }));
  const file = join(dir, `jobs-${dtype}.json`);
  writeFileSync(file, JSON.stringify(jobs));
  const stdout = execFileSync('/usr/bin/python3', [join(root, 'tests/export/run_exported.py'), file], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  return stdout
    .trim()
    .split('\n')
    .map((line, i) => {
      const r = JSON.parse(line) as Omit<TorchRun, 'output'>;
      const bytes = readFileSync(jobs[i]!.output);
      return { ...r, output: new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8) };
    });
}

/** cnnc's float64 reference interpreter on the case's weights and batch, in evaluation mode. */
export function referenceOutput(c: Exported): Float64Array {
  const specs = new Map(c.graph.nodes.flatMap((n) => n.params.map((p) => [p.name, p] as const)));
  const params = new Map<string, Tensor>([...c.params].map(([name, v]) => [name, tensor(specs.get(name)!.shape, v)]));
  const input = c.graph.nodes.find((n) => n.op === 'input')!.shape;
  return forward(c.graph, params, tensor(input, c.x), 'eval').output.data;
}
