// `cnnc export FILE (--torch OUT.py | --onnx OUT.onnx [--weights W])`: the model for PyTorch (a
// module whose state_dict names are cnnc's), or ONNX traced from that module by PyTorch.
import { basename } from 'node:path';
import { torchModule } from '../../compiler/export/torch.ts';
import { renderDiagnostics } from '../../compiler/diagnostics/render.ts';
import { UserError } from '../errors.ts';
import { writeOnnx } from '../export/onnx.ts';
import { readWeights } from '../train/state-dict.ts';
import { frontend, type Output } from './io.ts';
import type { Flags } from './options.ts';
import { checkOutputs, writeOutput } from './outputs.ts';

export function exportCommand(file: string, flags: Flags<'export'>, io: Output): number {
  const targets = (['torch', 'onnx'] as const).filter((t) => flags[t] !== undefined);
  if (targets.length !== 1) throw new UserError(`export writes one thing: give exactly one of --torch OUT.py or --onnx OUT.onnx${targets.length ? ` (not both)` : ''}`);
  const target = targets[0]!;
  if (flags.weights !== undefined && target !== 'onnx') throw new UserError('--weights goes with --onnx (a --torch module loads weights itself: load_cnnc)');
  const out = flags[target]!;
  checkOutputs([{ what: `--${target}`, path: out }], [
    { what: 'the model', path: file },
    ...(flags.weights !== undefined ? [{ what: '--weights', path: flags.weights }] : []),
  ]);

  const size = flags.resize ? ([flags.resize[0]!, flags.resize[1] ?? flags.resize[0]!] as const) : undefined;
  const r = frontend(file, { ...(flags.model !== undefined ? { model: flags.model } : {}), ...(size ? { inputSize: size } : {}) }, io);
  if (!r) return 1;
  const graph = r.shaped!;
  const params = r.program!.defs.find((d) => d.kind === 'model' && d.name.name === graph.model)?.params.map((p) => p.name.name) ?? [];
  const exported = torchModule(graph, params, file, r.diagnostics);
  if (!exported) {
    io.err(renderDiagnostics(r.diagnostics.all) + '\n');
    return 1;
  }
  if (target === 'torch') {
    writeOutput(out, exported.source);
    io.out(`wrote ${out}: class ${exported.className} (from ${basename(out).replace(/\.py$/, '')} import model, load_cnnc)\n`);
    return 0;
  }
  if (flags.weights !== undefined) readWeights(graph, flags.weights);
  writeOnnx(exported.source, out, flags.weights);
  io.out(`wrote ${out}: ${graph.model}, ONNX opset 17, input [batch, ${graph.nodes.find((n) => n.op === 'input')!.shape.slice(1).join(', ')}]${flags.weights !== undefined ? `, weights ${flags.weights}` : ", PyTorch's initial weights"}\n`);
  return 0;
}
