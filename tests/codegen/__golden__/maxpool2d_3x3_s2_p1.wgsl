// kernel  k_maxpool2d   (forward)
// source  lenet.cnn:5:3  maxpool(3, stride = 2, padding = 1)
// fuses   maxpool2d#7
// binds   @0 x[720] r  @1 y[200] rw  @2 argmax[200]:i32 rw
// grid    (1, 1, 1)  workgroup_size(64, 1, 1)

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<i32>;

const H: i32 = 9;
const W: i32 = 10;
const OH: i32 = 5;
const OW: i32 = 5;

struct Win { lo: i32, hi: i32, extent: i32 }

fn window_h(o: i32) -> Win {
  let start = o * 2 - 1;
  let end = min(start + 3, 10);
  return Win(max(start, 0), min(end, 9), end - start);
}

fn cover_h(i: i32) -> vec2i {
  let a = i - 1;
  let first = select(0, (a + 1) / 2, a > 0);
  return vec2i(first, min((i + 1) / 2, 4));
}

fn window_w(o: i32) -> Win {
  let start = o * 2 - 1;
  let end = min(start + 3, 11);
  return Win(max(start, 0), min(end, 10), end - start);
}

fn cover_w(i: i32) -> vec2i {
  let a = i - 1;
  let first = select(0, (a + 1) / 2, a > 0);
  return vec2i(first, min((i + 1) / 2, 4));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x;
  let i = group * 64u + lid;
  if (i >= 40u) {
    return;
  }
  let i0 = i * 5u;
  let ox0 = i32(i0 % 5u);
  let oy = i32((i0 / 5u) % 5u);
  let base = (i0 / 25u) * 90u;
  let r = window_h(oy);
  {
    let i = i0;
    let q = window_w(ox0);
    var best = x[base + u32(r.lo * W + q.lo)];
    var arg = r.lo * W + q.lo;
    for (var yy = r.lo; yy < r.hi; yy++) {
      for (var xx = q.lo; xx < q.hi; xx++) {
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        if (v > best) {
          best = v;
          arg = t;
        }
      }
    }
    y[i] = best;
    argmax[i] = arg;
  }
  {
    let i = i0 + 1u;
    let q = window_w(ox0 + 1);
    var best = x[base + u32(r.lo * W + q.lo)];
    var arg = r.lo * W + q.lo;
    for (var yy = r.lo; yy < r.hi; yy++) {
      for (var xx = q.lo; xx < q.hi; xx++) {
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        if (v > best) {
          best = v;
          arg = t;
        }
      }
    }
    y[i] = best;
    argmax[i] = arg;
  }
  {
    let i = i0 + 2u;
    let q = window_w(ox0 + 2);
    var best = x[base + u32(r.lo * W + q.lo)];
    var arg = r.lo * W + q.lo;
    for (var yy = r.lo; yy < r.hi; yy++) {
      for (var xx = q.lo; xx < q.hi; xx++) {
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        if (v > best) {
          best = v;
          arg = t;
        }
      }
    }
    y[i] = best;
    argmax[i] = arg;
  }
  {
    let i = i0 + 3u;
    let q = window_w(ox0 + 3);
    var best = x[base + u32(r.lo * W + q.lo)];
    var arg = r.lo * W + q.lo;
    for (var yy = r.lo; yy < r.hi; yy++) {
      for (var xx = q.lo; xx < q.hi; xx++) {
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        if (v > best) {
          best = v;
          arg = t;
        }
      }
    }
    y[i] = best;
    argmax[i] = arg;
  }
  {
    let i = i0 + 4u;
    let q = window_w(ox0 + 4);
    var best = x[base + u32(r.lo * W + q.lo)];
    var arg = r.lo * W + q.lo;
    for (var yy = r.lo; yy < r.hi; yy++) {
      for (var xx = q.lo; xx < q.hi; xx++) {
        let t = yy * W + xx;
        let v = x[base + u32(t)];
        if (v > best) {
          best = v;
          arg = t;
        }
      }
    }
    y[i] = best;
    argmax[i] = arg;
  }
}

