// kernel  k03_conv2d_bias_relu   (forward)
// source  lenet.cnn:4:3  conv(8, kernel = 3, padding = 1) relu
// fuses   conv2d#5, relu#6
// binds   @0 x[1536] r  @1 w[216] r  @2 b[8] r  @3 y[4096] rw
// grid    (4, 1, 1)  workgroup_size(16, 1, 1)

enable subgroups;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const C = 3u; const H = 16u; const W = 16u;
const O = 8u; const OH = 16u; const OW = 16u;
const CG = 3u; const OG = 8u; const KH = 3u; const KW = 3u;
const SH = 1u; const SW = 1u; const DH = 1u; const DW = 1u;
const PH = 1i; const PW = 1i;
fn tap(base: u32, iy: i32, ix: i32) -> f32 {
  let inside = u32(iy) < H && u32(ix) < W;
  return select(0.0, x[select(0u, base + u32(iy) * W + u32(ix), inside)], inside);
}

@compute @workgroup_size(16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let group = wid.x;
  let rb = group % 4u;
  let cb = 0u;
  let batch = 0u;
  let r0 = min(rb * 128u + lid.x * 8u, 511u);
  let xb0 = (r0 / (OH * OW) * C + batch * CG) * H * W;
  let iy0 = i32(r0 / OW % OH * SH) - PH; let ix0 = i32(r0 % OW * SW) - PW;
  var acc0_0 = 0.0; var acc0_1 = 0.0; var acc0_2 = 0.0; var acc0_3 = 0.0; var acc0_4 = 0.0; var acc0_5 = 0.0; var acc0_6 = 0.0; var acc0_7 = 0.0;
  var acc1_0 = 0.0; var acc1_1 = 0.0; var acc1_2 = 0.0; var acc1_3 = 0.0; var acc1_4 = 0.0; var acc1_5 = 0.0; var acc1_6 = 0.0; var acc1_7 = 0.0;
  var acc2_0 = 0.0; var acc2_1 = 0.0; var acc2_2 = 0.0; var acc2_3 = 0.0; var acc2_4 = 0.0; var acc2_5 = 0.0; var acc2_6 = 0.0; var acc2_7 = 0.0;
  var acc3_0 = 0.0; var acc3_1 = 0.0; var acc3_2 = 0.0; var acc3_3 = 0.0; var acc3_4 = 0.0; var acc3_5 = 0.0; var acc3_6 = 0.0; var acc3_7 = 0.0;
  var acc4_0 = 0.0; var acc4_1 = 0.0; var acc4_2 = 0.0; var acc4_3 = 0.0; var acc4_4 = 0.0; var acc4_5 = 0.0; var acc4_6 = 0.0; var acc4_7 = 0.0;
  var acc5_0 = 0.0; var acc5_1 = 0.0; var acc5_2 = 0.0; var acc5_3 = 0.0; var acc5_4 = 0.0; var acc5_5 = 0.0; var acc5_6 = 0.0; var acc5_7 = 0.0;
  var acc6_0 = 0.0; var acc6_1 = 0.0; var acc6_2 = 0.0; var acc6_3 = 0.0; var acc6_4 = 0.0; var acc6_5 = 0.0; var acc6_6 = 0.0; var acc6_7 = 0.0;
  var acc7_0 = 0.0; var acc7_1 = 0.0; var acc7_2 = 0.0; var acc7_3 = 0.0; var acc7_4 = 0.0; var acc7_5 = 0.0; var acc7_6 = 0.0; var acc7_7 = 0.0;
  let f0 = min(0u + sid % 8u, 23u);
  let sc0 = min(cb * 8u + f0 / 3u, 7u); let ss0 = f0 % 3u;
  let f1 = min(8u + sid % 8u, 23u);
  let sc1 = min(cb * 8u + f1 / 3u, 7u); let ss1 = f1 % 3u;
  let f2 = min(16u + sid % 8u, 23u);
  let sc2 = min(cb * 8u + f2 / 3u, 7u); let ss2 = f2 % 3u;
  for (var g = 0u; g < 9u; g++) {
    let ci = g / KH; let ky = i32(g % KH * DH);
    let shared0 = w[(batch * OG + sc0) * CG * KH * KW + g * KW + ss0];
    let shared1 = w[(batch * OG + sc1) * CG * KH * KW + g * KW + ss1];
    let shared2 = w[(batch * OG + sc2) * CG * KH * KW + g * KW + ss2];
    let s0 = tap(xb0 + ci * H * W, iy0 + ky, ix0);
    let s1 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 1);
    let s2 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 2);
    let s3 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 3);
    let s4 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 4);
    let s5 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 5);
    let s6 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 6);
    let s7 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 7);
    let s8 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 8);
    let s9 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + 9);
    let u0_0 = subgroupShuffle(shared0, 0u);
    let u0_1 = subgroupShuffle(shared0, 3u);
    let u0_2 = subgroupShuffle(shared0, 6u);
    let u0_3 = subgroupShuffle(shared1, 1u);
    let u0_4 = subgroupShuffle(shared1, 4u);
    let u0_5 = subgroupShuffle(shared1, 7u);
    let u0_6 = subgroupShuffle(shared2, 2u);
    let u0_7 = subgroupShuffle(shared2, 5u);
    let u1_0 = subgroupShuffle(shared0, 1u);
    let u1_1 = subgroupShuffle(shared0, 4u);
    let u1_2 = subgroupShuffle(shared0, 7u);
    let u1_3 = subgroupShuffle(shared1, 2u);
    let u1_4 = subgroupShuffle(shared1, 5u);
    let u1_5 = subgroupShuffle(shared2, 0u);
    let u1_6 = subgroupShuffle(shared2, 3u);
    let u1_7 = subgroupShuffle(shared2, 6u);
    let u2_0 = subgroupShuffle(shared0, 2u);
    let u2_1 = subgroupShuffle(shared0, 5u);
    let u2_2 = subgroupShuffle(shared1, 0u);
    let u2_3 = subgroupShuffle(shared1, 3u);
    let u2_4 = subgroupShuffle(shared1, 6u);
    let u2_5 = subgroupShuffle(shared2, 1u);
    let u2_6 = subgroupShuffle(shared2, 4u);
    let u2_7 = subgroupShuffle(shared2, 7u);
    acc0_0 += s0 * u0_0; acc0_0 += s1 * u1_0; acc0_0 += s2 * u2_0;
    acc0_1 += s0 * u0_1; acc0_1 += s1 * u1_1; acc0_1 += s2 * u2_1;
    acc0_2 += s0 * u0_2; acc0_2 += s1 * u1_2; acc0_2 += s2 * u2_2;
    acc0_3 += s0 * u0_3; acc0_3 += s1 * u1_3; acc0_3 += s2 * u2_3;
    acc0_4 += s0 * u0_4; acc0_4 += s1 * u1_4; acc0_4 += s2 * u2_4;
    acc0_5 += s0 * u0_5; acc0_5 += s1 * u1_5; acc0_5 += s2 * u2_5;
    acc0_6 += s0 * u0_6; acc0_6 += s1 * u1_6; acc0_6 += s2 * u2_6;
    acc0_7 += s0 * u0_7; acc0_7 += s1 * u1_7; acc0_7 += s2 * u2_7;
    acc1_0 += s1 * u0_0; acc1_0 += s2 * u1_0; acc1_0 += s3 * u2_0;
    acc1_1 += s1 * u0_1; acc1_1 += s2 * u1_1; acc1_1 += s3 * u2_1;
    acc1_2 += s1 * u0_2; acc1_2 += s2 * u1_2; acc1_2 += s3 * u2_2;
    acc1_3 += s1 * u0_3; acc1_3 += s2 * u1_3; acc1_3 += s3 * u2_3;
    acc1_4 += s1 * u0_4; acc1_4 += s2 * u1_4; acc1_4 += s3 * u2_4;
    acc1_5 += s1 * u0_5; acc1_5 += s2 * u1_5; acc1_5 += s3 * u2_5;
    acc1_6 += s1 * u0_6; acc1_6 += s2 * u1_6; acc1_6 += s3 * u2_6;
    acc1_7 += s1 * u0_7; acc1_7 += s2 * u1_7; acc1_7 += s3 * u2_7;
    acc2_0 += s2 * u0_0; acc2_0 += s3 * u1_0; acc2_0 += s4 * u2_0;
    acc2_1 += s2 * u0_1; acc2_1 += s3 * u1_1; acc2_1 += s4 * u2_1;
    acc2_2 += s2 * u0_2; acc2_2 += s3 * u1_2; acc2_2 += s4 * u2_2;
    acc2_3 += s2 * u0_3; acc2_3 += s3 * u1_3; acc2_3 += s4 * u2_3;
    acc2_4 += s2 * u0_4; acc2_4 += s3 * u1_4; acc2_4 += s4 * u2_4;
    acc2_5 += s2 * u0_5; acc2_5 += s3 * u1_5; acc2_5 += s4 * u2_5;
    acc2_6 += s2 * u0_6; acc2_6 += s3 * u1_6; acc2_6 += s4 * u2_6;
    acc2_7 += s2 * u0_7; acc2_7 += s3 * u1_7; acc2_7 += s4 * u2_7;
    acc3_0 += s3 * u0_0; acc3_0 += s4 * u1_0; acc3_0 += s5 * u2_0;
    acc3_1 += s3 * u0_1; acc3_1 += s4 * u1_1; acc3_1 += s5 * u2_1;
    acc3_2 += s3 * u0_2; acc3_2 += s4 * u1_2; acc3_2 += s5 * u2_2;
    acc3_3 += s3 * u0_3; acc3_3 += s4 * u1_3; acc3_3 += s5 * u2_3;
    acc3_4 += s3 * u0_4; acc3_4 += s4 * u1_4; acc3_4 += s5 * u2_4;
    acc3_5 += s3 * u0_5; acc3_5 += s4 * u1_5; acc3_5 += s5 * u2_5;
    acc3_6 += s3 * u0_6; acc3_6 += s4 * u1_6; acc3_6 += s5 * u2_6;
    acc3_7 += s3 * u0_7; acc3_7 += s4 * u1_7; acc3_7 += s5 * u2_7;
    acc4_0 += s4 * u0_0; acc4_0 += s5 * u1_0; acc4_0 += s6 * u2_0;
    acc4_1 += s4 * u0_1; acc4_1 += s5 * u1_1; acc4_1 += s6 * u2_1;
    acc4_2 += s4 * u0_2; acc4_2 += s5 * u1_2; acc4_2 += s6 * u2_2;
    acc4_3 += s4 * u0_3; acc4_3 += s5 * u1_3; acc4_3 += s6 * u2_3;
    acc4_4 += s4 * u0_4; acc4_4 += s5 * u1_4; acc4_4 += s6 * u2_4;
    acc4_5 += s4 * u0_5; acc4_5 += s5 * u1_5; acc4_5 += s6 * u2_5;
    acc4_6 += s4 * u0_6; acc4_6 += s5 * u1_6; acc4_6 += s6 * u2_6;
    acc4_7 += s4 * u0_7; acc4_7 += s5 * u1_7; acc4_7 += s6 * u2_7;
    acc5_0 += s5 * u0_0; acc5_0 += s6 * u1_0; acc5_0 += s7 * u2_0;
    acc5_1 += s5 * u0_1; acc5_1 += s6 * u1_1; acc5_1 += s7 * u2_1;
    acc5_2 += s5 * u0_2; acc5_2 += s6 * u1_2; acc5_2 += s7 * u2_2;
    acc5_3 += s5 * u0_3; acc5_3 += s6 * u1_3; acc5_3 += s7 * u2_3;
    acc5_4 += s5 * u0_4; acc5_4 += s6 * u1_4; acc5_4 += s7 * u2_4;
    acc5_5 += s5 * u0_5; acc5_5 += s6 * u1_5; acc5_5 += s7 * u2_5;
    acc5_6 += s5 * u0_6; acc5_6 += s6 * u1_6; acc5_6 += s7 * u2_6;
    acc5_7 += s5 * u0_7; acc5_7 += s6 * u1_7; acc5_7 += s7 * u2_7;
    acc6_0 += s6 * u0_0; acc6_0 += s7 * u1_0; acc6_0 += s8 * u2_0;
    acc6_1 += s6 * u0_1; acc6_1 += s7 * u1_1; acc6_1 += s8 * u2_1;
    acc6_2 += s6 * u0_2; acc6_2 += s7 * u1_2; acc6_2 += s8 * u2_2;
    acc6_3 += s6 * u0_3; acc6_3 += s7 * u1_3; acc6_3 += s8 * u2_3;
    acc6_4 += s6 * u0_4; acc6_4 += s7 * u1_4; acc6_4 += s8 * u2_4;
    acc6_5 += s6 * u0_5; acc6_5 += s7 * u1_5; acc6_5 += s8 * u2_5;
    acc6_6 += s6 * u0_6; acc6_6 += s7 * u1_6; acc6_6 += s8 * u2_6;
    acc6_7 += s6 * u0_7; acc6_7 += s7 * u1_7; acc6_7 += s8 * u2_7;
    acc7_0 += s7 * u0_0; acc7_0 += s8 * u1_0; acc7_0 += s9 * u2_0;
    acc7_1 += s7 * u0_1; acc7_1 += s8 * u1_1; acc7_1 += s9 * u2_1;
    acc7_2 += s7 * u0_2; acc7_2 += s8 * u1_2; acc7_2 += s9 * u2_2;
    acc7_3 += s7 * u0_3; acc7_3 += s8 * u1_3; acc7_3 += s9 * u2_3;
    acc7_4 += s7 * u0_4; acc7_4 += s8 * u1_4; acc7_4 += s9 * u2_4;
    acc7_5 += s7 * u0_5; acc7_5 += s8 * u1_5; acc7_5 += s9 * u2_5;
    acc7_6 += s7 * u0_6; acc7_6 += s8 * u1_6; acc7_6 += s9 * u2_6;
    acc7_7 += s7 * u0_7; acc7_7 += s8 * u1_7; acc7_7 += s9 * u2_7;
  }
  var tile = array<f32, 64>(acc0_0, acc0_1, acc0_2, acc0_3, acc0_4, acc0_5, acc0_6, acc0_7, acc1_0, acc1_1, acc1_2, acc1_3, acc1_4, acc1_5, acc1_6, acc1_7, acc2_0, acc2_1, acc2_2, acc2_3, acc2_4, acc2_5, acc2_6, acc2_7, acc3_0, acc3_1, acc3_2, acc3_3, acc3_4, acc3_5, acc3_6, acc3_7, acc4_0, acc4_1, acc4_2, acc4_3, acc4_4, acc4_5, acc4_6, acc4_7, acc5_0, acc5_1, acc5_2, acc5_3, acc5_4, acc5_5, acc5_6, acc5_7, acc6_0, acc6_1, acc6_2, acc6_3, acc6_4, acc6_5, acc6_6, acc6_7, acc7_0, acc7_1, acc7_2, acc7_3, acc7_4, acc7_5, acc7_6, acc7_7);
  for (var i = 0u; i < 8u; i++) {
    let row = rb * 128u + lid.x * 8u + i;
    if (row >= 512u) { break; }
    for (var j = 0u; j < 8u; j++) {
      let col = cb * 8u + j;
      { let pre = tile[i * 8u + j] + b[batch * OG + col]; y[(row / (OH * OW) * O + batch * OG + col) * OH * OW + row % (OH * OW)] = max(pre, 0.0); }
    }
  }
}
