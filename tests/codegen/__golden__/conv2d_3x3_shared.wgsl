// kernel  k03_conv2d_bias_relu   (forward)
// source  lenet.cnn:4:3  conv(8, kernel = 3, padding = 1) relu
// fuses   conv2d#5, relu#6
// binds   @0 x[1536] r  @1 w[216] r  @2 b[8] r  @3 y[4096] rw
// grid    (4, 1, 1)  workgroup_size(32, 1, 1)

enable subgroups;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
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
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let group = wid.x;
  let rb = group % 4u;
  let cb = 0u;
  let batch = 0u;
  let row0 = rb * 128u + lid.x;
  let r0 = min(row0, 511u);
  let xb0 = (r0 / (OH * OW) * C + batch * CG) * H * W;
  let iy0 = i32(r0 / OW % OH * SH) - PH; let ix0 = i32(r0 % OW * SW) - PW;
  let row1 = rb * 128u + 32u + lid.x;
  let r1 = min(row1, 511u);
  let xb1 = (r1 / (OH * OW) * C + batch * CG) * H * W;
  let iy1 = i32(r1 / OW % OH * SH) - PH; let ix1 = i32(r1 % OW * SW) - PW;
  let row2 = rb * 128u + 64u + lid.x;
  let r2 = min(row2, 511u);
  let xb2 = (r2 / (OH * OW) * C + batch * CG) * H * W;
  let iy2 = i32(r2 / OW % OH * SH) - PH; let ix2 = i32(r2 % OW * SW) - PW;
  let row3 = rb * 128u + 96u + lid.x;
  let r3 = min(row3, 511u);
  let xb3 = (r3 / (OH * OW) * C + batch * CG) * H * W;
  let iy3 = i32(r3 / OW % OH * SH) - PH; let ix3 = i32(r3 % OW * SW) - PW;
  let col0 = cb * 8u + 0u; let c0 = min(col0, 7u);
  let col1 = cb * 8u + 1u; let c1 = min(col1, 7u);
  let col2 = cb * 8u + 2u; let c2 = min(col2, 7u);
  let col3 = cb * 8u + 3u; let c3 = min(col3, 7u);
  let col4 = cb * 8u + 4u; let c4 = min(col4, 7u);
  let col5 = cb * 8u + 5u; let c5 = min(col5, 7u);
  let col6 = cb * 8u + 6u; let c6 = min(col6, 7u);
  let col7 = cb * 8u + 7u; let c7 = min(col7, 7u);
  var acc0_0 = 0.0; var acc0_1 = 0.0; var acc0_2 = 0.0; var acc0_3 = 0.0; var acc0_4 = 0.0; var acc0_5 = 0.0; var acc0_6 = 0.0; var acc0_7 = 0.0;
  var acc1_0 = 0.0; var acc1_1 = 0.0; var acc1_2 = 0.0; var acc1_3 = 0.0; var acc1_4 = 0.0; var acc1_5 = 0.0; var acc1_6 = 0.0; var acc1_7 = 0.0;
  var acc2_0 = 0.0; var acc2_1 = 0.0; var acc2_2 = 0.0; var acc2_3 = 0.0; var acc2_4 = 0.0; var acc2_5 = 0.0; var acc2_6 = 0.0; var acc2_7 = 0.0;
  var acc3_0 = 0.0; var acc3_1 = 0.0; var acc3_2 = 0.0; var acc3_3 = 0.0; var acc3_4 = 0.0; var acc3_5 = 0.0; var acc3_6 = 0.0; var acc3_7 = 0.0;
  let kEnd = 27u;
  for (var kb = 0u; kb < kEnd; kb += 8u) {
    let k = min(kb + sid % 8u, kEnd - 1u);
    let ci = k / (KH * KW); let ky = i32(k / KW % KH * DH); let kx = i32(k % KW * DW);
    let shared0 = w[(batch * OG + c0) * CG * KH * KW + k];
    let shared1 = w[(batch * OG + c1) * CG * KH * KW + k];
    let shared2 = w[(batch * OG + c2) * CG * KH * KW + k];
    let shared3 = w[(batch * OG + c3) * CG * KH * KW + k];
    let shared4 = w[(batch * OG + c4) * CG * KH * KW + k];
    let shared5 = w[(batch * OG + c5) * CG * KH * KW + k];
    let shared6 = w[(batch * OG + c6) * CG * KH * KW + k];
    let shared7 = w[(batch * OG + c7) * CG * KH * KW + k];
    for (var kk = 0u; kk < min(8u, kEnd - kb); kk++) {
      let k = kb + kk;
      let ci = k / (KH * KW); let ky = i32(k / KW % KH * DH); let kx = i32(k % KW * DW);
      let p0 = tap(xb0 + ci * H * W, iy0 + ky, ix0 + kx);
      let p1 = tap(xb1 + ci * H * W, iy1 + ky, ix1 + kx);
      let p2 = tap(xb2 + ci * H * W, iy2 + ky, ix2 + kx);
      let p3 = tap(xb3 + ci * H * W, iy3 + ky, ix3 + kx);
      let u0 = subgroupShuffle(shared0, kk);
      let u1 = subgroupShuffle(shared1, kk);
      let u2 = subgroupShuffle(shared2, kk);
      let u3 = subgroupShuffle(shared3, kk);
      let u4 = subgroupShuffle(shared4, kk);
      let u5 = subgroupShuffle(shared5, kk);
      let u6 = subgroupShuffle(shared6, kk);
      let u7 = subgroupShuffle(shared7, kk);
      acc0_0 += p0 * u0; acc0_1 += p0 * u1; acc0_2 += p0 * u2; acc0_3 += p0 * u3; acc0_4 += p0 * u4; acc0_5 += p0 * u5; acc0_6 += p0 * u6; acc0_7 += p0 * u7;
      acc1_0 += p1 * u0; acc1_1 += p1 * u1; acc1_2 += p1 * u2; acc1_3 += p1 * u3; acc1_4 += p1 * u4; acc1_5 += p1 * u5; acc1_6 += p1 * u6; acc1_7 += p1 * u7;
      acc2_0 += p2 * u0; acc2_1 += p2 * u1; acc2_2 += p2 * u2; acc2_3 += p2 * u3; acc2_4 += p2 * u4; acc2_5 += p2 * u5; acc2_6 += p2 * u6; acc2_7 += p2 * u7;
      acc3_0 += p3 * u0; acc3_1 += p3 * u1; acc3_2 += p3 * u2; acc3_3 += p3 * u3; acc3_4 += p3 * u4; acc3_5 += p3 * u5; acc3_6 += p3 * u6; acc3_7 += p3 * u7;
    }
  }
  let bias0 = b[batch * OG + c0];
  let bias1 = b[batch * OG + c1];
  let bias2 = b[batch * OG + c2];
  let bias3 = b[batch * OG + c3];
  let bias4 = b[batch * OG + c4];
  let bias5 = b[batch * OG + c5];
  let bias6 = b[batch * OG + c6];
  let bias7 = b[batch * OG + c7];
  if (row0 < 512u) {
    { let pre = acc0_0 + bias0; y[(row0 / (OH * OW) * O + batch * OG + col0) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_1 + bias1; y[(row0 / (OH * OW) * O + batch * OG + col1) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_2 + bias2; y[(row0 / (OH * OW) * O + batch * OG + col2) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_3 + bias3; y[(row0 / (OH * OW) * O + batch * OG + col3) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_4 + bias4; y[(row0 / (OH * OW) * O + batch * OG + col4) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_5 + bias5; y[(row0 / (OH * OW) * O + batch * OG + col5) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_6 + bias6; y[(row0 / (OH * OW) * O + batch * OG + col6) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc0_7 + bias7; y[(row0 / (OH * OW) * O + batch * OG + col7) * OH * OW + row0 % (OH * OW)] = max(pre, 0.0); }
  }
  if (row1 < 512u) {
    { let pre = acc1_0 + bias0; y[(row1 / (OH * OW) * O + batch * OG + col0) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_1 + bias1; y[(row1 / (OH * OW) * O + batch * OG + col1) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_2 + bias2; y[(row1 / (OH * OW) * O + batch * OG + col2) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_3 + bias3; y[(row1 / (OH * OW) * O + batch * OG + col3) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_4 + bias4; y[(row1 / (OH * OW) * O + batch * OG + col4) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_5 + bias5; y[(row1 / (OH * OW) * O + batch * OG + col5) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_6 + bias6; y[(row1 / (OH * OW) * O + batch * OG + col6) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc1_7 + bias7; y[(row1 / (OH * OW) * O + batch * OG + col7) * OH * OW + row1 % (OH * OW)] = max(pre, 0.0); }
  }
  if (row2 < 512u) {
    { let pre = acc2_0 + bias0; y[(row2 / (OH * OW) * O + batch * OG + col0) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_1 + bias1; y[(row2 / (OH * OW) * O + batch * OG + col1) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_2 + bias2; y[(row2 / (OH * OW) * O + batch * OG + col2) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_3 + bias3; y[(row2 / (OH * OW) * O + batch * OG + col3) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_4 + bias4; y[(row2 / (OH * OW) * O + batch * OG + col4) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_5 + bias5; y[(row2 / (OH * OW) * O + batch * OG + col5) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_6 + bias6; y[(row2 / (OH * OW) * O + batch * OG + col6) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc2_7 + bias7; y[(row2 / (OH * OW) * O + batch * OG + col7) * OH * OW + row2 % (OH * OW)] = max(pre, 0.0); }
  }
  if (row3 < 512u) {
    { let pre = acc3_0 + bias0; y[(row3 / (OH * OW) * O + batch * OG + col0) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_1 + bias1; y[(row3 / (OH * OW) * O + batch * OG + col1) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_2 + bias2; y[(row3 / (OH * OW) * O + batch * OG + col2) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_3 + bias3; y[(row3 / (OH * OW) * O + batch * OG + col3) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_4 + bias4; y[(row3 / (OH * OW) * O + batch * OG + col4) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_5 + bias5; y[(row3 / (OH * OW) * O + batch * OG + col5) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_6 + bias6; y[(row3 / (OH * OW) * O + batch * OG + col6) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
    { let pre = acc3_7 + bias7; y[(row3 / (OH * OW) * O + batch * OG + col7) * OH * OW + row3 % (OH * OW)] = max(pre, 0.0); }
  }
}
