// The two files `cnnc train --save` writes for dsl-examples/corr2d.cnn trained with SGD (momentum
// 0.9), with values that tell the step they were saved at, for the crash tests of pair.ts.
import type { PairFile } from '../../runtime/train/pair.ts';
import { optimPath } from '../../runtime/train/resume.ts';

export function pairFiles(weights: string, steps: number): [PairFile, PairFile] {
  const tensor = (v: number) =>
    new Map([[`0.weight`, { dtype: 'F32' as const, shape: [1, 1, 1, 2], data: Float32Array.of(v, -v) }]]);
  const common = { model: 'Corr2d', steps: String(steps), epoch: String(steps) };
  return [
    { path: weights, tensors: tensor(steps), metadata: { format: 'pt', ...common } },
    {
      path: optimPath(weights),
      tensors: new Map([['0.weight.momentum_buffer', tensor(steps).get('0.weight')!]]),
      metadata: {
        format: 'cnnc-optimizer',
        ...common,
        optimizer: 'sgd',
        lr: '0.03',
        momentum: '0.9',
        weight_decay: '0',
        seed: '0',
        batch: '1',
        shuffle: 'true',
        history: '[]',
      },
    },
  ];
}
