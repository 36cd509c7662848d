// kernel  k_avgpool2d   (forward)
// source  lenet.cnn:5:3  maxpool(3, stride = 2, padding = 1)
// fuses   maxpool2d#7
// binds   @0 x[9408] r  @1 y[2352] rw
// grid    (6, 1, 1)  workgroup_size(64, 1, 1)

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

const H: i32 = 28;
const W: i32 = 28;
const OH: i32 = 14;
const OW: i32 = 14;

struct Win { lo: i32, hi: i32, extent: i32 }

fn window_h(o: i32) -> Win {
  let start = o * 2;
  let end = min(start + 2, 28);
  return Win(max(start, 0), min(end, 28), end - start);
}

fn cover_h(i: i32) -> vec2i {
  let o = i32(u32(i) / 2u);
  return vec2i(o, min(o, 13));
}

fn window_w(o: i32) -> Win {
  let start = o * 2;
  let end = min(start + 2, 28);
  return Win(max(start, 0), min(end, 28), end - start);
}

fn cover_w(i: i32) -> vec2i {
  let o = i32(u32(i) / 2u);
  return vec2i(o, min(o, 13));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x;
  let i = group * 64u + lid;
  if (i >= 336u) {
    return;
  }
  let i0 = i * 7u;
  let ox0 = i32(i0 % 14u);
  let oy = i32((i0 / 14u) % 14u);
  let base = (i0 / 196u) * 784u;
  let r = window_h(oy);
  {
    let i = i0;
    let q = window_w(ox0);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
  {
    let i = i0 + 1u;
    let q = window_w(ox0 + 1);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
  {
    let i = i0 + 2u;
    let q = window_w(ox0 + 2);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
  {
    let i = i0 + 3u;
    let q = window_w(ox0 + 3);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
  {
    let i = i0 + 4u;
    let q = window_w(ox0 + 4);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
  {
    let i = i0 + 5u;
    let q = window_w(ox0 + 5);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
  {
    let i = i0 + 6u;
    let q = window_w(ox0 + 6);
    var sum = 0.0;
    for (var dyy = 0; dyy < 2; dyy++) {
      let yy = r.lo + dyy;
      for (var dxx = 0; dxx < 2; dxx++) {
        let xx = q.lo + dxx;
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        sum += v;
      }
    }
    y[i] = sum / f32(r.extent * q.extent);
  }
}

// kernel  k_avgpool2d_grad   (forward)
// source  lenet.cnn:5:3  maxpool(3, stride = 2, padding = 1)
// fuses   maxpool2d#7
// binds   @0 dy[2352] r  @1 dx[9408] rw
// grid    (37, 1, 1)  workgroup_size(64, 1, 1)

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;

const H: i32 = 28;
const W: i32 = 28;
const OH: i32 = 14;
const OW: i32 = 14;

struct Win { lo: i32, hi: i32, extent: i32 }

fn window_h(o: i32) -> Win {
  let start = o * 2;
  let end = min(start + 2, 28);
  return Win(max(start, 0), min(end, 28), end - start);
}

fn cover_h(i: i32) -> vec2i {
  let o = i32(u32(i) / 2u);
  return vec2i(o, min(o, 13));
}

fn window_w(o: i32) -> Win {
  let start = o * 2;
  let end = min(start + 2, 28);
  return Win(max(start, 0), min(end, 28), end - start);
}

fn cover_w(i: i32) -> vec2i {
  let o = i32(u32(i) / 2u);
  return vec2i(o, min(o, 13));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x;
  let i = group * 64u + lid;
  if (i >= 2352u) {
    return;
  }
  let i0 = i * 4u;
  let ix0 = i32(i0 % 28u);
  let iy = i32((i0 / 28u) % 28u);
  let base = (i0 / 784u) * 196u;
  let rows = cover_h(iy);
  {
    let ox = ix0 / 2;
    var g0 = 0.0; var g1 = 0.0;
    if (rows.x <= rows.y) {
      let oy = rows.x;
      let o = base + u32(oy * OW + ox);
      let d = dy[o];
      g0 += d / f32(2 * 2);
      g1 += d / f32(2 * 2);
    }
    dx[i0] = g0;
    dx[i0 + 1u] = g1;
  }
  {
    let ox = ix0 / 2 + 1;
    var g2 = 0.0; var g3 = 0.0;
    if (rows.x <= rows.y) {
      let oy = rows.x;
      let o = base + u32(oy * OW + ox);
      let d = dy[o];
      g2 += d / f32(2 * 2);
      g3 += d / f32(2 * 2);
    }
    dx[i0 + 2u] = g2;
    dx[i0 + 3u] = g3;
  }
}
