// The runtime of a `cnnc export --web` bundle, bundled by esbuild into the bundle's index.js: it
// reads model.json (manifest.ts), checks the adapter's limits, creates the buffers and
// pipelines the manifest lists, copies weights.bin into them, and replays the kernel calls of cnnc's
// evaluation-mode forward pass, batch by batch. Its only dependency is WebGPU (`navigator.gpu`).
import { WEB_FORMAT, type WebLimits, type WebManifest, type WebRange } from './format.ts';
import { pipelineKey } from '../../../compiler/codegen/kernel.ts';
import { softmax } from '../../classes.ts';
import { BundleError } from './bundle-error.ts';
import { fnv1a } from './checksum.ts';
import { bundleReader, type ReadBundleFile } from './files.ts';

export { BundleError };

export interface WebModel {
  /** One sample's shape, e.g. [1, 28, 28]. */
  readonly inputShape: readonly number[];
  readonly classes: number;
  /** The batch the kernels were compiled for: predict runs ceil(n / batch) batches. */
  readonly batch: number;
  /** Softmax probabilities, `n x classes`, of the `n` samples of `x` (NCHW, float32). */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  /** Frees the GPU buffers and the device. */
  dispose(): void;
}

/**
 * Loads the bundle in directory `base` (default: the one this module, index.js, was loaded from):
 * a URL (relative ones resolve against the page), or under Node a path or file: URL, with
 * `globalThis.navigator.gpu` provided by the `webgpu` package.
 */
export async function load(base: string | URL = new URL('./', import.meta.url)): Promise<WebModel> {
  const read = await bundleReader(base);
  const manifest = await readManifest(read);
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu)
    throw new BundleError(
      'no WebGPU here: navigator.gpu is missing (a browser needs a secure context, http://127.0.0.1 or https; Node needs the webgpu package, see the README)',
    );
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new BundleError('no WebGPU adapter: navigator.gpu.requestAdapter() gave none');
  const device = await adapter.requestDevice(deviceRequest(adapter, manifest.limits));
  try {
    return await Runner.create(device, manifest, read);
  } catch (e) {
    device.destroy();
    throw e;
  }
}

async function readManifest(read: ReadBundleFile): Promise<WebManifest> {
  const text = new TextDecoder().decode(await read('model.json'));
  let manifest: WebManifest;
  try {
    manifest = JSON.parse(text) as WebManifest;
  } catch (e) {
    throw new BundleError(`model.json is not JSON: ${(e as Error).message}`);
  }
  if (manifest?.format !== WEB_FORMAT)
    throw new BundleError(`model.json: format ${String(manifest?.format)}, this loader reads ${WEB_FORMAT}`);
  return manifest;
}

/** The device to ask for: the limits the kernels need, refused up front where the adapter has less. */
function deviceRequest(adapter: GPUAdapter, need: WebLimits): GPUDeviceDescriptor {
  const { subgroupMinSize, ...limits } = need;
  const short = Object.entries(limits)
    .filter(([name, value]) => (adapter.limits[name as keyof GPUSupportedLimits] as number) < value)
    .map(([name, value]) => `${name} ${adapter.limits[name as keyof GPUSupportedLimits]} < ${value}`);
  const subgroups = subgroupMinSize > 0;
  if (subgroups && !(adapter.features.has('subgroups') && (adapter.info.subgroupMinSize ?? 0) >= subgroupMinSize))
    short.push(`subgroups of at least ${subgroupMinSize} lanes (export without --subgroups for any device)`);
  if (short.length > 0)
    throw new BundleError(
      `this WebGPU adapter cannot run the bundle's kernels: ${short.join(', ')} (a smaller --batch-size at export needs less memory)`,
    );
  return { requiredLimits: limits, requiredFeatures: subgroups ? ['subgroups'] : [] };
}

interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

