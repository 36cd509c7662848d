// The long fuzz run's worker: runs cases [start, start + count) of a seed in-process and prints one
// JSON line as each case starts and ends, so that run-many.ts can name a case that hangs or dies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzCases } from './generate.ts';
import { runCase } from './run-case.ts';

const [seed, start, count] = process.argv.slice(2).map(Number) as [number, number, number];
const dir = mkdtempSync(join(tmpdir(), 'cnnc-fuzz-'));
try {
  const cases = fuzzCases(seed, start + count);
  for (let i = start; i < cases.length; i++) {
    const c = cases[i]!;
    process.stdout.write(`${JSON.stringify({ start: i, name: c.name })}\n`);
    const outcomes = await runCase(join(dir, 'case.cnn'), c.content);
    process.stdout.write(
      `${JSON.stringify({ done: i, codes: outcomes.map((o) => o.code), problems: outcomes.flatMap((o) => o.problems.map((p) => `[${o.command}] ${p}`)) })}\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
