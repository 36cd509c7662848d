// The exported PyTorch module against cnnc on the GPU: the same checkpoint (cnnc's init, random batch
// norm statistics) loaded into `cnnc`'s model (readWeights + setWeights, as `cnnc eval` loads it) and
// into the module exported by `cnnc export --torch` (load_state_dict, strict); the eval-mode outputs
// of one batch of 4 agree within rtol 1e-4, atol 1e-5 (cnnc's float32 kernels against PyTorch 1.13's
// float32 CPU ops), for LeNet, d2l's Residual with a 1x1 conv shortcut (residual `+`, batch norm)
// and DenseNet at 32x32 (`concat`). Compiling the whole training step of bigger models takes minutes
// on lavapipe: ResNet-18 and GoogLeNet are checked against the float64 reference in torch.test.ts
// and cli.test.ts (ONNX) instead.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { compile } from '../../runtime/model.ts';
import { readWeights, setWeights } from '../../runtime/train/state-dict.ts';
import { expectAllclose } from '../helpers/allclose.ts';
import { exportModel, root, runTorch } from './exported.ts';
import { installDawn } from '../../runtime/gpu/dawn.ts';

// compile() without a device opens navigator.gpu: under Node, dawn.node's.
installDawn();

const dir = mkdtempSync(join(tmpdir(), 'cnnc-export-gpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const models = [
  ['dsl-examples/lenet.cnn', undefined, null],
  ['dsl-examples/resnet18.cnn', 'Residual6', null],
  ['dsl-examples/densenet.cnn', undefined, 32],
] as const;

describe('cnnc eval output equals the exported module in PyTorch', () => {
  const cases = models.map(([file, model, size]) =>
    exportModel(
      dir,
      `${file}${model ? `:${model}` : ''}`,
      analyze(file, readFileSync(join(root, file), 'utf8'), {
        batch: 4,
        ...(model ? { model } : {}),
        ...(size ? { inputSize: [size, size] as const } : {}),
      }),
    ),
  );
  it.each(cases.map((c, i) => [c.key, i] as const))('%s', async (_key, i) => {
    const c = cases[i]!;
    const [torch] = runTorch(dir, [c], 'float32');
    // The residual block's output is no classifier's: its kernels train on mse (eval runs no loss).
    const model = await compile(c.front, { batch: 4, loss: 'mse_sum' });
    try {
      setWeights(model, readWeights(c.graph, c.weights));
      const out = await model.forward(c.x);
      expect(torch!.shape).toEqual([...c.graph.nodes[c.graph.output]!.shape]);
      expectAllclose(out, torch!.output, { rtol: 1e-4, atol: 1e-5 }, c.key);
    } finally {
      await model.dispose();
    }
  });
});
