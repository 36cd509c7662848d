// What the --torch-train tests share: a LeNet whose recipe has momentum (so the optimizer file holds
// state), train.py run by Debian's PyTorch, and a free TCP port for torchrun's rendezvous.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { root } from './exported.ts';

export const python = '/usr/bin/python3';

/** An example LeNet (lenet.cnn, lenet-relu.cnn) with momentum, so the optimizer file holds state to compare. */
export function withMomentum(at: string, example = 'lenet.cnn'): string {
  const text = readFileSync(join(root, 'dsl-examples', example), 'utf8');
  const changed = text.replace('optimizer sgd(lr = 0.1)', 'optimizer sgd(lr = 0.1, momentum = 0.9)');
  if (changed === text)
    throw new Error(`dsl-examples/${example} no longer says \`optimizer sgd(lr = 0.1)\`: update this test`);
  const file = join(at, example.replace(/\.cnn$/, '-momentum.cnn'));
  writeFileSync(file, changed);
  return file;
}

export function run(args: readonly string[], cwd: string): string {
  const r = spawnSync(python, args, { cwd, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`${python} ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
