// Training in the page, as `cnnc train` does it: the same front end, runtime Model, IDX parser,
// batches (same seed, same order) and training loop, on the browser's WebGPU; the curves drawn by
// the same rasteriser as `--plot`'s PNG; predictions on test images; the weights as the same
// safetensors bytes `--save` writes.
import type { FrontendResult } from '../../compiler/index.ts';
import { formatShape } from '../../compiler/ir/graph.ts';
import type { Dataset } from '../../runtime/data/split.ts';
import { FASHION_MNIST, ranked } from '../../runtime/classes.ts';
import { UserError } from '../../runtime/errors.ts';
import { type Gpu, openGpu } from '../../runtime/gpu/device.ts';
import { compile, type Model } from '../../runtime/model.ts';
import { type CurvePoint, LONG_EPOCH, rasterize, StepCurve } from '../../runtime/train/plot.ts';
import { decodeSafetensors } from '../../runtime/train/safetensors.ts';
import { checkWeights, encodeWeights, setWeights } from '../../runtime/train/state.ts';
import { idxData } from '../../runtime/train/train-data.ts';
import { train } from '../../runtime/train/trainer.ts';
import { el } from './dom.ts';
import { fetchSplit, type Session } from './server.ts';

/** What the form asks; null: the train section's (or all). */
export interface RunSettings {
  readonly steps: number | null;
  readonly epochs: number | null;
  readonly valLimit: number | null;
  readonly init: File | null;
}

export interface TrainView {
  log(line: string): void;
  readonly plot: HTMLCanvasElement;
  readonly predictions: HTMLElement;
  readonly save: HTMLAnchorElement;
  /** Asked before every step. */
  stopRequested(): boolean;
}

const PREDICTED = 16;

let gpu: Promise<Gpu> | null = null;
const data = new Map<string, Promise<Dataset>>();

function split(session: Session, which: 'train' | 'test', numClasses: number): Promise<Dataset> {
  if ('error' in session.data) throw new UserError(session.data.error);
  const files = session.data[which];
  const key = `${which}:${numClasses}`;
  let ds = data.get(key);
  if (!ds) {
    ds = fetchSplit(files, which, numClasses);
    // A failed fetch is tried again on the next run.
    ds.catch(() => data.delete(key));
    data.set(key, ds);
  }
  return ds;
}

