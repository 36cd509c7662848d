// `cnnc predict FILE --weights W (--images IDX | --npy X.npy)`: classifies samples with saved weights
// and prints each one's class, its probability (softmax of the logits, on the host) and the top 3,
// named as d2l names Fashion-MNIST's classes when the model is a 10-class Fashion-MNIST model.
import { formatShape } from '../../compiler/ir/graph.ts';
import { FASHION_MNIST, ranked } from '../classes.ts';
import { epochBatches } from '../data/batches.ts';
import { DataError, readIdxImages } from '../data/idx.ts';
import { nonFiniteSamples, NpyError, readNpy } from '../data/npy.ts';
import { UserError } from '../errors.ts';
import { readWeights, setWeights } from '../train/state-dict.ts';
import {
  classifierClasses,
  compileModel,
  modelFrontend,
  modelOption,
  nonFiniteWeights,
  resizeFlag,
  sampleShape,
  tuneOption,
} from './flags.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';

/** The first `count` (default all) samples as the model's input batch. */
function readSamples(
  flags: Flags<'predict'>,
  want: readonly number[],
  resize: readonly [number, number] | null,
): { x: Float32Array; count: number; nonFinite: string | null } {
  if ((flags.images === undefined) === (flags.npy === undefined))
    throw new UserError("'predict' needs one of --images IDX_FILE and --npy X.npy");
  const limit = flags.count;
  const take = (have: number, path: string): number => {
    if (have === 0) throw new UserError(`${path} holds 0 samples: nothing to predict`);
    if (limit !== undefined && limit > have) throw new UserError(`--count ${limit}: ${path} has ${have} samples`);
    return limit ?? have;
  };
  if (flags.npy !== undefined) {
    const a = readNpy(flags.npy);
    if (a.shape.length !== want.length + 1 || formatShape(a.shape.slice(1)) !== formatShape(want) || a.shape[0] === 0) {
      throw new NpyError(
        `${flags.npy}: shape (${a.shape.join(', ')}), the model expects (N, ${want.join(', ')}) with N >= 1`,
      );
    }
    const count = take(a.shape[0]!, flags.npy);
    const data = a.data.subarray(0, (a.data.length / a.shape[0]!) * count);
    return {
      x: Float32Array.from(data),
      count,
      nonFinite: nonFiniteSamples({ ...a, shape: [count, ...want], data }, flags.npy),
    };
  }
  const path = flags.images!;
  const img = readIdxImages(path);
  const [h, w] = resize ?? [img.height, img.width];
  if (formatShape([1, h, w]) !== formatShape(want)) {
    throw new DataError(
      `${path}: images of ${h}x${w}${resize ? ' (resized)' : ''}, the model expects ${formatShape(want)}` +
        (want.length === 3 ? ` (--resize ${want[1]},${want[2]})` : ''),
    );
  }
  const count = take(img.count, path);
  // The training pipeline's scaling and resize, one batch of every sample; labels are not read.
  const ds = {
    images: img.pixels,
    labels: new Uint8Array(count),
    count,
    height: img.height,
    width: img.width,
    source: path,
    files: [path],
  };
  const [batch] = epochBatches(ds, { batchSize: count, shuffle: false, seed: 0, epoch: 0, resize });
  return { x: batch!.images, count, nonFinite: null };
}

export async function predictCommand(file: string, flags: Flags<'predict'>, io: Output): Promise<number> {
  const { weights } = flags;
  const front = modelFrontend(file, flags, io);
  if (!front) return 1;
  const recipe = front.train!;
  const classes = classifierClasses(front, 'predict');
  const names = classes === 10 && recipe.data.kind === 'fashion_mnist' ? FASHION_MNIST : null;
  const { x, count, nonFinite } = readSamples(flags, sampleShape(front), resizeFlag(flags.resize) ?? recipe.resize);
  const batch = Math.min(count, flags['batch-size'] ?? recipe.batch);
  const ckpt = readWeights(front.shaped!, weights);
  // Predictions are what these weights compute on these samples, NaN included; the warning names the cause.
  const weightsBad = nonFiniteWeights(ckpt);
  if (weightsBad !== null) io.err(`cnnc: warning: ${weightsBad}; every prediction will be NaN\n`);
  if (nonFinite !== null) io.err(`cnnc: warning: ${nonFinite}; their predictions will be NaN\n`);
  const model = await compileModel(front, { batch, ...modelOption(flags), ...tuneOption(flags, io) }, io);
  if (!model) return 1;
  try {
    setWeights(model, ckpt);
    const label = (cls: number): string => names?.[cls] ?? String(cls);
    const rows: {
      index: number;
      class: number;
      name: string | null;
      probability: number;
      top: { class: number; name: string | null; probability: number }[];
    }[] = [];
    const logits = await model.forward(x);
    for (let i = 0; i < count; i++) {
      const top = ranked(logits.subarray(i * classes, (i + 1) * classes))
        .slice(0, 3)
        .map(({ cls, p }) => ({ class: cls, name: names?.[cls] ?? null, probability: p }));
      rows.push({ index: i, ...top[0]!, top });
    }
    if (flags.json) io.out(JSON.stringify(rows) + '\n');
    else
      for (const r of rows)
        io.out(
          `${r.index}  ${label(r.class)}  ${r.probability.toFixed(4)}  top-3: ${r.top.map((t) => `${label(t.class)} ${t.probability.toFixed(4)}`).join(', ')}\n`,
        );
    return 0;
  } finally {
    await model.dispose();
  }
}
