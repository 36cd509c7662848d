// Weights files under Node: a model's state_dict (state.ts) read from and written to safetensors.
import type { ShapedGraph } from '../../compiler/ir/graph.ts';
import type { Model } from '../model.ts';
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { checkWeights, stateDict, weightsMetadata } from './state.ts';

export { floatTensor, setWeights, stateDict } from './state.ts';

/** Reads weights saved by cnnc or by PyTorch for a model's graph; every name, shape and dtype must fit. */
export const readWeights = (graph: ShapedGraph, path: string): Checkpoint => checkWeights(graph, readCheckpoint(path));

export async function saveWeights(model: Model, path: string, metadata: Record<string, string> = {}): Promise<void> {
  writeCheckpoint(path, await stateDict(model), weightsMetadata(model, metadata));
}
