// Convolution input gradient (dgrad) as an implicit GEMM: per group, rows = input pixels (n, y, x)
// of N*H*W, columns = that group's C/g input channels, k = (o, ky, kx) of (O/g)*KH*KW, and
//   dx[n, c, y, x] = sum of dy[n, o, oy, ox] * w[o, c, ky, kx] over the taps with
//   y + PH = oy * SH + ky * DH and x + PW = ox * SW + kx * DW (the forward's index map, inverted).
import { type Epilogue, epilogueBindings, epilogueDecls, epilogueStore } from '../epilogue.ts';
import { readBinding, writeBinding } from '../indexing.ts';
import type { KernelModule } from '../kernel.ts';
import { wgsl } from '../writer.ts';
import { type ConvSpec, convConsts, convGeometry } from './conv2d.ts';
import { chooseTile, gemmKernel } from './matmul-core.ts';

export interface Conv2dGradInputSpec extends ConvSpec {
  /** Binding names, defaulting to dy, w, dx. */
  readonly names?: Partial<Record<'dy' | 'w' | 'dx', string>>;
  /** Applied to each dx before it is stored: a fused activation gradient. */
  readonly epilogue?: Epilogue;
}

export function conv2dGradInputKernel(s: Conv2dGradInputSpec): KernelModule {
  const g = convGeometry(s);
  const [dy, w, dx] = [s.names?.dy ?? 'dy', s.names?.w ?? 'w', s.names?.dx ?? 'dx'];
  const rows = g.n * g.h * g.w;
  // `grad(base, ty, tx)`: the dy element a tap at padded offset (ty, tx) came from. Only offsets
  // on the stride grid inside the output were read by the forward; the rest contribute 0
  // (negative offsets wrap to huge u32s and fail the range check).
  const gradHelper = wgsl`
    fn grad(base: u32, ty: i32, tx: i32) -> f32 {
      let oy = u32(ty) / SH; let ox = u32(tx) / SW;
      let hit = oy < OH && ox < OW && oy * SH == u32(ty) && ox * SW == u32(tx);
      return select(0.0, ${dy}[select(0u, base + oy * OW + ox, hit)], hit);
    }`;
  return gemmKernel({
    name: s.name,
    origin: s.origin,
    inputs: [readBinding(dy, g.n * g.o * g.oh * g.ow), readBinding(w, g.o * g.cg * g.kh * g.kw)],
    outputs: [writeBinding(dx, g.n * g.c * g.h * g.w), ...epilogueBindings(s.epilogue, g.n * g.c * g.h * g.w, g.c)],
    rows,
    cols: g.cg,
    depth: g.og * g.kh * g.kw,
    batches: g.groups,
    tile: s.tile ?? chooseTile(rows, g.cg, g.groups, { shareU: s.subgroups ?? false }),
    consts: convConsts(s, g),
    decls: [gradHelper, epilogueDecls(s.epilogue)].filter((d) => d).join('\n'),
    // Row r = (n, y, x): the image's group channels of dy start at gb; (py, px) is the padded position.
    rowSetup: (i) => wgsl`
      let gb${i} = (r${i} / (H * W) * O + batch * OG) * OH * OW;
      let py${i} = i32(r${i} / W % H) + PH; let px${i} = i32(r${i} % W) + PW;`,
    kSetup: 'let oc = k / (KH * KW); let ky = k / KW % KH; let kx = k % KW;',
    laneLoad: (i) => `grad(gb${i} + oc * OH * OW, py${i} - i32(ky * DH), px${i} - i32(kx * DW))`,
    uniformLoad: (j) => `${w}[((batch * OG + oc) * CG + c${j}) * KH * KW + ky * KW + kx]`,
    store: (row, col, v) => epilogueStore(dx, `(${row} / (H * W) * C + batch * CG + ${col}) * H * W + ${row} % (H * W)`, v, s.epilogue, `batch * CG + ${col}`),
  });
}
