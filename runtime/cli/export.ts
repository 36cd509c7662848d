// `cnnc export FILE (--torch OUT.py | --torch-train DIR | --onnx OUT.onnx [--weights W] | --web DIR
// --weights W)`: the model for PyTorch (a module whose state_dict names are cnnc's), with a training
// script beside it, ONNX traced from that module by PyTorch, or a WebGPU bundle (export-web.ts).
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { torchModule } from '../../compiler/export/torch.ts';
import { torchTrainScript } from '../../compiler/export/torch-train.ts';
import type { DataSource } from '../../compiler/ir/recipe.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { UserError } from '../errors.ts';
import { writeOnnx } from '../export/onnx.ts';
import { readWeights } from '../train/state-dict.ts';
import { exportWeb } from './export-web.ts';
import { frontend, type Output } from './io.ts';
import type { Flags } from './options.ts';
import { checkOutputs, makeDirectory, writeOutput } from './outputs.ts';

export function exportCommand(file: string, flags: Flags<'export'>, io: Output): number {
  const targets = (['torch', 'torch-train', 'onnx', 'web'] as const).filter((t) => flags[t] !== undefined);
  if (targets.length !== 1)
    throw new UserError(
      `export writes one thing: give exactly one of --torch OUT.py, --torch-train DIR, --onnx OUT.onnx or --web DIR${targets.length ? ` (not ${targets.map((t) => `--${t}`).join(' and ')})` : ''}`,
    );
  const target = targets[0]!;
  if (target === 'web') return exportWeb(file, flags, io);
  if (flags.weights !== undefined && target !== 'onnx')
    throw new UserError('--weights goes with --onnx or --web (a --torch module loads weights itself: load_cnnc)');
  for (const flag of ['batch-size', 'subgroups'] as const)
    if (flags[flag] !== undefined) throw new UserError(`--${flag} goes with --web`);
  const out = flags[target]!;
  const files = target === 'torch-train' ? [join(out, 'model.py'), join(out, 'train.py')] : [out];
  // DIR's files are checked once DIR exists (below): a missing DIR is created.
  checkOutputs(
    [{ what: `--${target}`, path: out, ...(target === 'torch-train' ? { directory: true } : {}) }],
    [
      { what: 'the model', path: file },
      ...(flags.weights !== undefined ? [{ what: '--weights', path: flags.weights }] : []),
    ],
  );

  const size = flags.resize ? ([flags.resize[0]!, flags.resize[1] ?? flags.resize[0]!] as const) : undefined;
  const r = frontend(
    file,
    { ...(flags.model !== undefined ? { model: flags.model } : {}), ...(size ? { inputSize: size } : {}) },
    io,
  );
  if (!r) return 1;
  const graph = r.shaped!;
  const params =
    r.program!.defs.find((d) => d.kind === 'model' && d.name.name === graph.model)?.params.map((p) => p.name.name) ??
    [];
  const exported = torchModule(graph, params, file, r.diagnostics);
  if (!exported) {
    io.err(renderDiagnostics(r.diagnostics.all) + '\n');
    return 1;
  }
  if (target === 'torch-train') {
    makeDirectory({ what: '--torch-train', path: out, directory: true });
    checkOutputs(
      files.map((path) => ({ what: '--torch-train', path })),
      [{ what: 'the model', path: file }],
    );
    const base = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(file), p));
    const d = r.train!.data;
    // train.py runs from anywhere: the train section's paths, relative to the .cnn file, made absolute.
    const data: DataSource =
      d.kind === 'idx'
        ? { kind: 'idx', dir: base(d.dir) }
        : d.kind === 'npy'
          ? { kind: 'npy', inputs: base(d.inputs), targets: base(d.targets) }
          : d;
    const input = graph.nodes.find((n) => n.op === 'input')!.shape.slice(1);
    writeOutput(files[0]!, exported.source);
    writeOutput(files[1]!, torchTrainScript({ model: graph.model, origin: file, train: { ...r.train!, data }, input }));
    io.out(
      `wrote ${files[0]} (class ${exported.className}) and ${files[1]}: python3 ${files[1]} --help, or torchrun --nproc_per_node N ${files[1]}\n`,
    );
    return 0;
  }
  if (target === 'torch') {
    writeOutput(out, exported.source);
    io.out(
      `wrote ${out}: class ${exported.className} (from ${basename(out).replace(/\.py$/, '')} import model, load_cnnc)\n`,
    );
    return 0;
  }
  if (flags.weights !== undefined) readWeights(graph, flags.weights);
  writeOnnx(exported.source, out, flags.weights);
  io.out(
    `wrote ${out}: ${graph.model}, ONNX opset 17, input [batch, ${graph.nodes
      .find((n) => n.op === 'input')!
      .shape.slice(1)
      .join(', ')}]${flags.weights !== undefined ? `, weights ${flags.weights}` : ", PyTorch's initial weights"}\n`,
  );
  return 0;
}
