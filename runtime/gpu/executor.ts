// Runs lowered kernel calls over the memory plan: one GPU buffer per arena, pipelines and bind
// groups made once up front, and each pass (forward, evaluate, train step) encoded into a single
// command buffer with one submit. Nothing is read back unless asked.
import { PASSES, type Arena, type PassName, type StepProgram, type TensorId } from '../../compiler/autodiff/step-ir.ts';
import type { OptimizerConfig } from '../../compiler/ir/recipe.ts';
import type { KernelCall } from '../../compiler/codegen/lower/context.ts';
import { placementOf } from '../../compiler/codegen/access.ts';
import { stepWords } from '../../compiler/codegen/kernels/optimizer.ts';
import { arenaBanks, type MemoryPlan, type Placement } from '../../compiler/plan/allocate.ts';
import type { Gpu } from './device.ts';
import { pipelineFor } from './run-kernel.ts';
import { dispatch, type Encoded, timestampDispatches } from './timestamps.ts';
import { awaitGpu } from './wait.ts';

/** Training steps whose losses stay readable after the fact (a ring of one f32 per step). */
export const LOSS_HISTORY = 65536;

/** What two executors of one model at different batch sizes share: weights, their state, running totals. */
const sharedArenas: readonly Arena[] = ['param', 'grad', 'state1', 'state2', 'stats', 'metric'];

export class Executor {
  private readonly gpu: Gpu;
  private readonly program: StepProgram;
  private readonly plan: MemoryPlan;
  /** Each arena's buffers, by bank: `work`'s and `param`'s (with its mirrors) as the plan banks them, one for the others. */
  private readonly arenas = new Map<Arena, GPUBuffer[]>();
  /** The per-step words (`stepWords`): seed, step and the optimizer's host-computed factors. */
  private readonly stepParams: GPUBuffer;
  private readonly optimizer: OptimizerConfig | null;
  /** Slot `step % LOSS_HISTORY` holds that training step's loss: finds the step a NaN appeared at. */
  private readonly lossHistory: GPUBuffer;
  /** Shared by every kernel that needs temporary storage: dispatches in a pass run in order. */
  private scratch: GPUBuffer | null = null;
  /** The first GPU error of a submitted pass; raised at the next readback (passes never wait). */
  private failure: Promise<Error | null> = Promise.resolve(null);
  private readonly calls: Readonly<Record<PassName, readonly KernelCall[]>>;
  /** The passes ready to run, and those being made ready (`prepare`). */
  private readonly passes = new Map<PassName, Encoded[]>();
  private readonly preparing = new Map<PassName, Promise<void>>();

  /** Arenas borrowed from another executor (not destroyed by this one). */
  private readonly borrowed = new Set<Arena>();

  private constructor(
    gpu: Gpu,
    program: StepProgram,
    plan: MemoryPlan,
    calls: Readonly<Record<PassName, readonly KernelCall[]>>,
    share: Executor | null,
  ) {
    this.gpu = gpu;
    this.program = program;
    this.plan = plan;
    this.calls = calls;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    for (const arena of Object.keys(plan.arenas) as Arena[]) {
      const banks = arenaBanks(plan, arena);
      if (share && sharedArenas.includes(arena)) {
        if (arenaBanks(share.plan, arena).join() !== banks.join())
          throw new Error(`internal: shared arena ${arena} differs in size`);
        this.arenas.set(arena, share.arenas.get(arena)!);
        this.borrowed.add(arena);
        continue;
      }
      // Buffers start zeroed (WebGPU guarantees it): optimizer state and counters need no init.
      this.arenas.set(
        arena,
        banks.map((size, bank) =>
          gpu.device.createBuffer({ size: Math.max(256, size * 4), usage, label: `arena ${arena}#${bank}` }),
        ),
      );
    }
    this.stepParams = gpu.device.createBuffer({ size: 16, usage, label: 'step params' });
    const update = program.train.find((op) => op.op === 'update');
    this.optimizer = update?.op === 'update' ? update.optimizer : null;
    this.lossHistory =
      share?.lossHistory ?? gpu.device.createBuffer({ size: LOSS_HISTORY * 4, usage, label: 'loss history' });
  }

