import fs from 'node:fs';
import { compileToKernels, compile } from '../runtime/model.ts';
import { openGpu } from '../runtime/gpu/device.ts';
const gpu = await openGpu();
console.log(gpu.adapterName, gpu.limits.maxBufferSize, gpu.limits.maxStorageBufferBindingSize);
for (const f of fs.readdirSync('dsl-examples').filter((f) => f.endsWith('.cnn'))) {
  const src = fs.readFileSync('dsl-examples/' + f, 'utf8');
  try {
    let t = performance.now();
    const c = compileToKernels(src, { path: f }, gpu.limits);
    const tk = performance.now() - t;
    const planned = Object.values(c.plan.arenas).reduce((a, b) => a + b, 0) * 4;
    console.log(f, c.program.batch, c.kernels.train.length, 'kernels ms', tk.toFixed(0), 'MB', (planned / 1e6).toFixed(1), JSON.stringify(c.plan.arenas));
    t = performance.now();
    const m = await compile(src, { path: f, gpu });
    console.log('   compile ms', (performance.now() - t).toFixed(0));
    await m.dispose();
  } catch (e) { console.log(f, 'ERR', String(e).slice(0, 300)); }
}
gpu.dispose();
