// The browser tests' ground: headless chromium gives a page on 127.0.0.1 a WebGPU device that runs
// a compute kernel (SwiftShader), so a failure in the playground or bundle tests is theirs.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Chromium, launchChromium } from './chromium.ts';

const PAGE = `<!doctype html><script type="module">
const adapter = await navigator.gpu.requestAdapter();
const device = await adapter.requestDevice();
const module = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> b: array<f32>;' +
  '@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) i: vec3u) { b[i.x] = f32(i.x) * 1.5; }' });
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const enc = device.createCommandEncoder();
const pass = enc.beginComputePass();
pass.setPipeline(pipeline);
pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
pass.dispatchWorkgroups(1);
pass.end();
enc.copyBufferToBuffer(buf, 0, read, 0, 16);
device.queue.submit([enc.finish()]);
await read.mapAsync(GPUMapMode.READ);
window.result = { values: [...new Float32Array(read.getMappedRange())], adapter: adapter.info.architecture };
</script>`;

let chromium: Chromium;
const server = createServer((_req, res) => {
  res.setHeader('content-type', 'text/html');
  res.end(PAGE);
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  server.close();
});

test('a page on 127.0.0.1 runs a WebGPU compute kernel in headless chromium', async () => {
  const { port } = server.address() as AddressInfo;
  const { page, errors } = await chromium.open(`http://127.0.0.1:${port}/`);
  await page.waitForFunction('window.result !== undefined', { timeout: 60_000 });
  const result = (await page.evaluate('window.result')) as { values: number[]; adapter: string };
  expect(errors).toEqual([]);
  expect(result.values).toEqual([0, 1.5, 3, 4.5]);
  expect(result.adapter).toBe('swiftshader');
});