  /**
   * Compiles the pipelines of `passes` (default all), all at once (Dawn spreads them over the cores,
   * faster than one at a time; measurements: bench/NOTES.md), then their bind groups; `prepare`
   * adds the other passes when they are first needed (a sibling for a short batch runs one pass).
   * `share`: another executor of the same model (another batch size) whose weights this one uses.
   * `meanwhile` runs once the buffers exist and the pipelines are compiling on Dawn's threads: the
   * main thread's own set-up (drawing the initial weights: ResNet-18 has 11M) overlaps them.
   */
  static async create(
    gpu: Gpu,
    program: StepProgram,
    plan: MemoryPlan,
    calls: Readonly<Record<PassName, readonly KernelCall[]>>,
    share: Executor | null = null,
    meanwhile: (ex: Executor) => void = () => undefined,
    passes: readonly PassName[] = PASSES,
  ): Promise<Executor> {
    const ex = new Executor(gpu, program, plan, calls, share);
    const scratch = Math.max(
      0,
      ...Object.values(calls).flatMap((cs) =>
        cs.flatMap((c) => Object.values(c.args).map((a) => (a.kind === 'scratch' ? a.elements : 0))),
      ),
    );
    if (scratch > 0)
      ex.scratch = gpu.device.createBuffer({ size: scratch * 4, usage: GPUBufferUsage.STORAGE, label: 'scratch' });
    const pipelines = Promise.all(passes.flatMap((name) => calls[name].map((c) => pipelineFor(gpu, c.kernel))));
    try {
      meanwhile(ex);
    } finally {
      await awaitGpu(() => pipelines);
    }
    await ex.prepare(...passes);
    return ex;
  }

  /** Whether `pass` is ready to run, or being made ready. */
  prepared(pass: PassName): boolean {
    return this.preparing.has(pass);
  }

  /** Compiles (all at once) and binds the kernels of the `passes` not ready yet. */
  async prepare(...passes: readonly PassName[]): Promise<void> {
    const todo = passes.filter((name) => !this.preparing.has(name));
    if (todo.length > 0) {
      const pipelines = awaitGpu(() =>
        Promise.all(todo.flatMap((name) => this.calls[name].map((c) => pipelineFor(this.gpu, c.kernel)))),
      );
      for (const name of todo) {
        this.preparing.set(
          name,
          pipelines.then(async () => {
            const encoded: Encoded[] = [];
            for (const call of this.calls[name]) encoded.push(await this.encode(call));
            this.passes.set(name, encoded);
          }),
        );
      }
    }
    await Promise.all(passes.map((name) => this.preparing.get(name)));
  }

