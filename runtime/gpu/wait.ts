// Waiting on the GPU without taking a core from it. dawn.node settles its promises (mapAsync,
// popErrorScope, onSubmittedWorkDone) by polling Dawn: while any is pending, each poll schedules
// the next with the global setImmediate, a busy loop on the main thread. On lavapipe the GPU is
// the CPU, so through every readback that loop held one of the two cores the kernels run on
// (measurements: bench/NOTES.md). While cnnc awaits the GPU, dawn.node's polls (anonymous native
// functions, looked up on the global at every poll) go through a 1 ms timer; every other caller
// of setImmediate gets the real one.

/** Node's setImmediate, typed here: the page has none (its event loop settles WebGPU's promises). */
type Immediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown) & {
  __promisify__?: unknown;
};
const host = globalThis as { setImmediate?: Immediate };

let waiting = 0;
let immediate: Immediate | null = null;

const isDawnPoll = (callback: unknown): boolean =>
  typeof callback === 'function' &&
  callback.name === '' &&
  Function.prototype.toString.call(callback).includes('[native code]');

function pacedImmediate(real: Immediate): Immediate {
  const paced = (callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    isDawnPoll(callback) ? setTimeout(callback, 1, ...args) : real(callback, ...args);
  return Object.assign(paced, { __promisify__: real.__promisify__ });
}

/** Runs `work` (which starts and awaits GPU promises) with dawn.node's polling paced. */
export async function awaitGpu<T>(work: () => Promise<T>): Promise<T> {
  const real = host.setImmediate;
  if (real === undefined) return work();
  if (waiting++ === 0) {
    immediate = real;
    host.setImmediate = pacedImmediate(real);
  }
  try {
    return await work();
  } finally {
    if (--waiting === 0) {
      host.setImmediate = immediate!;
      immediate = null;
    }
  }
}
