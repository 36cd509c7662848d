import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
const tf = await import('@tensorflow/tfjs');
await import('@tensorflow/tfjs-backend-webgpu');
try {
  const ok = await tf.setBackend('webgpu');
  console.log('setBackend', ok, tf.getBackend());
  const x = tf.randomNormal([8, 28, 28, 1]);
  const w = tf.variable(tf.randomNormal([5, 5, 1, 6]));
  const loss = () => tf.mean(tf.sigmoid(tf.conv2d(x as any, w as any, 1, 'same')));
  const g = tf.variableGrads(loss as any);
  console.log('loss', await g.value.data(), (await g.grads[w.name]!.data()).slice(0,3));
} catch (e) { console.log('ERR', e); }
process.exit(0);
