// `cnnc summary --params`: the parameter table after the layer table, and `parameters` in --json
// (PyTorch's names and shapes for every example are checked in tests/shapes/summary-params.test.ts).
import { describe, expect, it } from 'vitest';
import { cnncInProcess } from '../helpers/cli.ts';

describe('cnnc summary --params', () => {
  it("lists LeNet's parameters as d2l prints net[i].weight.shape", async () => {
    const r = await cnncInProcess('summary', 'dsl-examples/lenet.cnn', '--params');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const table = r.stdout.slice(r.stdout.indexOf('\nparameter ') + 1);
    expect(table).toBe(
      [
        'parameter  shape           count',
        '--------------------------------',
        '0.weight   [6, 1, 5, 5]      150',
        '0.bias     [6]                 6',
        '3.weight   [16, 6, 5, 5]   2,400',
        '3.bias     [16]               16',
        '7.weight   [120, 400]     48,000',
        '7.bias     [120]             120',
        '9.weight   [84, 120]      10,080',
        '9.bias     [84]               84',
        '11.weight  [10, 84]          840',
        '11.bias    [10]               10',
        '',
      ].join('\n'),
    );
    // Without the flag the summary is as before.
    expect((await cnncInProcess('summary', 'dsl-examples/lenet.cnn')).stdout).toBe(
      r.stdout.slice(0, r.stdout.indexOf('\n\nparameter ') + 1),
    );
  });

  it('marks batch norm buffers and puts every entry in --json', async () => {
    const text = (await cnncInProcess('summary', 'dsl-examples/resnet18.cnn', '--params')).stdout;
    expect(text).toMatch(/\n0\.1\.running_mean +\[64\] +64 {2}buffer\n/);
    expect(text).toMatch(/\n0\.1\.weight +\[64\] +64\n/);
    const r = await cnncInProcess('summary', 'dsl-examples/lenet.cnn', '--params', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      parameters: { name: string; shape: number[]; numel: number; learnable: boolean }[];
      totalParams: number;
    };
    expect(j.parameters[0]).toEqual({ name: '0.weight', shape: [6, 1, 5, 5], numel: 150, learnable: true });
    expect(j.parameters.map((p) => p.name)).toEqual([
      '0.weight',
      '0.bias',
      '3.weight',
      '3.bias',
      '7.weight',
      '7.bias',
      '9.weight',
      '9.bias',
      '11.weight',
      '11.bias',
    ]);
    expect(j.parameters.reduce((s, p) => s + p.numel, 0)).toBe(j.totalParams);
    expect(
      'parameters' in JSON.parse((await cnncInProcess('summary', 'dsl-examples/lenet.cnn', '--json')).stdout),
    ).toBe(false);
  });
});
