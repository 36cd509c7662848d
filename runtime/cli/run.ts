// `cnnc run FILE`: the model's forward pass (evaluation mode) on one input, printed as PyTorch
// prints tensors. The input is a constant tensor of the file (--input-tensor, default `X`), an
// [N, ...] .npy array or one image of an IDX file; the weights are --weights or the file's own
// (its constants where it fixes them, else the train section's init and seed).
import type { DiagnosticBag } from '../../compiler/diagnostics/diagnostic.ts';
import { InternalCompilerError } from '../../compiler/diagnostics/diagnostic.ts';
import type { FrontendResult } from '../../compiler/index.ts';
import { fitsShape, type ConstTensor } from '../../compiler/ir/constant.ts';
import { formatShape, type ElaboratedGraph } from '../../compiler/ir/graph.ts';
import { inferShapes } from '../../compiler/shapes/infer.ts';
import { epochBatches } from '../data/batches.ts';
import { DataError, readIdxImages } from '../data/idx.ts';
import { encodeNpy, readNpy } from '../data/npy.ts';
import { UserError } from '../errors.ts';
import { formatTensor } from '../format/torch-print.ts';
import { readWeights, setWeights } from '../train/state-dict.ts';
import { compileModel, modelOption, sampleShape } from './flags.ts';
import { frontend, type Output } from './io.ts';
import type { Flags } from './options.ts';
import { checkOutputs, writeOutput } from './outputs.ts';

type RunFlags = Flags<'run'>;

