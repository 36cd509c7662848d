// `cnnc eval FILE --weights W`: the loss and accuracy of saved weights on held-out data, computed as
// training validates after every epoch: the test split of an IDX data set (d2l validates on it), or
// the npy arrays themselves for npy data, which has no split.
import { validate } from '../train/trainer.ts';
import { readWeights, setWeights } from '../train/state-dict.ts';
import { compileModel, modelFrontend, modelOption, nonFiniteWeights, openModelData, tuneOption } from './flags.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';

export async function evalCommand(file: string, flags: Flags<'eval'>, io: Output): Promise<number> {
  const { weights } = flags;
  const front = modelFrontend(file, flags, io);
  if (!front) return 1;
  const data = openModelData(file, front, flags);
  const split = data.val ?? data.train;
  // No larger than the data: a batch with nothing to fill it would only cost a second compile.
  const batch = Math.min(split.count, flags['batch-size'] ?? front.train!.batch);
  const ckpt = readWeights(front.shaped!, weights);
  // The loss is what these weights compute on this data, NaN included; the warning names the cause.
  for (const cause of [nonFiniteWeights(ckpt), split.nonFinite])
    if (cause !== null) io.err(`cnnc: warning: ${cause}; the loss will be NaN\n`);
  const model = await compileModel(front, { batch, ...modelOption(flags), ...tuneOption(flags, io) }, io);
  if (!model) return 1;
  try {
    setWeights(model, ckpt);
    const { loss, acc } = await validate(model, split, batch);
    const name = front.shaped!.model;
    if (flags.json) {
      io.out(JSON.stringify({ model: name, weights, data: split.describe, samples: split.count, loss, acc }) + '\n');
    } else {
      io.out(
        `${name} with ${weights} on ${split.describe}\n  val_loss ${loss.toFixed(4)}${acc === null ? '' : `  val_acc ${acc.toFixed(4)}`}\n`,
      );
    }
    return 0;
  } finally {
    await model.dispose();
  }
}
