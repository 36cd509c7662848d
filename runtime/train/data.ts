// Training data from files under Node: IDX image sets (Fashion-MNIST, MNIST) with labels, or .npy
// input/target arrays. Paths in the train section are relative to the .cnn file.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConstTensor } from '../../compiler/ir/constant.ts';
import type { DataSource } from '../../compiler/ir/recipe.ts';
import type { Pair } from '../../compiler/ir/ops.ts';
import { epochOrder } from '../data/batches.ts';
import { DEFAULT_DATA_DIR, loadDataset, type Split } from '../data/dataset.ts';
import { DataError } from '../data/idx.ts';
import { nonFiniteSamples, readNpy, NpyError, type NpyArray } from '../data/npy.ts';
import { idxData, type TrainData } from './train-data.ts';

export type { EpochOptions, TrainBatch, TrainData } from './train-data.ts';

export interface DataRequest {
  readonly source: DataSource;
  /** `--data DIR` replaces an IDX source's directory. */
  readonly dirOverride?: string;
  /** The .cnn file, for relative paths. */
  readonly modelPath: string;
  readonly resize: Pair | null;
  readonly numClasses: number;
}

const idx = (dir: string, split: Split, resize: Pair | null, numClasses: number): TrainData =>
  idxData(loadDataset(dir, split, numClasses), split, resize);

/** numClasses: the class count for cross-entropy, whose targets are class indices; null for regression. */
function npy(inputsPath: string, targetsPath: string, numClasses: number | null): TrainData {
  return arrays(readNpy(inputsPath), readNpy(targetsPath), inputsPath, targetsPath, numClasses, [
    inputsPath,
    targetsPath,
  ]);
}

/** Samples from arrays [N, ...]: two .npy files, or the file's constants (`data tensors(...)`); the paths name them in messages. */
function arrays(
  inputs: NpyArray,
  targets: NpyArray,
  inputsPath: string,
  targetsPath: string,
  numClasses: number | null,
  files: readonly string[],
): TrainData {
  const n = inputs.shape[0] ?? 0;
  if (inputs.shape.length < 2 || n < 1)
    throw new NpyError(
      `${inputsPath}: expected an array [N, ...] of N >= 1 samples, got shape (${inputs.shape.join(', ')})`,
    );
  if (targets.shape[0] !== n)
    throw new NpyError(
      `${targetsPath}: expected ${n} targets (one per input in ${inputsPath}), got shape (${targets.shape.join(', ')})`,
    );
  const classification = numClasses !== null;
  if (classification) {
    if (targets.shape.length !== 1)
      throw new NpyError(
        `${targetsPath}: cross-entropy needs class indices of shape (${n},), got (${targets.shape.join(', ')})`,
      );
    // The loss kernel would index past the logits (IDX labels are checked the same way).
    const bad = targets.data.findIndex((t) => !(Number.isInteger(t) && t >= 0 && t < numClasses));
    if (bad >= 0)
      throw new NpyError(
        `${targetsPath}: target ${targets.data[bad]} of sample ${bad} is not a class 0..${numClasses - 1}`,
      );
  }
  const xSize = inputs.data.length / n;
  const ySize = targets.data.length / n;
  return {
    count: n,
    sampleShape: inputs.shape.slice(1),
    describe: `${inputsPath} -> ${targetsPath} (${n} samples)`,
    files,
    nonFinite: nonFiniteSamples(inputs, inputsPath) ?? nonFiniteSamples(targets, targetsPath),
    *batches(o) {
      const order = epochOrder(n, o.shuffle, o.seed, o.epoch);
      for (let start = o.from ?? 0; start < n; start += o.batchSize) {
        const ids = order.subarray(start, Math.min(n, start + o.batchSize));
        const x = new Float32Array(ids.length * xSize);
        const target = classification ? new Int32Array(ids.length) : new Float32Array(ids.length * ySize);
        ids.forEach((id, i) => {
          x.set(inputs.data.subarray(id * xSize, (id + 1) * xSize), i * xSize);
          target.set(targets.data.subarray(id * ySize, (id + 1) * ySize), i * ySize);
        });
        yield { x, target, size: ids.length };
      }
    },
  };
}

/** The training split and, for IDX sources, the test split for validation (as d2l does). */
export function openData(req: DataRequest, classification: boolean): { train: TrainData; val: TrainData | null } {
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(dirname(req.modelPath), p));
  const s = req.source;
  if (s.kind === 'tensors' && req.dirOverride === undefined) {
    const array = (t: ConstTensor): NpyArray => ({ shape: t.shape, data: Float64Array.from(t.data), dtype: '<f4' });
    return {
      train: arrays(
        array(s.inputs),
        array(s.targets),
        'the inputs tensor',
        'the targets tensor',
        classification ? req.numClasses : null,
        [],
      ),
      val: null,
    };
  }
  if (s.kind === 'npy' && req.dirOverride === undefined) {
    return { train: npy(rel(s.inputs), rel(s.targets), classification ? req.numClasses : null), val: null };
  }
  if (!classification) throw new DataError('IDX image data sets give class labels: train with `loss cross_entropy`');
  const dir = req.dirOverride ?? (s.kind === 'idx' ? rel(s.dir) : DEFAULT_DATA_DIR);
  return { train: idx(dir, 'train', req.resize, req.numClasses), val: idx(dir, 'test', req.resize, req.numClasses) };
}
