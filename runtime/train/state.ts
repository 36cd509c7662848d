// A model's weights as a PyTorch state_dict (names, layouts, dtypes: float32 tensors, int64
// num_batches_tracked), to save as safetensors and to load back, from cnnc or from PyTorch.
// Portable: state-dict.ts reads and writes the files under Node.
import type { ShapedGraph } from '../../compiler/ir/graph.ts';
import type { Model } from '../model.ts';
import {
  type Checkpoint,
  CheckpointError,
  encodeSafetensors,
  expectTensors,
  type StoredTensor,
} from './safetensors.ts';

/** Every parameter and buffer in state_dict order. */
function entries(graph: ShapedGraph): { name: string; shape: readonly number[]; tracked: boolean }[] {
  return graph.nodes.flatMap((n) =>
    n.params.map((p) => ({ name: p.name, shape: p.shape, tracked: p.role === 'num_batches_tracked' })),
  );
}

export async function stateDict(model: Model): Promise<Map<string, StoredTensor>> {
  const out = new Map<string, StoredTensor>();
  for (const e of entries(model.compiled.graph)) {
    out.set(
      e.name,
      e.tracked
        ? { dtype: 'I64', shape: [], data: BigInt64Array.of(model.batchesTracked(e.name)) }
        : { dtype: 'F32', shape: e.shape, data: await model.getParam(e.name) },
    );
  }
  return out;
}

/** What cnnc's weights files record beside the tensors: the model and its training steps. */
export const weightsMetadata = (model: Model, extra: Record<string, string> = {}): Record<string, string> => ({
  format: 'pt',
  model: model.compiled.graph.model,
  steps: String(model.steps),
  ...extra,
});

/** The model's weights as the bytes of the safetensors file `cnnc train --save` writes. */
export const encodeWeights = async (model: Model): Promise<Uint8Array> =>
  encodeSafetensors(await stateDict(model), weightsMetadata(model));

/** A stored float tensor as float32 (PyTorch may save float64); integer tensors are an error. */
export function floatTensor(ckpt: Checkpoint, name: string): Float32Array {
  const t = ckpt.tensors.get(name)!;
  if (t.dtype !== 'F32' && t.dtype !== 'F64')
    throw new CheckpointError(`${ckpt.path}: tensor ${name} is ${t.dtype}, expected F32 (or F64)`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
}

/**
 * Checks weights (and running statistics) saved by cnnc or by PyTorch against a model's graph (the
 * front end's will do, so a wrong file is refused before compiling): every name, shape and dtype
 * must fit. cnnc's files record the model, steps and epoch in the metadata.
 */
export function checkWeights(graph: ShapedGraph, ckpt: Checkpoint): Checkpoint {
  const path = ckpt.path;
  const expected = entries(graph);
  try {
    expectTensors(ckpt, expected);
  } catch (e) {
    // A file of another cnnc model differs in every tensor: its name says more than the list.
    const other = ckpt.metadata.model;
    if (other !== undefined && other !== graph.model)
      throw new CheckpointError(`${path} holds weights of model ${other}, not ${graph.model}`);
    throw e;
  }
  for (const e of expected) {
    if (e.tracked) batchCount(ckpt, e.name);
    else floatTensor(ckpt, e.name);
  }
  return ckpt;
}

/** A num_batches_tracked: an integer scalar (int64 in PyTorch's files). */
function batchCount(ckpt: Checkpoint, name: string): bigint {
  const t = ckpt.tensors.get(name)!;
  if (t.dtype !== 'I64' && t.dtype !== 'I32')
    throw new CheckpointError(`${ckpt.path}: tensor ${name} is ${t.dtype}, expected I64 (a count of batches)`);
  return BigInt(t.data[0]!);
}

/**
 * Copies weights read by readWeights for the same graph into the model. Batch norm's
 * num_batches_tracked counts on from the file's, as after PyTorch's load_state_dict.
 */
export function setWeights(model: Model, ckpt: Checkpoint): void {
  const counts = new Map<string, bigint>();
  for (const e of entries(model.compiled.graph)) {
    if (e.tracked) counts.set(e.name, batchCount(ckpt, e.name));
    else model.setParam(e.name, floatTensor(ckpt, e.name));
  }
  model.setBatchesTracked(counts);
}