  private async encode(call: KernelCall): Promise<Encoded> {
    const pipeline = await pipelineFor(this.gpu, call.kernel);
    const entries: GPUBindGroupEntry[] = [];
    call.kernel.bindings.forEach((b, i) => {
      const ref = call.args[b.name];
      if (!ref) throw new Error(`internal: kernel ${call.kernel.name} binding ${b.name} has no argument`);
      if (ref.kind === 'step') {
        entries.push({ binding: i, resource: { buffer: this.stepParams } });
        return;
      }
      if (ref.kind === 'scratch') {
        entries.push({ binding: i, resource: { buffer: this.scratch!, offset: 0, size: ref.elements * 4 } });
        return;
      }
      const p = placementOf(ref, this.plan);
      if (p.elements !== b.elements)
        throw new Error(
          `internal: kernel ${call.kernel.name} binding ${b.name} wants ${b.elements} elements, got ${p.elements}`,
        );
      entries.push({
        binding: i,
        resource: { buffer: this.bufferOf(p), offset: p.offset * 4, size: Math.max(4, p.elements * 4) },
      });
    });
    // Kernel families declare only bindings their WGSL uses: 'auto' layouts drop unused ones.
    this.gpu.device.pushErrorScope('validation');
    const bindGroup = this.gpu.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
      label: call.kernel.name,
    });
    const err = await this.gpu.device.popErrorScope();
    if (err) throw new Error(`internal: bind group for kernel ${call.kernel.name}: ${err.message}`);
    return { pipeline, bindGroup, dispatch: call.kernel.dispatch };
  }

  /** Queued before the pass's submit, so each of several queued steps reads its own words. */
  private writeStep(seed: number, step: number): void {
    const words = stepWords(seed, step, this.optimizer);
    this.gpu.device.queue.writeBuffer(this.stepParams, 0, words.buffer, words.byteOffset, words.byteLength);
  }

  private encoded(pass: PassName): readonly Encoded[] {
    const encoded = this.passes.get(pass);
    if (!encoded) throw new Error(`internal: the ${pass} pass was not prepared`);
    return encoded;
  }

  /** Encodes and submits one pass (prepared); `step` feeds dropout masks and the optimizer's step. */
  run(pass: PassName, seed: number, step: number): void {
    const { device } = this.gpu;
    this.writeStep(seed, step);
    device.pushErrorScope('validation');
    const enc = device.createCommandEncoder();
    const cp = enc.beginComputePass();
    for (const k of this.encoded(pass)) {
      dispatch(cp, k);
    }
    cp.end();
    if (pass === 'train') {
      const loss = this.plan.placements[this.program.loss]!;
      enc.copyBufferToBuffer(this.bufferOf(loss), loss.offset * 4, this.lossHistory, (step % LOSS_HISTORY) * 4, 4);
    }
    device.queue.submit([enc.finish()]);
    const previous = this.failure;
    this.failure = device
      .popErrorScope()
      .then(async (e) => (await previous) ?? (e ? new Error(`GPU error in the ${pass} pass: ${e.message}`) : null));
  }

  /**
   * Runs one pass with every dispatch in a compute pass of its own, timed by timestamp queries:
   * GPU nanoseconds per kernel, in order. Slower than `run` (a pass per dispatch), for profiling.
   */
  async profile(pass: PassName, seed: number, step: number): Promise<number[]> {
    const { device } = this.gpu;
    if (!this.gpu.timestamps) throw new Error('this adapter has no timestamp-query feature: kernels cannot be timed');
    const kernels = this.encoded(pass);
    this.writeStep(seed, step);
    return timestampDispatches(device, kernels);
  }

  /**
   * Where the adapter cannot time passes: each dispatch of a pass on the wall clock, `repeats`
   * times in one submit awaited with onSubmittedWorkDone, in ms per dispatch, in order. The submit
   * and the wait are counted too (spread over the repeats), and a repeated kernel runs again on its
   * own outputs, so the state afterwards is not one step's.
   */
  async timeDispatches(pass: PassName, seed: number, step: number, repeats: number): Promise<number[]> {
    const { device } = this.gpu;
    this.writeStep(seed, step);
    const ms: number[] = [];
    for (const k of this.passes.get(pass)!) {
      const enc = device.createCommandEncoder();
      const cp = enc.beginComputePass();
      cp.setPipeline(k.pipeline);
      cp.setBindGroup(0, k.bindGroup);
      for (let r = 0; r < repeats; r++) cp.dispatchWorkgroups(...k.dispatch);
      cp.end();
      const start = performance.now();
      device.queue.submit([enc.finish()]);
      await awaitGpu(() => device.queue.onSubmittedWorkDone());
      ms.push((performance.now() - start) / repeats);
    }
    return ms;
  }

  /** The buffer a placement lies in: its arena's bank. */
  private bufferOf(p: Pick<Placement, 'arena' | 'bank'>): GPUBuffer {
    return this.arenas.get(p.arena)![p.bank]!;
  }

  write(tensor: TensorId, data: Float32Array | Int32Array | Uint32Array): void {
    const p = this.plan.placements[tensor]!;
    if (data.length !== p.elements)
      throw new Error(`${this.program.tensors[tensor]!.name}: ${data.length} values given, ${p.elements} expected`);
    this.gpu.device.queue.writeBuffer(this.bufferOf(p), p.offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  read(tensor: TensorId): Promise<ArrayBuffer> {
    return this.readPlaced(this.plan.placements[tensor]!);
  }

  /**
   * A parameter's slice of an arena laid out like `param` (the optimizer's state1, state2): the
   * plan gives state no tensors of its own, it sits at the parameter's offset.
   */
  readMirror(param: TensorId, arena: 'state1' | 'state2'): Promise<ArrayBuffer> {
    return this.readPlaced({ ...this.plan.placements[param]!, arena });
  }

  writeMirror(param: TensorId, arena: 'state1' | 'state2', data: Float32Array): void {
    const p = this.plan.placements[param]!;
    if (data.length !== p.elements)
      throw new Error(
        `${this.program.tensors[param]!.name} ${arena}: ${data.length} values given, ${p.elements} expected`,
      );
    this.gpu.device.queue.writeBuffer(
      this.bufferOf({ arena, bank: p.bank }),
      p.offset * 4,
      data.buffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** The losses of training steps `from` to `to - 1` (0-based), or null when the ring no longer holds them all. */
  async stepLosses(from: number, to: number): Promise<Float32Array | null> {
    if (to - from > LOSS_HISTORY || to <= from) return to <= from ? new Float32Array(0) : null;
    const ring = new Float32Array(await this.readBuffer(this.lossHistory, 0, LOSS_HISTORY * 4));
    return Float32Array.from({ length: to - from }, (_, i) => ring[(from + i) % LOSS_HISTORY]!);
  }

  private async readPlaced(p: Placement): Promise<ArrayBuffer> {
    // Copies are at least 4 bytes; an empty tensor reads back as 0 bytes.
    return (await this.readBuffer(this.bufferOf(p), p.offset * 4, Math.max(4, p.elements * 4))).slice(
      0,
      p.elements * 4,
    );
  }

  private readBuffer(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    return awaitGpu(async () => {
      const failure = await this.failure;
      if (failure) throw failure;
      const { device } = this.gpu;
      const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(buffer, offset, staging, 0, bytes);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = staging.getMappedRange().slice(0);
      staging.unmap();
      staging.destroy();
      return out;
    });
  }

  dispose(): void {
    for (const [arena, banks] of this.arenas) if (!this.borrowed.has(arena)) for (const b of banks) b.destroy();
    this.stepParams.destroy();
    if (!this.borrowed.has('metric')) this.lossHistory.destroy();
    this.scratch?.destroy();
  }
}
