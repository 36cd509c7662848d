// How the tuner times a candidate's kernels (one, or a split-k GEMM's two, in order): GPU
// timestamps around each dispatch where the adapter has them (Dawn's quantisation is off:
// gpu/device.ts), else the wall clock around repeated dispatches in one submit. Buffers are made
// once per binding name and size and shared by the candidates of a site: values do not change
// the time, and each candidate's first run (lavapipe compiles a pipeline at its first dispatch)
// is not timed.
import type { KernelModule } from '../../compiler/codegen/kernel.ts';
import type { Gpu } from '../gpu/device.ts';
import { pipelineFor } from '../gpu/run-kernel.ts';
import { dispatch, type Encoded, timestampDispatches } from '../gpu/timestamps.ts';
import { awaitGpu } from '../gpu/wait.ts';

/** Timed runs after the first one that stays under the stop: the fastest counts (a shared machine's least disturbed). */
const RUNS = 5;
/** Wall clock: the sequence's dispatches per submit, so that the submit's own cost is spread. */
const WALL_CLOCK_REPEATS = 5;

export interface Timing {
  /** Milliseconds of one run of the kernels: the fastest timed run. */
  readonly ms: number;
  /** Stopped after one timed run: already slower than the caller's bound. */
  readonly stopped: boolean;
}

export class KernelTimer {
  private readonly buffers = new Map<string, GPUBuffer>();
  private readonly gpu: Gpu;

  constructor(gpu: Gpu) {
    this.gpu = gpu;
  }

  /** Times the kernels; stops after the first timed run where it already exceeds `stopAboveMs`. */
  async time(kernels: readonly KernelModule[], stopAboveMs = Infinity): Promise<Timing> {
    this.gpu.device.pushErrorScope('validation');
    const encoded = await this.encode(kernels);
    const error = await this.gpu.device.popErrorScope();
    if (error) throw new Error(`the kernels do not bind: ${error.message}`);
    await this.runOnce(encoded);
    let best = Infinity;
    for (let i = 0; i < RUNS; i++) {
      best = Math.min(best, await this.measure(encoded));
      if (i === 0 && best > stopAboveMs) return { ms: best, stopped: true };
    }
    return { ms: best, stopped: false };
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }

  private buffer(name: string, elements: number): GPUBuffer {
    const key = `${name}:${elements}`;
    let b = this.buffers.get(key);
    if (!b) {
      b = this.gpu.device.createBuffer({ size: Math.max(4, elements * 4), usage: GPUBufferUsage.STORAGE });
      this.buffers.set(key, b);
    }
    return b;
  }

  private async encode(kernels: readonly KernelModule[]): Promise<Encoded[]> {
    const pipelines = await Promise.all(kernels.map((k) => pipelineFor(this.gpu, k)));
    return kernels.map((k, i) => {
      const pipeline = pipelines[i]!;
      const bindGroup = this.gpu.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: k.bindings.map((b, j) => ({ binding: j, resource: { buffer: this.buffer(b.name, b.elements) } })),
      });
      return { pipeline, bindGroup, dispatch: k.dispatch };
    });
  }

  /** The untimed first run; throws where the driver refused the kernels (then their times would mean nothing). */
  private async runOnce(encoded: readonly Encoded[]): Promise<void> {
    const { device } = this.gpu;
    device.pushErrorScope('validation');
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (const k of encoded) dispatch(pass, k);
    pass.end();
    device.queue.submit([enc.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`the kernels do not run: ${error.message}`);
    await awaitGpu(() => device.queue.onSubmittedWorkDone());
  }

  /** Milliseconds of one run of the sequence. */
  private async measure(encoded: readonly Encoded[]): Promise<number> {
    return this.gpu.timestamps ? this.measureTimestamps(encoded) : this.measureWallClock(encoded);
  }

  private async measureTimestamps(encoded: readonly Encoded[]): Promise<number> {
    const ns = await timestampDispatches(this.gpu.device, encoded);
    return ns.reduce((a, b) => a + b, 0) / 1e6;
  }

  private async measureWallClock(encoded: readonly Encoded[]): Promise<number> {
    const { device } = this.gpu;
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let r = 0; r < WALL_CLOCK_REPEATS; r++) for (const k of encoded) dispatch(pass, k);
    pass.end();
    const start = performance.now();
    device.queue.submit([enc.finish()]);
    await awaitGpu(() => device.queue.onSubmittedWorkDone());
    return (performance.now() - start) / WALL_CLOCK_REPEATS;
  }
}
