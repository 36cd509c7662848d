// The CLI never crashes, hangs or prints a stack trace, whatever the .cnn file (issue 13): every
// fuzz case and every corpus file, through `check`, `summary` and `compile --emit wgsl`, ends in
// exit 0, or exit 1 with a file:line:col location, within a time bound, without the heap running
// away. CNNC_FUZZ_CASES=5000 (and CNNC_FUZZ_SEED) make a long local run; the default fits CI.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzCases } from './generate.ts';
import { runCase } from './run-case.ts';

const dir = mkdtempSync(join(tmpdir(), 'cnnc-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const caseCount = Number(process.env['CNNC_FUZZ_CASES'] ?? 200);
const seed = Number(process.env['CNNC_FUZZ_SEED'] ?? 13);
// A case may allocate a lot for a moment (a 20,000-term sum's CST); what must not happen is
// memory out of proportion to the file, as `range(1e9)` did (2 GB).
const heapLimit = 1.5 * 2 ** 30;

describe('fuzz', () => {
  const cases = fuzzCases(seed, caseCount);
  it(`${cases.length} generated cases (seed ${seed})`, async () => {
    const counts = { cases: 0, exit0: 0, exit1: 0, other: 0 };
    const failures: string[] = [];
    const base = process.memoryUsage().heapUsed;
    let maxHeap = 0;
    for (const c of cases) {
      const outcomes = await runCase(join(dir, 'case.cnn'), c.content);
      counts.cases++;
      for (const o of outcomes) {
        if (o.code === 0) counts.exit0++;
        else if (o.code === 1) counts.exit1++;
        else counts.other++;
        if (o.problems.length > 0) failures.push(`${c.name} [${o.command}]: ${o.problems.join('; ')}`);
      }
      maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed - base);
      if (failures.length >= 10) break;
    }
    console.log(
      `fuzz seed ${seed}: ${counts.cases} cases, runs exit 0: ${counts.exit0}, exit 1: ${counts.exit1}, other: ${counts.other}; heap growth at most ${(maxHeap / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(failures).toEqual([]);
    expect(maxHeap).toBeLessThan(heapLimit);
  });
});

// Minimised inputs of issue 13 that crashed, hung or ran out of memory; each must now end in exit 0
// or a located exit 1 within the bounds.
describe('corpus', () => {
  const corpusDir = join(import.meta.dirname, 'corpus');
  const files = readdirSync(corpusDir)
    .filter((f) => f.endsWith('.cnn'))
    .sort();
  for (const f of files) {
    it(f, async () => {
      const outcomes = await runCase(join(dir, f), readFileSync(join(corpusDir, f)));
      expect(outcomes.flatMap((o) => o.problems.map((p) => `[${o.command}] ${p}`))).toEqual([]);
    });
  }
});
