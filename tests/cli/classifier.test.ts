// Cross-entropy needs [N, classes] logits with 2 classes or more. train, eval and predict check the
// model's output in their one analysis, before any data is read, and point at the layer (E0213);
// they once failed on the labels instead (`target 9 of sample 0 is not a class 0..0`). Run
// in-process: each case ends before any GPU work.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { cnncInProcess } from '../helpers/cli.ts';
import { writeNpy } from '../helpers/npy.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-classifier-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

writeNpy(join(tmp, 'x.npy'), [2, 1, 2, 2], new Float32Array(8));
writeNpy(join(tmp, 'y.npy'), [2], Float32Array.of(9, 0));

function model(name: string, layers: string, loss: string): string {
  const path = join(tmp, `${name}.cnn`);
  writeFileSync(
    path,
    `model M {\n  input [1, 2, 2]\n  ${layers}\n}\ntrain {\n  data npy(inputs = "x.npy", targets = "y.npy")\n  loss ${loss}\n  batch 2  epochs 1\n}\n`,
  );
  return path;
}

const commands: [string, string[]][] = [
  ['train', []],
  ['eval', ['--weights', join(tmp, 'none.safetensors')]],
  ['predict', ['--weights', join(tmp, 'none.safetensors'), '--npy', join(tmp, 'x.npy')]],
];

describe('cross-entropy on a model that is not a classifier', () => {
  const cases = [
    [
      'one logit',
      model('one', 'flatten\n  linear(1)', 'cross_entropy'),
      'but the model outputs [1, 1]',
      '4:3',
      'linear(1)',
    ],
    [
      'a 4-D output',
      model('conv', 'conv(2, kernel = 1)', 'cross_entropy'),
      'but the model outputs [1, 2, 2, 2]',
      '3:3',
      'conv(2, kernel = 1)',
    ],
  ] as const;
  describe.each(cases)('%s', (_, path, outputs, at, layer) => {
    it.each(commands)('%s: E0213 at the last layer, before the data is read', async (command, flags) => {
      const r = await cnncInProcess(command, path, ...flags);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(
        `${path}:${at}: error[E0213]: cross-entropy loss needs [N, classes] logits with at least 2 classes, ${outputs}`,
      );
      expect(r.stderr).toContain(`  ${layer}\n`);
      expect(r.stderr).not.toContain('not a class');
    });
  });

  it('is checked only for commands that use the loss, and only for cross-entropy', () => {
    const codes = (loss: string, forTraining: boolean): string[] =>
      analyze('m.cnn', readFileSync(model(`only-${loss}`, 'flatten\n  linear(1)', loss), 'utf8'), {
        forTraining,
      }).diagnostics.all.map((d) => d.code);
    expect(codes('cross_entropy', true)).toEqual(['E0213']);
    // check, summary and compile also read shape-study models the train section does not fit.
    expect(codes('cross_entropy', false)).toEqual([]);
    expect(codes('mse_sum', true)).toEqual([]);
  });
});
