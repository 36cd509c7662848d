// A long local fuzz run that survives what it finds: `node --import tsx tests/fuzz/run-many.ts
// [CASES] [SEED]`. Cases run in a worker process (heap capped at 2 GB); a case that makes it die
// or go quiet for 20 s is recorded and the worker restarts after it. Prints counts and problems.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const total = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? 13);
const quietLimitMs = 20_000;
const counts = { cases: 0, exit0: 0, exit1: 0, exit2: 0, hang: 0, died: 0 };
const problems: string[] = [];

/** Runs cases from `from` until the worker ends; returns where to resume. */
function runWorker(from: number): Promise<number> {
  return new Promise((resolve) => {
    const worker = spawn(
      process.execPath,
      [
        '--max-old-space-size=2048',
        '--import',
        'tsx',
        join(import.meta.dirname, 'worker.ts'),
        String(seed),
        String(from),
        String(total - from),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let current = { i: from, name: '?' };
    let finished = true;
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        worker.kill('SIGKILL');
      }, quietLimitMs);
    };
    arm();
    createInterface({ input: worker.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as {
        start?: number;
        name?: string;
        done?: number;
        codes?: number[];
        problems?: string[];
      };
      if (m.start !== undefined) {
        current = { i: m.start, name: m.name ?? '?' };
        finished = false;
        arm();
        return;
      }
      finished = true;
      counts.cases++;
      for (const c of m.codes ?? []) {
        if (c === 0) counts.exit0++;
        else if (c === 1) counts.exit1++;
        else counts.exit2++;
      }
      if ((m.problems ?? []).length > 0) problems.push(`${current.name}: ${m.problems!.join('; ').slice(0, 400)}`);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (finished && code === 0) return resolve(total);
      counts.cases++;
      if (hung) counts.hang++;
      else counts.died++;
      problems.push(
        `${current.name}: ${hung ? `no progress for ${quietLimitMs / 1000} s` : `worker died (exit ${code})`}`,
      );
      resolve(current.i + 1);
    });
  });
}

const t0 = Date.now();
for (let next = 0; next < total; ) next = await runWorker(next);
console.log(
  `seed ${seed}: ${counts.cases} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s; command runs exit 0: ${counts.exit0}, exit 1: ${counts.exit1}, exit 2: ${counts.exit2}; cases that hung: ${counts.hang}, died: ${counts.died}`,
);
for (const p of problems) console.log(p);
