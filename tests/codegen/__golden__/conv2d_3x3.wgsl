// kernel  k03_conv2d_bias_relu   (forward)
// source  lenet.cnn:4:3  conv(8, kernel = 3, padding = 1) relu
// fuses   conv2d#5, relu#6
// binds   @0 x[1536] r  @1 w[216] r  @2 b[8] r  @3 y[4096] rw
// grid    (4, 1, 1)  workgroup_size(32, 1, 1)

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

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let group = wid.x;
  let rb = group % 4u;
  let cb = 0u;
  let batch = 0u;
  let r0 = min(rb * 128u + lid.x, 511u);
  let xb0 = (r0 / (OH * OW) * C + batch * CG) * H * W;
  let iy0 = i32(r0 / OW % OH * SH) - PH; let ix0 = i32(r0 % OW * SW) - PW;
  let r1 = min(rb * 128u + 32u + lid.x, 511u);
  let xb1 = (r1 / (OH * OW) * C + batch * CG) * H * W;
  let iy1 = i32(r1 / OW % OH * SH) - PH; let ix1 = i32(r1 % OW * SW) - PW;
  let r2 = min(rb * 128u + 64u + lid.x, 511u);
  let xb2 = (r2 / (OH * OW) * C + batch * CG) * H * W;
  let iy2 = i32(r2 / OW % OH * SH) - PH; let ix2 = i32(r2 % OW * SW) - PW;
  let r3 = min(rb * 128u + 96u + lid.x, 511u);
  let xb3 = (r3 / (OH * OW) * C + batch * CG) * H * W;
  let iy3 = i32(r3 / OW % OH * SH) - PH; let ix3 = i32(r3 % OW * SW) - PW;
  let c0 = min(cb * 8u + 0u, 7u);
  let c1 = min(cb * 8u + 1u, 7u);
  let c2 = min(cb * 8u + 2u, 7u);
  let c3 = min(cb * 8u + 3u, 7u);
  let c4 = min(cb * 8u + 4u, 7u);
  let c5 = min(cb * 8u + 5u, 7u);
  let c6 = min(cb * 8u + 6u, 7u);
  let c7 = min(cb * 8u + 7u, 7u);
  var acc0_0 = 0.0; var acc0_1 = 0.0; var acc0_2 = 0.0; var acc0_3 = 0.0; var acc0_4 = 0.0; var acc0_5 = 0.0; var acc0_6 = 0.0; var acc0_7 = 0.0;
  var acc1_0 = 0.0; var acc1_1 = 0.0; var acc1_2 = 0.0; var acc1_3 = 0.0; var acc1_4 = 0.0; var acc1_5 = 0.0; var acc1_6 = 0.0; var acc1_7 = 0.0;
  var acc2_0 = 0.0; var acc2_1 = 0.0; var acc2_2 = 0.0; var acc2_3 = 0.0; var acc2_4 = 0.0; var acc2_5 = 0.0; var acc2_6 = 0.0; var acc2_7 = 0.0;
  var acc3_0 = 0.0; var acc3_1 = 0.0; var acc3_2 = 0.0; var acc3_3 = 0.0; var acc3_4 = 0.0; var acc3_5 = 0.0; var acc3_6 = 0.0; var acc3_7 = 0.0;
  for (var k = 0u; k < 27u; k++) {
    let ci = k / (KH * KW); let ky = i32(k / KW % KH * DH); let kx = i32(k % KW * DW);
    let p0 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + kx);
    let p1 = tap(xb1 + ci * H * W, iy1 + ky, ix1 + kx);
    let p2 = tap(xb2 + ci * H * W, iy2 + ky, ix2 + kx);
    let p3 = tap(xb3 + ci * H * W, iy3 + ky, ix3 + kx);
    let u0 = w[(batch * OG + c0) * CG * KH * KW + k];
    let u1 = w[(batch * OG + c1) * CG * KH * KW + k];
    let u2 = w[(batch * OG + c2) * CG * KH * KW + k];
    let u3 = w[(batch * OG + c3) * CG * KH * KW + k];
    let u4 = w[(batch * OG + c4) * CG * KH * KW + k];
    let u5 = w[(batch * OG + c5) * CG * KH * KW + k];
    let u6 = w[(batch * OG + c6) * CG * KH * KW + k];
    let u7 = w[(batch * OG + c7) * CG * KH * KW + k];
    acc0_0 += p0 * u0; acc0_1 += p0 * u1; acc0_2 += p0 * u2; acc0_3 += p0 * u3; acc0_4 += p0 * u4; acc0_5 += p0 * u5; acc0_6 += p0 * u6; acc0_7 += p0 * u7;
    acc1_0 += p1 * u0; acc1_1 += p1 * u1; acc1_2 += p1 * u2; acc1_3 += p1 * u3; acc1_4 += p1 * u4; acc1_5 += p1 * u5; acc1_6 += p1 * u6; acc1_7 += p1 * u7;
    acc2_0 += p2 * u0; acc2_1 += p2 * u1; acc2_2 += p2 * u2; acc2_3 += p2 * u3; acc2_4 += p2 * u4; acc2_5 += p2 * u5; acc2_6 += p2 * u6; acc2_7 += p2 * u7;
    acc3_0 += p3 * u0; acc3_1 += p3 * u1; acc3_2 += p3 * u2; acc3_3 += p3 * u3; acc3_4 += p3 * u4; acc3_5 += p3 * u5; acc3_6 += p3 * u6; acc3_7 += p3 * u7;
  }
  var tile = array<f32, 32>(acc0_0, acc0_1, acc0_2, acc0_3, acc0_4, acc0_5, acc0_6, acc0_7, acc1_0, acc1_1, acc1_2, acc1_3, acc1_4, acc1_5, acc1_6, acc1_7, acc2_0, acc2_1, acc2_2, acc2_3, acc2_4, acc2_5, acc2_6, acc2_7, acc3_0, acc3_1, acc3_2, acc3_3, acc3_4, acc3_5, acc3_6, acc3_7);
  for (var i = 0u; i < 4u; i++) {
    let row = rb * 128u + i * 32u + lid.x;
    if (row >= 512u) { break; }
    for (var j = 0u; j < 8u; j++) {
      let col = cb * 8u + j;
      { let pre = tile[i * 8u + j] + b[batch * OG + col]; y[(row / (OH * OW) * O + batch * OG + col) * OH * OW + row % (OH * OW)] = max(pre, 0.0); }
    }
  }
}
