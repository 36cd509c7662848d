// `cnnc export --onnx`: the exported PyTorch module traced by torch.onnx.export (opset 17) in eval
// mode, with the batch dimension dynamic. PyTorch writes the file; cnnc writes the module and checks
// the weights against the model first, so a checkpoint of another model is refused by name here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_TORCH, runPython } from './python.ts';

const SCRIPT = `
import importlib.util, sys
try:
    import torch
except ImportError:
    sys.exit(${NO_TORCH})
module_path, out, weights = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location('cnnc_export', module_path)
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
net = m.model()
if weights:
    net.load_state_dict(m.load_cnnc(weights), strict=True)
net.eval()
x = torch.zeros(1, *type(net).input_shape)
torch.onnx.export(net, x, out, opset_version=17, input_names=['input'], output_names=['output'],
                  dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
`;

/** Writes `out` from the module source; `weights` (already checked against the model) or PyTorch's initial ones. */
export function writeOnnx(source: string, out: string, weights: string | undefined): void {
  const dir = mkdtempSync(join(tmpdir(), 'cnnc-export-'));
  try {
    const module = join(dir, 'model.py');
    writeFileSync(module, source);
    runPython('--onnx', SCRIPT, [module, out, weights ?? '']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