// kernel  k_maxpool2d_grad   (forward)
// source  lenet.cnn:5:3  maxpool(3, stride = 2, padding = 1)
// fuses   maxpool2d#7
// binds   @0 argmax[200]:i32 r  @1 dy[200] r  @2 dx[720] rw
// grid    (3, 1, 1)  workgroup_size(64, 1, 1)

@group(0) @binding(0) var<storage, read> argmax: array<i32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

const H: i32 = 9;
const W: i32 = 10;
const OH: i32 = 5;
const OW: i32 = 5;

struct Win { lo: i32, hi: i32, extent: i32 }

fn window_h(o: i32) -> Win {
  let start = o * 2 - 1;
  let end = min(start + 3, 10);
  return Win(max(start, 0), min(end, 9), end - start);
}

fn cover_h(i: i32) -> vec2i {
  let a = i - 1;
  let first = select(0, (a + 1) / 2, a > 0);
  return vec2i(first, min((i + 1) / 2, 4));
}

fn window_w(o: i32) -> Win {
  let start = o * 2 - 1;
  let end = min(start + 3, 11);
  return Win(max(start, 0), min(end, 10), end - start);
}

fn cover_w(i: i32) -> vec2i {
  let a = i - 1;
  let first = select(0, (a + 1) / 2, a > 0);
  return vec2i(first, min((i + 1) / 2, 4));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x;
  let i = group * 64u + lid;
  if (i >= 144u) {
    return;
  }
  let i0 = i * 5u;
  let ix0 = i32(i0 % 10u);
  let iy = i32((i0 / 10u) % 9u);
  let base = (i0 / 90u) * 25u;
  let rows = cover_h(iy);
  {
    let i = i0;
    let ix = ix0;
    let cols = cover_w(ix);
    var g = 0.0;
    for (var oy = rows.x; oy <= rows.y; oy++) {
      for (var ox = cols.x; ox <= cols.y; ox++) {
        let o = base + u32(oy * OW + ox);
        if (argmax[o] == iy * W + ix) {
          g += dy[o];
        }
      }
    }
    dx[i] = g;
  }
  {
    let i = i0 + 1u;
    let ix = ix0 + 1;
    let cols = cover_w(ix);
    var g = 0.0;
    for (var oy = rows.x; oy <= rows.y; oy++) {
      for (var ox = cols.x; ox <= cols.y; ox++) {
        let o = base + u32(oy * OW + ox);
        if (argmax[o] == iy * W + ix) {
          g += dy[o];
        }
      }
    }
    dx[i] = g;
  }
  {
    let i = i0 + 2u;
    let ix = ix0 + 2;
    let cols = cover_w(ix);
    var g = 0.0;
    for (var oy = rows.x; oy <= rows.y; oy++) {
      for (var ox = cols.x; ox <= cols.y; ox++) {
        let o = base + u32(oy * OW + ox);
        if (argmax[o] == iy * W + ix) {
          g += dy[o];
        }
      }
    }
    dx[i] = g;
  }
  {
    let i = i0 + 3u;
    let ix = ix0 + 3;
    let cols = cover_w(ix);
    var g = 0.0;
    for (var oy = rows.x; oy <= rows.y; oy++) {
      for (var ox = cols.x; ox <= cols.y; ox++) {
        let o = base + u32(oy * OW + ox);
        if (argmax[o] == iy * W + ix) {
          g += dy[o];
        }
      }
    }
    dx[i] = g;
  }
  {
    let i = i0 + 4u;
    let ix = ix0 + 4;
    let cols = cover_w(ix);
    var g = 0.0;
    for (var oy = rows.x; oy <= rows.y; oy++) {
      for (var ox = cols.x; ox <= cols.y; ox++) {
        let o = base + u32(oy * OW + ox);
        if (argmax[o] == iy * W + ix) {
          g += dy[o];
        }
      }
    }
    dx[i] = g;
  }
}
