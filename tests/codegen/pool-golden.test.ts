// Golden text of the pooling kernels, forward then backward. With PyTorch's default options they
// are the text from before the options existed (fixed-extent window loops, loop-free tiling
// backward); with options, the general path. Review a diff here like a code change; update with
// `npx vitest run tests/codegen -u`.
import { expect, it } from 'vitest';
import {
  avgpool2dBackward,
  avgpool2dForward,
  maxpool2dBackward,
  maxpool2dForward,
} from '../../compiler/codegen/kernels/pool.ts';
import type { OpAttrs } from '../../compiler/ir/ops.ts';
import { avgAttrs, maxAttrs } from '../helpers/pool.ts';

const origin = {
  phase: 'forward',
  sources: ['lenet.cnn:5:3  maxpool(3, stride = 2, padding = 1)'],
  ops: ['maxpool2d#7'],
} as const;

type Case = readonly [
  string,
  [number, number, number, number],
  { max: OpAttrs['maxpool2d'] } | { avg: OpAttrs['avgpool2d'] },
];

it.each<Case>([
  ['maxpool2d_3x3_s2_p1.wgsl', [2, 4, 9, 10], { max: maxAttrs([3, 3], [2, 2], [1, 1]) }],
  ['avgpool2d_2x2_s2.wgsl', [2, 6, 28, 28], { avg: avgAttrs([2, 2], [2, 2]) }],
  [
    'maxpool2d_3x3_s2_p1_d2_ceil.wgsl',
    [2, 4, 9, 10],
    { max: maxAttrs([3, 3], [2, 2], [1, 1], { dilation: [2, 2], ceilMode: true }) },
  ],
  [
    'avgpool2d_3x3_s2_p1_ceil_nopad.wgsl',
    [2, 4, 8, 10],
    { avg: avgAttrs([3, 3], [2, 2], [1, 1], { ceilMode: true, countIncludePad: false }) },
  ],
])('%s', async (golden, input, attrs) => {
  const kind = 'max' in attrs ? 'max' : 'avg';
  const spec = { name: `k_${kind}pool2d`, origin, input, attrs: 'max' in attrs ? attrs.max : attrs.avg };
  const grad = { ...spec, name: `${spec.name}_grad` };
  const [f, b] =
    kind === 'max'
      ? [maxpool2dForward(spec), maxpool2dBackward(grad)]
      : [avgpool2dForward(spec), avgpool2dBackward(grad)];
  await expect(`${f.wgsl}\n${b.wgsl}`).toMatchFileSnapshot(`__golden__/${golden}`);
});
