// `cnnc train FILE`: the recipe from the train section, overridden by flags (when resuming, by the
// saved run's settings first); progress on a terminal, one line per epoch otherwise; optional JSON
// log, curves (SVG + PNG) and checkpoints with the optimizer state to resume from.
import { UserError } from '../errors.ts';
import type { TrainData } from '../train/data.ts';
import { type CurvePoint, LONG_EPOCH, StepCurve } from '../train/plot.ts';
import { pngPath, writePlot } from '../train/plot-file.ts';
import { applyRun, optimPath, readRun, saveRun } from '../train/resume.ts';
import { readWeights, setWeights } from '../train/state-dict.ts';
import { train, type EpochReport, type Progress } from '../train/trainer.ts';
import {
  compileModel,
  modelFrontend,
  modelOption,
  nonFiniteWeights,
  openModelData,
  optimizerFlags,
  tuneOption,
} from './flags.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';
import { checkOutputs, writeOutput, type InputPath, type OutputPath } from './outputs.ts';

type TrainFlags = Flags<'train'>;

function progressLine(p: Progress, epochs: number): string {
  const width = 24;
  const filled = Math.round((p.batch / p.batches) * width);
  const eta = p.samplesPerSec > 0 ? (p.seconds / p.batch) * (p.batches - p.batch) : 0;
  return `epoch ${p.epoch}/${epochs} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${p.batch}/${p.batches}  ${p.samplesPerSec.toFixed(0)} samples/s  loss ${p.runningLoss.toFixed(4)}  ETA ${eta.toFixed(0)}s`;
}

function epochLine(r: EpochReport, epochs: number): string {
  const limited = r.valSamples !== undefined ? ` (first ${r.valSamples} of ${r.valTotal} val samples)` : '';
  const val =
    r.valLoss === null
      ? ''
      : `  val_loss ${r.valLoss.toFixed(4)}${r.valAcc === null ? '' : `  val_acc ${r.valAcc.toFixed(4)}`}${limited}`;
  const partial = r.partial ? `  (--steps: stopped after batch ${r.partial.batch} of ${r.partial.batches})` : '';
  // Throughput leaves compiling out: the first epoch's line says how long the first step waited for it.
  const compiling = r.compileSeconds >= 0.05 ? `  (+${r.compileSeconds.toFixed(1)}s compiling kernels)` : '';
  // An epoch of first steps only (`--steps 1`) has no steady rate to report.
  const rate = r.samplesPerSec > 0 ? `  ${r.seconds.toFixed(1)}s  ${r.samplesPerSec.toFixed(0)} samples/s` : '';
  return `epoch ${r.epoch}/${epochs}  train_loss ${r.trainLoss.toFixed(4)}${val}${rate}${compiling}${partial}`;
}

/** What the run writes: the checkpoint pair, the log, the SVG and its PNG. */
function outputs(flags: TrainFlags): OutputPath[] {
  const { save, plot } = flags;
  const log = flags['json-log'];
  return [
    ...(save !== undefined
      ? [
          { what: '--save', path: save, replaced: true },
          { what: "--save's optimizer file", path: optimPath(save), replaced: true },
        ]
      : []),
    ...(log !== undefined ? [{ what: '--json-log', path: log }] : []),
    ...(plot !== undefined
      ? [
          { what: '--plot', path: plot, replaced: true },
          { what: "--plot's PNG", path: pngPath(plot), replaced: true },
        ]
      : []),
  ];
}

/** What the run reads. `--resume W --save W` is allowed: the saved run is read whole before training replaces it. */
function inputs(file: string, flags: TrainFlags, data: readonly TrainData[]): InputPath[] {
  const { init, resume } = flags;
  return [
    { what: 'the model', path: file },
    ...(init !== undefined ? [{ what: '--init', path: init }] : []),
    ...(resume !== undefined
      ? [
          { what: '--resume', path: resume, replacedBy: '--save' },
          { what: "--resume's optimizer file", path: optimPath(resume), replacedBy: "--save's optimizer file" },
        ]
      : []),
    ...data.flatMap((d) => d.files.map((path) => ({ what: 'the data file', path }))),
  ];
}