class Runner implements WebModel {
  private readonly device: GPUDevice;
  private readonly manifest: WebManifest;
  private readonly buffers: readonly GPUBuffer[];
  private readonly dispatches: readonly Dispatch[];
  private readonly readback: GPUBuffer;
  private readonly perSample: number;
  /** predict calls run one after another: they share the input and output buffers. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    device: GPUDevice,
    manifest: WebManifest,
    buffers: readonly GPUBuffer[],
    dispatches: readonly Dispatch[],
    readback: GPUBuffer,
  ) {
    this.device = device;
    this.manifest = manifest;
    this.buffers = buffers;
    this.dispatches = dispatches;
    this.readback = readback;
    this.perSample = manifest.inputShape.reduce((a, b) => a * b, 1);
  }

  static async create(device: GPUDevice, manifest: WebManifest, read: ReadBundleFile): Promise<Runner> {
    // Every pipeline is requested at once: the driver compiles them in parallel while weights load.
    // Calls whose code differs only in its header comment (repeated layers) share one pipeline.
    const shared = new Map<string, Promise<GPUComputePipeline>>();
    const pipelines = Promise.all(
      manifest.kernels.map(async (k) => {
        const code = new TextDecoder().decode(await read(k.file));
        const key = pipelineKey(code);
        const p = shared.get(key) ?? pipeline(device, k.name, code);
        shared.set(key, p);
        return p;
      }),
    );
    const [compiled, weights] = await Promise.all([pipelines, readWeights(manifest, read)]);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const buffers = manifest.buffers.map(({ label, size }) => device.createBuffer({ size, usage, label }));
    for (const t of manifest.tensors)
      device.queue.writeBuffer(buffers[t.to.buffer]!, t.to.offset, weights, t.at, t.to.size);
    const dispatches = manifest.kernels.map((k, i) => ({
      pipeline: compiled[i]!,
      workgroups: k.workgroups,
      bindGroup: device.createBindGroup({
        label: k.name,
        layout: compiled[i]!.getBindGroupLayout(0),
        entries: k.bindings.map((b, binding) => ({ binding, resource: range(buffers, b) })),
      }),
    }));
    const readback = device.createBuffer({
      size: manifest.output.size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    return new Runner(device, manifest, buffers, dispatches, readback);
  }

  get inputShape(): readonly number[] {
    return this.manifest.inputShape;
  }

  get classes(): number {
    return this.manifest.classes;
  }

  get batch(): number {
    return this.manifest.batch;
  }

  predict(x: Float32Array, n: number): Promise<Float32Array> {
    if (!(x instanceof Float32Array)) throw new BundleError('predict(x, n): x must be a Float32Array');
    if (!Number.isInteger(n) || n < 1) throw new BundleError(`predict(x, n): n must be a whole number >= 1, got ${n}`);
    if (x.length !== n * this.perSample)
      throw new BundleError(
        `predict(x, n): x holds ${x.length} values, ${n} samples of [${this.inputShape.join(', ')}] are ${n * this.perSample}`,
      );
    const run = this.queue.then(() => this.run(x, n));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(x: Float32Array, n: number): Promise<Float32Array> {
    const { batch, classes } = this.manifest;
    const out = new Float32Array(n * classes);
    const chunk = new Float32Array(batch * this.perSample);
    for (let first = 0; first < n; first += batch) {
      const size = Math.min(batch, n - first);
      // The last batch is padded with zeros; their rows are dropped.
      chunk.fill(0).set(x.subarray(first * this.perSample, (first + size) * this.perSample));
      const logits = await this.forward(chunk);
      for (let i = 0; i < size; i++)
        out.set(softmax(logits.subarray(i * classes, (i + 1) * classes)), (first + i) * classes);
    }
    return out;
  }

  /** One batch through the kernels, one submit; the logits read back. */
  private async forward(x: Float32Array<ArrayBuffer>): Promise<Float32Array> {
    const { device, manifest } = this;
    const { input, output } = manifest;
    device.queue.writeBuffer(this.buffers[input.buffer]!, input.offset, x);
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const d of this.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
    pass.end();
    encoder.copyBufferToBuffer(this.buffers[output.buffer]!, output.offset, this.readback, 0, output.size);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new BundleError(`the GPU refused the forward pass: ${error.message}`);
    await this.readback.mapAsync(GPUMapMode.READ);
    const logits = new Float32Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return logits;
  }

  dispose(): void {
    for (const b of this.buffers) b.destroy();
    this.readback.destroy();
    this.device.destroy();
  }
}

/** weights.bin, checked against the manifest's size and checksum. */
async function readWeights(manifest: WebManifest, read: ReadBundleFile): Promise<Uint8Array<ArrayBuffer>> {
  const { file, bytes, checksum } = manifest.weights;
  const data = await read(file);
  if (data.length !== bytes)
    throw new BundleError(
      `${file}: ${data.length} bytes, model.json expects ${bytes} (truncated, or another export's)`,
    );
  const sum = fnv1a(data);
  if (sum !== checksum)
    throw new BundleError(`${file} is corrupt: checksum ${sum.toString(16)}, model.json says ${checksum.toString(16)}`);
  return data;
}

/** A compute pipeline from one WGSL file; a compile error names the kernel and the WGSL line. */
async function pipeline(device: GPUDevice, name: string, code: string): Promise<GPUComputePipeline> {
  // The scope (pushed and popped with no await between, so concurrent calls nest) keeps a WGSL
  // error out of the page's console: it is thrown here instead.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: name, code });
  const invalid = device.popErrorScope();
  try {
    return await device.createComputePipelineAsync({ label: name, layout: 'auto', compute: { module } });
  } catch (e) {
    const first = (await module.getCompilationInfo()).messages.find((m) => m.type === 'error');
    const why = first
      ? `${name}.wgsl:${first.lineNum}:${first.linePos}: ${first.message}`
      : ((await invalid)?.message ?? (e as Error).message);
    throw new BundleError(`kernel ${name}: ${why}`);
  }
}

function range(buffers: readonly GPUBuffer[], r: WebRange): GPUBufferBinding {
  return { buffer: buffers[r.buffer]!, offset: r.offset, size: r.size };
}