interface Printed {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * The samples as the model's [N, ...want] batch. A tensor of exactly `want` with leading size-1
 * dimensions dropped or added is one sample (a 6x8 image for `input [1, 6, 8]`); one of
 * [N, ...want] is N samples. Anything else is refused, naming both shapes.
 */
function asBatch(
  t: { shape: readonly number[]; data: Float32Array },
  want: readonly number[],
  what: string,
): { x: Float32Array; batch: number } {
  if (t.shape.length === want.length + 1 && formatShape(t.shape.slice(1)) === formatShape(want))
    return { x: t.data, batch: t.shape[0]! };
  if (fitsShape(t.shape, want)) return { x: t.data, batch: 1 };
  throw new UserError(
    `${what} is ${formatShape(t.shape)}; the model's input is ${formatShape(want)} per sample: give ${formatShape(want)} (leading 1s may be left out) or [N, ${want.join(', ')}]`,
  );
}

function constant(front: FrontendResult, name: string, flag: string): ConstTensor {
  const t = front.constants?.get(name);
  if (t !== undefined) return t;
  const names = [...(front.constants?.keys() ?? [])];
  throw new UserError(
    `${flag} ${name}: the file defines no tensor \`${name}\`${names.length > 0 ? ` (its tensors: ${names.join(', ')})` : ' (define one at the top level: `X = ...`)'}`,
  );
}

function input(front: FrontendResult, flags: RunFlags): { x: Float32Array; batch: number } {
  const want = sampleShape(front);
  const sources = [flags['input-tensor'], flags.npy, flags.images].filter((s) => s !== undefined).length;
  if (sources > 1)
    throw new UserError('give one input: --input-tensor NAME, --npy X.npy or --images IDX_FILE --index I');
  if ((flags.index === undefined) !== (flags.images === undefined))
    throw new UserError('--images and --index go together: --images IDX_FILE --index I');
  if (flags.npy !== undefined) {
    const a = readNpy(flags.npy);
    return asBatch({ shape: a.shape, data: Float32Array.from(a.data) }, want, flags.npy);
  }
  if (flags.images !== undefined) {
    const img = readIdxImages(flags.images);
    const i = flags.index!;
    if (i >= img.count)
      throw new DataError(`--index ${i}: ${flags.images} holds ${img.count} images (0 to ${img.count - 1})`);
    if (formatShape([1, img.height, img.width]) !== formatShape(want))
      throw new DataError(
        `${flags.images}: images of ${img.height}x${img.width}, the model expects ${formatShape(want)}`,
      );
    const size = img.height * img.width;
    // The training pipeline's scaling of one image.
    const ds = {
      images: img.pixels.subarray(i * size, (i + 1) * size),
      labels: new Uint8Array(1),
      count: 1,
      height: img.height,
      width: img.width,
      source: flags.images,
      files: [flags.images],
    };
    const [b] = epochBatches(ds, { batchSize: 1, shuffle: false, seed: 0, epoch: 0, resize: null });
    return { x: b!.images, batch: 1 };
  }
  const name = flags['input-tensor'] ?? 'X';
  return asBatch(constant(front, name, '--input-tensor'), want, `tensor \`${name}\``);
}

/**
 * `--squeeze` drops every size-1 dimension, as torch.squeeze() (a [1, 1, 2, 2] output prints as
 * 2x2); `--out` also writes what is printed as a .npy array.
 */
function show(t: Printed, flags: RunFlags, io: Output, layer: string | null = null): void {
  const shape = flags.squeeze ? t.shape.filter((d) => d !== 1) : t.shape;
  if (flags.out !== undefined) writeOutput(flags.out, encodeNpy(shape, t.data));
  // With several --layer, each value is headed by its layer's name (JSON: a "layer" field).
  if (flags.json)
    io.out(JSON.stringify({ ...(layer !== null ? { layer } : {}), shape, data: Array.from(t.data) }) + '\n');
  else {
    if (layer !== null) io.out(`${layer}:\n`);
    io.out(flags.shape ? `torch.Size([${shape.join(', ')}])\n` : formatTensor(shape, t.data) + '\n');
  }
}

/**
 * The model cut after the layer `--layer NAME` names (its state_dict prefix, e.g. `0` or `1.conv1`,
 * or its `as` label path): that layer's output becomes the model's, so it is computed, not read
 * from memory a later layer may reuse. Layers after it are dropped with their parameters.
 */
function cutAt(front: FrontendResult, name: string, diagnostics: DiagnosticBag): FrontendResult {
  const graph = front.graph!;
  const at = graph.nodes.find((n) => n.path === name && n.op !== 'input');
  if (at === undefined) {
    const paths = graph.nodes.filter((n) => n.op !== 'input' && n.path !== '').map((n) => n.path);
    throw new UserError(
      `--layer ${name}: model ${graph.model} has no layer \`${name}\` (its layers: ${paths.join(', ')})`,
    );
  }
  const nodes = graph.nodes.slice(0, at.id + 1);
  const kept = new Set(nodes.map((n) => n.path));
  const fixed = new Map([...(graph.fixed ?? [])].filter(([param]) => kept.has(param.slice(0, param.lastIndexOf('.')))));
  const cut: ElaboratedGraph = { model: graph.model, nodes, output: at.id, ...(fixed.size > 0 ? { fixed } : {}) };
  const shaped = inferShapes(cut, { batch: 1, inputShape: sampleShape(front) }, diagnostics);
  if (shaped === null)
    throw new InternalCompilerError('shapes', `--layer ${name}: a prefix of a shaped graph failed shape inference`);
  return { ...front, graph: cut, shaped };
}

export async function runCommand(file: string, flags: RunFlags, io: Output): Promise<number> {
  const reads = [flags.npy, flags.images, flags.weights]
    .filter((p) => p !== undefined)
    .map((path) => ({ what: 'an input', path }));
  if (flags.out !== undefined)
    checkOutputs([{ what: '--out', path: flags.out }], [{ what: 'the model', path: file }, ...reads]);
  const front = frontend(file, modelOption(flags), io);
  if (!front) return 1;
  if (flags.tensor !== undefined) {
    show(constant(front, flags.tensor, '--tensor'), flags, io);
    return 0;
  }
  const { x, batch } = input(front, flags);
  const ckpt = flags.weights === undefined ? null : readWeights(front.shaped!, flags.weights);
  const layers = flags.layer ?? [];
  if (layers.length > 1 && flags.out !== undefined)
    throw new UserError(`--out writes one tensor: give one --layer with it (got ${layers.length})`);
  // Each --layer is the model cut after that layer, checked before anything compiles.
  const targets =
    layers.length === 0
      ? [{ name: null, front }]
      : layers.map((name) => ({ name, front: cutAt(front, name, front.diagnostics) }));
  for (const { name, front: target } of targets) {
    // Only the forward pass runs: a loss any output shape has keeps cross-entropy's check (logits) away.
    const model = await compileModel(target, { batch, loss: 'mse_sum', ...modelOption(flags) }, io);
    if (!model) return 1;
    try {
      if (ckpt !== null) setWeights(model, ckpt);
      const out = await model.forward(x);
      const shape = [batch, ...target.shaped!.nodes[target.shaped!.output]!.shape.slice(1)];
      show({ shape, data: out }, flags, io, targets.length > 1 ? name : null);
    } finally {
      await model.dispose();
    }
  }
  return 0;
}