export async function trainCommand(file: string, flags: TrainFlags, io: Output, tty: boolean): Promise<number> {
  if (flags.resume !== undefined && flags.init !== undefined)
    throw new UserError('--resume and --init both give start weights: use one');
  const optimizer = optimizerFlags(flags);
  const front = modelFrontend(file, flags, io);
  if (!front) return 1;
  // A frozen weight's layer computes no weight gradient, and cnnc's kernels give the bias gradient
  // only with it: a trained bias beside a frozen weight is refused.
  const halfFrozen = front.shaped!.nodes.filter(
    (n) =>
      n.params.some((p) => p.role === 'weight' && p.frozen) && n.params.some((p) => p.role === 'bias' && !p.frozen),
  );
  if (halfFrozen.length > 0) {
    const path = halfFrozen[0]!.path;
    throw new UserError(
      `${path}.weight is a frozen constant but ${path}.bias is trained; cnnc trains a layer's bias only with its weight: give the bias too (\`bias = false\` or \`bias = B\`), or mark the layer \`trainable = true\``,
    );
  }
  const recipe = front.train!;
  const saved = flags.resume !== undefined ? readRun(flags.resume, front.shaped!) : null;
  const batch = flags['batch-size'] ?? saved?.batch ?? recipe.batch;
  const epochs = flags.epochs ?? recipe.epochs;
  const seed = flags.seed ?? saved?.seed ?? recipe.seed;
  const maxSteps = flags.steps ?? null;
  const valLimit = flags['val-limit'] ?? null;
  const shuffle = flags['no-shuffle'] ? false : (saved?.shuffle ?? true);
  const done = saved?.epoch ?? 0;
  if (done >= epochs)
    throw new UserError(
      `${flags.resume} has trained ${done} epochs already; --epochs counts them too, so ask for more than ${done}`,
    );
  if (saved && maxSteps !== null && maxSteps <= saved.steps)
    throw new UserError(
      `--steps ${maxSteps}: the saved run has done ${saved.steps} steps already; --steps counts them too`,
    );
  const position = saved?.position ?? null;
  // The rest of an epoch is the rest of its order, which the seed and shuffle decide.
  if (position && (seed !== saved!.seed || shuffle !== saved!.shuffle)) {
    throw new UserError(
      `${flags.resume} stopped inside epoch ${done + 1}, whose sample order its seed ${saved!.seed}${saved!.shuffle ? '' : ' (no shuffle)'} decides: resume it without --seed and --no-shuffle`,
    );
  }
  const data = openModelData(file, front, flags);
  if (position && position.samples >= data.train.count)
    throw new UserError(
      `${flags.resume} stopped after ${position.samples} samples of epoch ${done + 1}, but the data has ${data.train.count}`,
    );
  if (valLimit !== null && !data.val)
    throw new UserError('--val-limit: this data has no validation split (npy data is not validated)');
  const init = flags.init !== undefined ? readWeights(front.shaped!, flags.init) : null;
  // NaN in the data or the start weights makes every weight NaN at the first step.
  const poisoned = data.train.nonFinite ?? (init && nonFiniteWeights(init));
  if (poisoned) throw new UserError(`${poisoned}: training on them would make every weight NaN`);
  // Before compiling: a bad path found after the first epoch would throw that epoch away.
  checkOutputs(outputs(flags), inputs(file, flags, [data.train, ...(data.val ? [data.val] : [])]));

  const model = await compileModel(
    front,
    {
      batch,
      training: true,
      seed,
      optimizer: { ...saved?.optimizer, ...optimizer },
      ...modelOption(flags),
      ...tuneOption(flags, io),
    },
    io,
  );
  if (!model) return 1;
  try {
    if (init) setWeights(model, init);
    if (saved) applyRun(model, saved);
    const opt = model.compiled.train.optimizer;
    io.out(
      `training ${front.shaped!.model} on ${data.train.describe}\n` +
        `  batch ${batch}, ${epochs} epochs${maxSteps !== null ? ` (at most ${maxSteps} step${maxSteps === 1 ? '' : 's'})` : ''}, ${opt.kind} lr ${opt.lr}${opt.momentum ? ` momentum ${opt.momentum}` : ''}${opt.weightDecay ? ` weight_decay ${opt.weightDecay}` : ''}, loss ${model.compiled.train.loss}, init ${flags.init ?? model.compiled.train.init}, seed ${seed}\n` +
        (valLimit !== null && valLimit < data.val!.count
          ? `  validating on the first ${valLimit} of ${data.val!.count} val samples only (--val-limit)\n`
          : '') +
        (saved
          ? `  resuming from ${flags.resume} ${position ? `inside epoch ${done + 1}, after ${position.samples} of its ${data.train.count} samples` : `after epoch ${done}`} (step ${saved.steps})\n`
          : '') +
        `  ${model.compiled.kernels.train.length} kernels per step\n`,
    );
    // A resumed run continues its log; a fresh one starts it.
    if (flags['json-log'] !== undefined && !saved) writeOutput(flags['json-log'], '');
    const history: CurvePoint[] = [...(saved?.history ?? [])];
    // Where an epoch is long or --steps may stop inside one, train_loss is drawn per group of steps.
    const batches = Math.ceil(data.train.count / batch);
    const stepCurve =
      maxSteps !== null || batches >= LONG_EPOCH || (saved?.stepHistory.length ?? 0) > 0
        ? new StepCurve(batches, maxSteps !== null ? maxSteps - (saved?.steps ?? 0) : null, saved?.stepHistory)
        : null;
    await train(
      model,
      data,
      { epochs, firstEpoch: done + 1, batchSize: batch, shuffle, seed, maxSteps, valLimit, position },
      {
        ...(tty ? { onProgress: (p: Progress) => io.err(`\r${progressLine(p, epochs)}\x1b[K`) } : {}),
        onWarning: (message) => io.err(`cnnc: warning: ${message}\n`),
        ...(stepCurve
          ? {
              onStepLosses: (e: number, n: number, first: number, losses: readonly number[]) =>
                stepCurve.add(e, n, first, losses),
            }
          : {}),
        onEpoch: async (r, stoppedAt) => {
          stepCurve?.flush();
          // The saved history holds whole epochs only: a resumed run reports the partial one again, whole.
          const point = { epoch: r.epoch, trainLoss: r.trainLoss, valLoss: r.valLoss, valAcc: r.valAcc };
          if (!stoppedAt) history.push(point);
          const stepHistory = stepCurve?.points ?? [];
          if (tty) io.err('\r\x1b[K');
          io.out(epochLine(r, epochs) + '\n');
          if (flags.save !== undefined)
            await saveRun(model, flags.save, {
              epoch: stoppedAt ? r.epoch - 1 : r.epoch,
              seed,
              batch,
              shuffle,
              history,
              stepHistory,
              position: stoppedAt,
            });
          if (flags['json-log'] !== undefined) writeOutput(flags['json-log'], JSON.stringify(r) + '\n', true);
          // A partial epoch's validation is drawn where it stopped (epoch 1 after 3 of 469 batches: 0.0064).
          const partial = r.partial ? { ...point, epoch: r.epoch - 1 + r.partial.batch / r.partial.batches } : null;
          if (flags.plot !== undefined) writePlot(flags.plot, partial ? [...history, partial] : history, stepHistory);
        },
      },
    );
    if (flags.save !== undefined) io.out(`saved ${flags.save} (optimizer state: ${optimPath(flags.save)})\n`);
    return 0;
  } finally {
    await model.dispose();
  }
}
