// WebGPU under Node: dawn.node (the `webgpu` package) installed as `navigator.gpu`, so the portable
// device code (device.ts) opens it as a page opens the browser's. Node-only.
import { create, globals } from 'webgpu';
import { type Gpu, openGpu as openDevice } from './device.ts';

export type { Gpu } from './device.ts';

/**
 * Installs dawn.node's GPU as `navigator.gpu` (and its GPUBufferUsage... globals), once. dawn.node
 * crash to avoid: the object returned by create() must outlive the device, or later dispatches
 * segfault once it is garbage-collected; on the global it lives as long as the process.
 */
export function installDawn(): GPU {
  const global = globalThis as { navigator?: { gpu?: GPU } };
  if (global.navigator?.gpu !== undefined) return global.navigator.gpu;
  // Mesa's drivers want a runtime directory; without one they warn on every start.
  if (process.env['XDG_RUNTIME_DIR'] === undefined) process.env['XDG_RUNTIME_DIR'] = '/tmp';
  Object.assign(globalThis, globals);
  // Dawn rounds timestamps to 65.5 us against timing attacks, a browser's concern; the profiler
  // and the tuner time kernels shorter than that.
  const gpu = create(['disable-dawn-features=timestamp_quantization']);
  // Node 20 has no navigator; later versions have one without gpu.
  if (global.navigator === undefined) global.navigator = { gpu };
  else Object.defineProperty(global.navigator, 'gpu', { value: gpu, configurable: true });
  return gpu;
}

/** A device on dawn.node (installed first if need be). */
export const openGpu = (): Promise<Gpu> => openDevice(installDawn());
