import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const nav = create([]);
const adapter = (await nav.requestAdapter())!;
const d = await adapter.requestDevice({ requiredFeatures: ['subgroups' as GPUFeatureName] });
const M = 16384, N = 16, K = 256;
function buf(n: number) { return d.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC }); }
const A = buf(M * K), B = buf(K * N), C = buf(M * N);
const av = new Float32Array(M * K).map(() => Math.random()), bv = new Float32Array(K * N).map(() => Math.random());
d.queue.writeBuffer(A, 0, av); d.queue.writeBuffer(B, 0, bv);
async function time(name: string, code: string, groups: number) {
  const m = d.createShaderModule({ code });
  const info = await m.getCompilationInfo();
  for (const e of info.messages) if (e.type === 'error') { console.log(name, e.message, e.lineNum, code.split('\n')[e.lineNum - 1]); return; }
  const p = await d.createComputePipelineAsync({ layout: 'auto', compute: { module: m, entryPoint: 'main' } });
  const bg = d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: A } }, { binding: 1, resource: { buffer: B } }, { binding: 2, resource: { buffer: C } }] });
  const run = async (reps: number) => { const e = d.createCommandEncoder(); const pass = e.beginComputePass(); pass.setPipeline(p); pass.setBindGroup(0, bg); for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(groups); pass.end(); d.queue.submit([e.finish()]); await d.queue.onSubmittedWorkDone(); };
  await run(1);
  let ms = 1e9; for (let r = 0; r < 7; r++) { const t = performance.now(); await run(5); ms = Math.min(ms, (performance.now() - t) / 5); }
  // check one entry
  const rb = d.createBuffer({ size: M * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const e = d.createCommandEncoder(); e.copyBufferToBuffer(C, 0, rb, 0, M * N * 4); d.queue.submit([e.finish()]); await rb.mapAsync(GPUMapMode.READ);
  const c = new Float32Array(rb.getMappedRange()); let err = 0;
  for (const [i, j] of [[0, 0], [M - 1, N - 1], [1234, 7], [77, 9]]) { let s = 0; for (let k = 0; k < K; k++) s += av[i * K + k]! * bv[j * K + k]!; err = Math.max(err, Math.abs(s - c[i * N + j]!)); }
  console.log(`${name.padEnd(30)} ${ms.toFixed(2)} ms  ${(2 * M * N * K / ms / 1e6).toFixed(2)} GFLOP/s  err ${err.toExponential(1)}`);
}
const L = 32;
function gemm(name: string, shared: boolean, rows: number, cols: number, unroll = false) {
  const groups = (M / (rows * L)) * (N / cols);
  let s = shared ? 'enable subgroups;\n' : '';
  s += `@group(0) @binding(0) var<storage, read> a: array<f32>;\n@group(0) @binding(1) var<storage, read> b: array<f32>;\n@group(0) @binding(2) var<storage, read_write> c: array<f32>;\n`;
  s += `@compute @workgroup_size(${L}) fn main(@builtin(workgroup_id) g: vec3u, @builtin(local_invocation_id) l: vec3u${shared ? ', @builtin(subgroup_invocation_id) sid: u32' : ''}) {\n`;
  const rb = M / (rows * L);
  s += `let rb = g.x % ${rb}u; let cb = g.x / ${rb}u;\n`;
  for (let i = 0; i < rows; i++) s += `let r${i} = rb * ${rows * L}u + ${i * L}u + l.x;\n`;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s += `var acc${i}_${j} = 0.0;\n`;
  if (!shared) {
    s += `for (var k = 0u; k < ${K}u; k++) {\n`;
    for (let i = 0; i < rows; i++) s += `let p${i} = a[r${i} * ${K}u + k];\n`;
    for (let j = 0; j < cols; j++) s += `let u${j} = b[(cb * ${cols}u + ${j}u) * ${K}u + k];\n`;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s += `acc${i}_${j} += p${i} * u${j};\n`;
    s += `}\n`;
  } else {
    s += `let lane = sid % 8u;\n`;
    s += `for (var k0 = 0u; k0 < ${K}u; k0 += 8u) {\n`;
    for (let j = 0; j < cols; j++) s += `let v${j} = b[(cb * ${cols}u + ${j}u) * ${K}u + k0 + lane];\n`;
    if (unroll) {
      for (let kk = 0; kk < 8; kk++) {
        s += `{ let k = k0 + ${kk}u;\n`;
        for (let i = 0; i < rows; i++) s += `let p${i} = a[r${i} * ${K}u + k];\n`;
        for (let j = 0; j < cols; j++) s += `let u${j} = subgroupBroadcast(v${j}, ${kk}u);\n`;
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s += `acc${i}_${j} += p${i} * u${j};\n`;
        s += `}\n`;
      }
      s += `}\n`;
    } else {
    s += `for (var kk = 0u; kk < 8u; kk++) {\n let k = k0 + kk;\n`;
    for (let i = 0; i < rows; i++) s += `let p${i} = a[r${i} * ${K}u + k];\n`;
    for (let j = 0; j < cols; j++) s += `let u${j} = subgroupShuffle(v${j}, kk);\n`;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s += `acc${i}_${j} += p${i} * u${j};\n`;
    s += `}\n}\n`;
    }
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s += `c[r${i} * ${N}u + cb * ${cols}u + ${j}u] = acc${i}_${j};\n`;
  s += `}\n`;
  return [name, s, groups] as const;
}
for (const [n, s, g] of [
  gemm('plain r8 c16', false, 8, 16),
  gemm('shuffle r8 c16', true, 8, 16),
  gemm('bcast-unrolled r8 c16', true, 8, 16, true),
  gemm('bcast-unrolled r4 c8', true, 4, 8, true),
  gemm('bcast-unrolled r4 c16', true, 4, 16, true),
  gemm('plain r4 c16', false, 4, 16),
  gemm('plain r8 c8', false, 8, 8),
  gemm('shuffle r8 c16', true, 8, 16),
  gemm('bcast-unrolled r8 c16', true, 8, 16, true),
  gemm('plain r8 c16', false, 8, 16),
]) await time(n, s, g);
process.exit(0);
