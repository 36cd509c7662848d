// `cnnc export FILE --web DIR --weights W [--batch-size N]`: a standalone WebGPU bundle of the
// model's evaluation-mode forward pass (runtime/export/web/). Compiled for WebGPU's default limits
// without subgroups unless --subgroups, so it runs on any adapter; no device is opened here.
import { join } from 'node:path';
import { kernelLimits } from '../../compiler/codegen/limits.ts';
import { UserError } from '../errors.ts';
import { webBundle } from '../export/web/manifest.ts';
import { webBundleFiles } from '../export/web/write.ts';
import { readWeights } from '../train/state-dict.ts';
import { classifierClasses, compileOrReport, modelFrontend, nonFiniteWeights } from './flags.ts';
import type { Output } from './io.ts';
import type { Flags } from './options.ts';
import { checkOutputs, makeDirectory, writeOutput } from './outputs.ts';

/** The batch the kernels are compiled for without --batch-size: a page's handful of images. */
const DEFAULT_BATCH = 16;

export function exportWeb(file: string, flags: Flags<'export'>, io: Output): number {
  const out = flags.web!;
  const { weights } = flags;
  if (weights === undefined)
    throw new UserError(
      '--web needs --weights W: the bundle carries trained weights (as `cnnc train --save W` writes)',
    );
  const inputs = [
    { what: 'the model', path: file },
    { what: '--weights', path: weights },
  ];
  checkOutputs([{ what: '--web', path: out, directory: true }], inputs);
  const front = modelFrontend(file, flags, io);
  if (!front) return 1;
  const classes = classifierClasses(front, 'export --web');
  const ckpt = readWeights(front.shaped!, weights);
  const weightsBad = nonFiniteWeights(ckpt);
  if (weightsBad !== null) io.err(`cnnc: warning: ${weightsBad}; the bundle will predict NaN\n`);
  const limits = kernelLimits(flags.subgroups === true);
  const compiled = compileOrReport(front, { batch: flags['batch-size'] ?? DEFAULT_BATCH, limits, training: false }, io);
  if (!compiled) return 1;
  const { files, manifest } = webBundleFiles(webBundle(compiled, file, limits), ckpt);
  makeDirectory({ what: '--web', path: join(out, 'kernels'), directory: true });
  checkOutputs(
    [...files.keys()].map((name) => ({ what: '--web', path: join(out, name) })),
    inputs,
  );
  for (const [name, data] of files) writeOutput(join(out, name), data);
  const mib = (manifest.weights.bytes / 2 ** 20).toFixed(2);
  io.out(
    `wrote ${out}: index.js, model.json, ${manifest.kernels.length} kernels, weights.bin (${mib} MiB from ${weights}); ` +
      `${manifest.model} [${manifest.inputShape.join(', ')}] -> ${classes} classes, batches of ${manifest.batch}\n`,
  );
  return 0;
}
