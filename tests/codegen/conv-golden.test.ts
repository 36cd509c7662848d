// Golden text of one generated conv kernel: a 3x3, pad 1, bias + fused relu forward conv. Review
// a diff here like a code change; update with `npx vitest run tests/codegen -u`.
import { expect, it } from 'vitest';
import { forwardEpilogue } from '../../compiler/codegen/epilogue.ts';
import { conv2dKernel } from '../../compiler/codegen/kernels/conv2d.ts';

// Plain loads (any device), weight loads shared through subgroups (devices with subgroups of 8+),
// and shared loads with rows in runs (a lane computes 8 neighbouring pixels of an output row).
it.each([
  ['conv2d_3x3.wgsl', false, false],
  ['conv2d_3x3_shared.wgsl', true, false],
  ['conv2d_3x3_runs.wgsl', true, true],
])('conv2d 3x3 pad 1 + bias + relu WGSL is stable: %s', async (golden, subgroups, runs) => {
  const k = conv2dKernel({
    name: 'k03_conv2d_bias_relu',
    origin: {
      phase: 'forward',
      sources: ['lenet.cnn:4:3  conv(8, kernel = 3, padding = 1) relu'],
      ops: ['conv2d#5', 'relu#6'],
    },
    input: [2, 3, 16, 16],
    attrs: { outChannels: 8, kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, bias: true },
    epilogue: forwardEpilogue(undefined, { fn: 'relu', slope: 0 })!,
    subgroups,
    runs,
  });
  await expect(k.wgsl).toMatchFileSnapshot(`__golden__/${golden}`);
});
