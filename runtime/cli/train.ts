// `cnnc train FILE`: the recipe from the train section, overridden by flags; progress on a terminal,
// one line per epoch otherwise; optional JSON log and checkpoints.
import { appendFileSync, writeFileSync } from 'node:fs';
import type { OptimizerConfig, OptimizerKind } from '../../compiler/elaborate/train-config.ts';
import { formatShape } from '../../compiler/ir/graph.ts';
import { compile, CompileError, type Model } from '../model.ts';
import { UserError } from '../errors.ts';
import { openData } from '../train/data.ts';
import { loadWeights, saveWeights } from '../train/state-dict.ts';
import { train, type EpochReport, type Progress } from '../train/trainer.ts';
import { frontend, type Output } from './io.ts';

export interface TrainFlags {
  readonly model?: string;
  readonly epochs?: string;
  readonly 'batch-size'?: string;
  readonly lr?: string;
  readonly optimizer?: string;
  readonly momentum?: string;
  readonly 'weight-decay'?: string;
  readonly seed?: string;
  readonly steps?: string;
  readonly 'no-shuffle'?: boolean;
  readonly data?: string;
  readonly resize?: string;
  readonly 'json-log'?: string;
  readonly save?: string;
  readonly init?: string;
}

function num(flags: TrainFlags, key: keyof TrainFlags, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  const text = flags[key];
  if (text === undefined || typeof text !== 'string') return undefined;
  const v = Number(text);
  const min = opts.min ?? 0;
  if (!Number.isFinite(v) || v < min || (opts.integer && !Number.isInteger(v))) {
    throw new UserError(`--${key} expects ${opts.integer ? 'an integer' : 'a number'} >= ${min}, got '${text}'`);
  }
  return v;
}

function resizeFlag(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map(Number);
  if ((parts.length !== 1 && parts.length !== 2) || !parts.every((p) => Number.isInteger(p) && p >= 1)) throw new UserError(`--resize expects H or H,W, got '${text}'`);
  return [parts[0]!, parts[1] ?? parts[0]!];
}

function optimizerFlags(flags: TrainFlags): Partial<OptimizerConfig> {
  const kind = flags.optimizer;
  if (kind !== undefined && kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') throw new UserError(`--optimizer must be sgd, adam or adamw, got '${kind}'`);
  const lr = num(flags, 'lr');
  const momentum = num(flags, 'momentum');
  const weightDecay = num(flags, 'weight-decay');
  return {
    ...(kind !== undefined ? { kind: kind as OptimizerKind } : {}),
    ...(lr !== undefined ? { lr } : {}),
    ...(momentum !== undefined ? { momentum } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
  };
}

function progressLine(p: Progress, epochs: number): string {
  const width = 24;
  const filled = Math.round((p.batch / p.batches) * width);
  const eta = p.samplesPerSec > 0 ? (p.seconds / p.batch) * (p.batches - p.batch) : 0;
  return `epoch ${p.epoch}/${epochs} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${p.batch}/${p.batches}  ${p.samplesPerSec.toFixed(0)} samples/s  loss ${p.runningLoss.toFixed(4)}  ETA ${eta.toFixed(0)}s`;
}

function epochLine(r: EpochReport, epochs: number): string {
  const val = r.valLoss === null ? '' : `  val_loss ${r.valLoss.toFixed(4)}${r.valAcc === null ? '' : `  val_acc ${r.valAcc.toFixed(4)}`}`;
  return `epoch ${r.epoch}/${epochs}  train_loss ${r.trainLoss.toFixed(4)}${val}  ${r.seconds.toFixed(1)}s  ${r.samplesPerSec.toFixed(0)} samples/s`;
}

export async function trainCommand(file: string, flags: TrainFlags, io: Output, tty: boolean): Promise<number> {
  const front = frontend(file, flags.model !== undefined ? { model: flags.model } : {}, io);
  if (!front) return 1;
  const recipe = front.train!;
  const batch = num(flags, 'batch-size', { integer: true, min: 1 }) ?? recipe.batch;
  const epochs = num(flags, 'epochs', { integer: true, min: 1 }) ?? recipe.epochs;
  const seed = num(flags, 'seed', { integer: true }) ?? recipe.seed;
  const maxSteps = num(flags, 'steps', { integer: true, min: 1 }) ?? null;
  const resize = resizeFlag(flags.resize) ?? recipe.resize;
  const out = front.shaped!.nodes[front.shaped!.output]!.shape;
  const classification = recipe.loss === 'cross_entropy';
  const data = openData({
    source: recipe.data, modelPath: file, resize, numClasses: out[1] ?? 1,
    ...(flags.data !== undefined ? { dirOverride: flags.data } : {}),
  }, classification);
  const want = front.shaped!.nodes[0]!.shape.slice(1);
  if (formatShape(want) !== formatShape(data.train.sampleShape)) {
    throw new UserError(`the data gives samples of ${formatShape(data.train.sampleShape)}, model ${front.shaped!.model} expects ${formatShape(want)}` +
      (want.length === 3 && data.train.sampleShape.length === 3 ? ` (resize the data: \`data fashion_mnist(resize = ${want[1]})\` or --resize ${want[1]},${want[2]})` : ''));
  }

  let model: Model;
  try {
    model = await compile(front.file.text, { path: file, batch, seed, optimizer: optimizerFlags(flags), ...(flags.model !== undefined ? { model: flags.model } : {}) });
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    io.err(e.message + '\n');
    return 1;
  }
  try {
    if (flags.init !== undefined) loadWeights(model, flags.init);
    const opt = model.compiled.train.optimizer;
    io.out(`training ${front.shaped!.model} on ${data.train.describe}\n` +
      `  batch ${batch}, ${epochs} epochs${maxSteps !== null ? ` (at most ${maxSteps} steps)` : ''}, ${opt.kind} lr ${opt.lr}${opt.momentum ? ` momentum ${opt.momentum}` : ''}${opt.weightDecay ? ` weight_decay ${opt.weightDecay}` : ''}, loss ${model.compiled.train.loss}, init ${flags.init ?? model.compiled.train.init}, seed ${seed}\n` +
      `  ${model.compiled.kernels.train.length} kernels per step\n`);
    if (flags['json-log'] !== undefined) writeFileSync(flags['json-log'], '');
    await train(model, data, { epochs, batchSize: batch, shuffle: !flags['no-shuffle'], seed, maxSteps }, {
      ...(tty ? { onProgress: (p: Progress) => io.err(`\r${progressLine(p, epochs)}\x1b[K`) } : {}),
      onEpoch: async (r) => {
        if (tty) io.err('\r\x1b[K');
        io.out(epochLine(r, epochs) + '\n');
        if (flags['json-log'] !== undefined) appendFileSync(flags['json-log'], JSON.stringify(r) + '\n');
        if (flags.save !== undefined) await saveWeights(model, flags.save, { epoch: String(r.epoch) });
      },
    });
    if (flags.save !== undefined) io.out(`saved ${flags.save}\n`);
    return 0;
  } finally {
    await model.dispose();
  }
}
