// TensorFlow.js peer: its WebGPU backend on the same dawn.node as cnnc, in a process of its own
// (run by bench/peers.ts) so that a crash or a hang in it cannot take the benchmark down.
//   node --import tsx bench/tfjs.ts '<PeerJob JSON>'
// Prints one JSON line: {stepMs, roundsMs, warmupMs, losses, version, numTensors}.
import type * as TF from '@tensorflow/tfjs';
import { create, globals } from 'webgpu';
import { awaitGpu } from '../runtime/gpu/wait.ts';
import { readJob, type PeerJob } from './exchange.ts';
import { measure } from './measure.ts';
import { lenet, resnet18 } from './tfjs-models.ts';

const job = JSON.parse(process.argv[2] ?? '') as PeerJob;
const w = job.workload;

// tfjs-backend-webgpu finds WebGPU as navigator.gpu, which Node does not have. dawn.node
// segfaults once the object create() returns is garbage-collected, and navigator holds it for
// the process's lifetime. (defineProperty: Node 21+ has a read-only navigator.)
if (process.env['XDG_RUNTIME_DIR'] === undefined) process.env['XDG_RUNTIME_DIR'] = '/tmp';
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });

// The union package, not tfjs-core alone: only its bundle registers the gradient functions, and
// tfjs-core's ES modules cannot be imported one by one in Node (extensionless imports).
const tf = await import('@tensorflow/tfjs');
await import('@tensorflow/tfjs-backend-webgpu');

// setBackend reports a failed init only through console.warn: keep those lines as the reason.
const warnings: string[] = [];
const warn = console.warn;
console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
const ok = await tf.setBackend('webgpu');
console.warn = warn;
if (!ok) throw new Error(`tf.setBackend('webgpu') failed: ${warnings.join(' | ') || 'no reason given'}`);

const { weights, batch } = readJob(job);
const model = (w.name === 'lenet' ? lenet : resnet18)(tf, weights);
const optimizer = tf.train.sgd(w.lr);
let last: TF.Scalar | null = null;

// dawn.node's busy polling while a readback is pending takes a core from lavapipe; cnnc paces it
// (runtime/gpu/wait.ts), and so does the peer here, through the whole measurement.
const [result] = await awaitGpu(() =>
  measure(
    [
      {
        step: () => {
          // A fresh upload each step, as a data loader would give (cnnc writes its input every step too).
          // [N, 1, H, W] and [N, H, W, 1] are the same bytes.
          const x = tf.tensor4d(batch.x, [w.batch, w.size, w.size, 1]);
          const y = tf.tidy(() => tf.oneHot(tf.tensor1d(batch.y, 'int32'), w.classes));
          last?.dispose();
          last = optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as TF.Scalar,
            true,
            model.variables,
          );
          x.dispose();
          y.dispose();
        },
        loss: async () => (await last!.data())[0]!,
      },
    ],
    w,
  ),
);

// numTensors stays flat over the steps when nothing leaks: a check on the port, reported.
console.log(JSON.stringify({ ...result, version: tf.version.tfjs, numTensors: tf.memory().numTensors }));
tf.engine().backend.dispose();
process.exit(0);
