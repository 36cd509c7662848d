// Two checkpoint files that must change together: the weights W (a plain state_dict at the path the
// user gave, which PyTorch and `cnnc eval` read on their own) and a companion beside it (the
// optimizer state). Both carry the same `pair` id in their metadata, fresh for every save: they
// belong together exactly when their ids match.
//
// The invariant: at every instant of a save, a crash leaves a complete pair on disk, the previous
// one or the new one. Either W and the companion match, or the companion is one rename ahead and a
// complete, fsynced temporary of W (W.tmp-<pid>) matches it. A save keeps it so:
//   1. settle: finish an interrupted save (completePair), then remove both files' stale temporaries;
//   2. write and fsync W's temporary, then the companion's (a crash here leaves the previous pair,
//      and temporaries that step 1 of the next save removes);
//   3. rename the companion's temporary over the companion (now one ahead of W);
//   4. rename W's temporary over W (the new pair).
// Whoever next reads the pair (`--resume`) or saves it finishes an interrupted step 4 by renaming the
// matching temporary over W. Renames within one directory are atomic, and each is made durable
// (directory fsync) before the next, so the order also holds across a power cut.
import { existsSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import {
  commitStaged,
  readCheckpoint,
  removeStaleTemporaries,
  stageCheckpoint,
  staleTemporaries,
  type SaveHook,
  type StoredTensor,
} from './checkpoint.ts';

export interface PairFile {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, StoredTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

const pairOf = (path: string): string | undefined => {
  try {
    return readCheckpoint(path).metadata.pair;
  } catch {
    return undefined;
  }
};

/**
 * Finishes a save of the pair that stopped between its two renames: when the companion's pair id is
 * not W's but a complete temporary of W has it, that temporary becomes W. Returns whether it did.
 */
export function completePair(weights: string, companion: string): boolean {
  const id = existsSync(companion) ? pairOf(companion) : undefined;
  if (id === undefined || (existsSync(weights) && pairOf(weights) === id)) return false;
  const tmp = staleTemporaries(weights).find((t) => pairOf(t) === id);
  if (tmp === undefined) return false;
  commitStaged(tmp, weights);
  return true;
}

/**
 * Writes both files as one save (see the invariant above). `hook` is called at every point between
 * the steps, for tests that stop the process there. A failure (a full disk) before step 3 leaves the
 * previous pair and no temporaries; after it, the temporary that completes the pair stays.
 */
export function writePair(weights: PairFile, companion: PairFile, hook?: SaveHook): void {
  if (staleTemporaries(weights.path).length > 0) completePair(weights.path, companion.path);
  removeStaleTemporaries(weights.path);
  removeStaleTemporaries(companion.path);
  hook?.('settled');
  const pair = randomUUID();
  const tmpWeights = stageCheckpoint(weights.path, weights.tensors, { ...weights.metadata, pair }, hook);
  let tmpCompanion: string;
  try {
    tmpCompanion = stageCheckpoint(companion.path, companion.tensors, { ...companion.metadata, pair }, hook);
  } catch (e) {
    rmSync(tmpWeights, { force: true });
    throw e;
  }
  try {
    commitStaged(tmpCompanion, companion.path);
  } catch (e) {
    rmSync(tmpWeights, { force: true });
    rmSync(tmpCompanion, { force: true });
    throw e;
  }
  hook?.('companion renamed');
  commitStaged(tmpWeights, weights.path);
  hook?.('weights renamed');
}

/** Whether two files read as a pair were saved together (files from before pair ids: by step count). */
export function savedTogether(
  weights: Readonly<Record<string, string>>,
  companion: Readonly<Record<string, string>>,
): boolean {
  if (weights.pair !== undefined || companion.pair !== undefined) return weights.pair === companion.pair;
  return weights.steps === companion.steps;
}
