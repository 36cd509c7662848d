// GPU time per dispatch by timestamp queries, each dispatch in a compute pass of its own (a
// timestamp pair brackets a pass): the executor's per-kernel profile and the tuner's candidate times.
import { awaitGpu } from './wait.ts';

/** A kernel ready to dispatch. */
export interface Encoded {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly dispatch: readonly [number, number, number];
}

export function dispatch(pass: GPUComputePassEncoder, k: Encoded): void {
  pass.setPipeline(k.pipeline);
  pass.setBindGroup(0, k.bindGroup);
  pass.dispatchWorkgroups(...k.dispatch);
}

/** GPU nanoseconds of each kernel, in order, run once in one submit; the device needs 'timestamp-query'. */
export async function timestampDispatches(device: GPUDevice, kernels: readonly Encoded[]): Promise<number[]> {
  const count = 2 * kernels.length;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolved = device.createBuffer({
    size: 8 * count,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({ size: 8 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  kernels.forEach((k, i) => {
    const pass = enc.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    dispatch(pass, k);
    pass.end();
  });
  enc.resolveQuerySet(querySet, 0, count, resolved, 0);
  enc.copyBufferToBuffer(resolved, 0, readback, 0, 8 * count);
  device.queue.submit([enc.finish()]);
  await awaitGpu(() => readback.mapAsync(GPUMapMode.READ));
  const t = new BigUint64Array(readback.getMappedRange().slice(0));
  readback.destroy();
  resolved.destroy();
  querySet.destroy();
  return kernels.map((_, i) => Number(t[2 * i + 1]! - t[2 * i]!));
}