function drawCurves(canvas: HTMLCanvasElement, history: readonly CurvePoint[], curve: StepCurve | null): void {
  const { width, height, rgba } = rasterize(history, curve?.points ?? []);
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

/** Trains the analysed model (analysed for training) on the served data; returns the model, still on the GPU. */
export async function runTraining(
  front: FrontendResult,
  session: Session,
  settings: RunSettings,
  view: TrainView,
): Promise<Model> {
  const recipe = front.train!;
  const graph = front.shaped!;
  const numClasses = graph.nodes[graph.output]!.shape[1] ?? 1;
  if (recipe.loss !== 'cross_entropy' || recipe.data.kind === 'npy' || recipe.data.kind === 'tensors')
    throw new UserError('the playground trains image classifiers on the served IDX data (`data fashion_mnist`)');
  const init = settings.init
    ? checkWeights(graph, {
        path: settings.init.name,
        ...decodeSafetensors(new Uint8Array(await settings.init.arrayBuffer()), settings.init.name),
      })
    : null;
  view.log('reading the data set...');
  const [trainSet, testSet] = await Promise.all([
    split(session, 'train', numClasses),
    split(session, 'test', numClasses),
  ]);
  const sets = { train: idxData(trainSet, 'train', recipe.resize), val: idxData(testSet, 'test', recipe.resize) };
  const want = graph.nodes[0]!.shape.slice(1);
  if (formatShape(want) !== formatShape(sets.train.sampleShape))
    throw new UserError(
      `the data gives samples of ${formatShape(sets.train.sampleShape)}, model ${graph.model} expects ${formatShape(want)}`,
    );
  gpu ??= openGpu();
  const device = await gpu.catch((e) => {
    gpu = null;
    throw e;
  });
  view.log(`compiling ${graph.model} for ${device.adapterName}...`);
  const { batch, seed } = recipe;
  const model = await compile(front, { gpu: device, batch, training: true, seed, optimizer: {} });
  if (init) setWeights(model, init);
  const epochs = settings.epochs ?? recipe.epochs;
  const maxSteps = settings.steps;
  const batches = Math.ceil(sets.train.count / batch);
  const curve = maxSteps !== null || batches >= LONG_EPOCH ? new StepCurve(batches, maxSteps) : null;
  const history: CurvePoint[] = [];
  const stepLosses: number[] = [];
  view.log(`training ${graph.model} on ${sets.train.describe}, batch ${batch}, seed ${seed}`);
  await train(
    model,
    sets,
    { epochs, batchSize: batch, shuffle: true, seed, maxSteps, valLimit: settings.valLimit },
    {
      onProgress: (p) =>
        view.log(
          `epoch ${p.epoch} batch ${p.batch}/${p.batches}  loss ${p.runningLoss.toFixed(4)}  ${p.samplesPerSec.toFixed(0)} samples/s`,
        ),
      onStepLosses: (epoch, n, first, losses) => {
        stepLosses.push(...losses);
        curve?.add(epoch, n, first, losses);
        drawCurves(view.plot, history, curve);
      },
      onEpoch: (r) => {
        curve?.flush();
        const point = { epoch: r.epoch, trainLoss: r.trainLoss, valLoss: r.valLoss, valAcc: r.valAcc };
        history.push(r.partial ? { ...point, epoch: r.epoch - 1 + r.partial.batch / r.partial.batches } : point);
        drawCurves(view.plot, history, curve);
        view.log(
          `epoch ${r.epoch}/${epochs}  train_loss ${r.trainLoss.toFixed(4)}` +
            (r.valLoss === null ? '' : `  val_loss ${r.valLoss.toFixed(4)}  val_acc ${(r.valAcc ?? 0).toFixed(4)}`),
        );
      },
      shouldStop: view.stopRequested,
    },
  );
  view.plot.dataset['stepLosses'] = JSON.stringify(stepLosses);
  await showPredictions(model, testSet, view.predictions);
  const bytes = await encodeWeights(model);
  URL.revokeObjectURL(view.save.href);
  view.save.href = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  view.save.download = `${graph.model}.safetensors`;
  view.save.hidden = false;
  return model;
}

/** The first test images with their top-3 classes (softmax of the logits, on the host, as `cnnc predict`). */
async function showPredictions(model: Model, test: Dataset, out: HTMLElement): Promise<void> {
  const count = Math.min(PREDICTED, test.count);
  const sample = test.height * test.width;
  const [h, w] = model.compiled.graph.nodes[0]!.shape.slice(2) as [number, number];
  if (h !== test.height || w !== test.width) return; // a resized model: its input is not the pictures
  const x = Float32Array.from(test.images.subarray(0, count * sample), (v) => v / 255);
  const logits = await model.forward(x);
  const classes = logits.length / count;
  const names = classes === FASHION_MNIST.length ? FASHION_MNIST : null;
  out.replaceChildren(
    ...Array.from({ length: count }, (_, i) => {
      const top = ranked(logits.subarray(i * classes, (i + 1) * classes)).slice(0, 3);
      const canvas = el('canvas', { width: String(test.width), height: String(test.height) });
      const img = new ImageData(test.width, test.height);
      for (let k = 0; k < sample; k++) {
        const v = 255 - test.images[i * sample + k]!;
        img.data.set([v, v, v, 255], k * 4);
      }
      canvas.getContext('2d')!.putImageData(img, 0, 0);
      const label = test.labels[i]!;
      const name = (c: number): string => names?.[c] ?? String(c);
      return el(
        'div',
        { class: 'prediction', title: `label: ${name(label)}` },
        canvas,
        ...top.map((t, k) =>
          el('div', k === 0 && t.cls !== label ? { class: 'wrong' } : {}, `${name(t.cls)} ${(t.p * 100).toFixed(1)}%`),
        ),
      );
    }),
  );
}
