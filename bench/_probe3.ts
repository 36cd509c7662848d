import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { openGpu } from '../runtime/gpu/device.ts';
import { benchCnnc } from './cnnc.ts';
import { workloads } from './workloads.ts';

const gpu = await openGpu();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnc-bench-'));
const quick = process.argv[2] === 'q';
for (const w of workloads(quick)) {
  const t = performance.now();
  const r = await benchCnnc(gpu, w, dir);
  console.log(w.name, JSON.stringify(r.run), ((performance.now() - t) / 1000).toFixed(1), 's');
}
gpu.dispose();
console.log(dir);
