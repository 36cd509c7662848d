// A model's weights as a PyTorch state_dict (names, layouts, dtypes: float32 tensors, int64
// num_batches_tracked), to save as safetensors and to load back, from cnnc or from PyTorch.
import type { Model } from '../model.ts';
import { CheckpointError, expectTensors, readCheckpoint, writeCheckpoint, type Checkpoint, type StoredTensor } from './checkpoint.ts';

/** Every parameter and buffer in state_dict order. */
function entries(model: Model): { name: string; shape: readonly number[]; tracked: boolean }[] {
  return model.compiled.graph.nodes.flatMap((n) => n.params.map((p) => ({ name: p.name, shape: p.shape, tracked: p.role === 'num_batches_tracked' })));
}

export async function stateDict(model: Model): Promise<Map<string, StoredTensor>> {
  const out = new Map<string, StoredTensor>();
  for (const e of entries(model)) {
    out.set(e.name, e.tracked
      ? { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(model.steps)) }
      : { dtype: 'F32', shape: e.shape, data: await model.getParam(e.name) });
  }
  return out;
}

export async function saveWeights(model: Model, path: string, metadata: Record<string, string> = {}): Promise<void> {
  writeCheckpoint(path, await stateDict(model), { format: 'pt', model: model.compiled.graph.model, steps: String(model.steps), ...metadata });
}

/** A stored float tensor as float32 (PyTorch may save float64); integer tensors are an error. */
export function floatTensor(ckpt: Checkpoint, name: string): Float32Array {
  const t = ckpt.tensors.get(name)!;
  if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new CheckpointError(`${ckpt.path}: tensor ${name} is ${t.dtype}, expected F32 (or F64)`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
}

/**
 * Loads weights (and running statistics) saved by cnnc or by PyTorch; every name and shape must
 * match. Returns the file's metadata (cnnc records the model, steps and epoch there).
 */
export function loadWeights(model: Model, path: string): Readonly<Record<string, string>> {
  const ckpt = readCheckpoint(path);
  const expected = entries(model);
  expectTensors(ckpt, expected);
  for (const e of expected) if (!e.tracked) model.setParam(e.name, floatTensor(ckpt, e.name));
  return ckpt.metadata;
}
