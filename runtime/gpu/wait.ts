// Waiting on the GPU without taking a core from it. dawn.node settles its promises (mapAsync,
// popErrorScope, onSubmittedWorkDone) by polling Dawn: while any is pending, each poll schedules
// the next with the global setImmediate, a busy loop on the main thread. On lavapipe the GPU is
// the CPU, so through every readback that loop held one of the two cores the kernels run on
// (measurements: bench/NOTES.md). While cnnc awaits the GPU, dawn.node's polls (anonymous native
// functions, looked up on the global at every poll) go through a 1 ms timer; every other caller
// of setImmediate gets the real one.

let waiting = 0;
let immediate: typeof setImmediate | null = null;

const isDawnPoll = (callback: unknown): boolean =>
  typeof callback === 'function' &&
  callback.name === '' &&
  Function.prototype.toString.call(callback).includes('[native code]');

function pacedImmediate(real: typeof setImmediate): typeof setImmediate {
  const paced = (callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    isDawnPoll(callback) ? setTimeout(callback, 1, ...args) : real(callback, ...args);
  return Object.assign(paced, { __promisify__: real.__promisify__ }) as unknown as typeof setImmediate;
}

/** Runs `work` (which starts and awaits GPU promises) with dawn.node's polling paced. */
export async function awaitGpu<T>(work: () => Promise<T>): Promise<T> {
  // A browser has no setImmediate and its own event loop settles WebGPU's promises.
  if (typeof globalThis.setImmediate !== 'function') return work();
  if (waiting++ === 0) {
    immediate = globalThis.setImmediate;
    globalThis.setImmediate = pacedImmediate(immediate);
  }
  try {
    return await work();
  } finally {
    if (--waiting === 0) {
      globalThis.setImmediate = immediate!;
      immediate = null;
    }
  }
}
