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

// Extreme numbers in sizes and floats are issue 13's items 3 and 4, fixed on other branches; until
// they are merged, such cases exit 2 or run for minutes here, so this generator sits out. Remove
// the entry (and the filter) once they are merged.
const GENERATORS_AWAITING_FIXES: readonly string[] = ['numbers'];

describe('fuzz', () => {
  const cases = fuzzCases(seed, caseCount).filter((k) => !GENERATORS_AWAITING_FIXES.includes(k.generator));
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
    console.log(`fuzz seed ${seed}: ${counts.cases} cases, runs exit 0: ${counts.exit0}, exit 1: ${counts.exit1}, other: ${counts.other}; heap growth at most ${(maxHeap / 2 ** 20).toFixed(0)} MiB`);
    expect(failures).toEqual([]);
    expect(maxHeap).toBeLessThan(heapLimit);
  });
});

// Minimised inputs of issue 13 that crashed or hung. Those of items 2-5 are fixed on other
// branches: until they are merged they fail here, or (`hangs`) would take minutes and gigabytes,
// so they are expected to fail or are skipped by name. Remove each entry once its fix is merged.
const KNOWN_FIXED_ELSEWHERE: Readonly<Record<string, 'fails' | 'hangs'>> = {
  'range-1e9.cnn': 'hangs',
  'len-range-1e8.cnn': 'hangs',
  'range-4294967297.cnn': 'fails',
  'leaky-relu-slope-1e400.cnn': 'fails',
  'batchnorm-eps-1e400.cnn': 'fails',
  'sgd-lr-1e400.cnn': 'fails',
  'input-1e308.cnn': 'fails',
  'padding-1e308.cnn': 'fails',
  'linear-1e308.cnn': 'hangs',
  'linear-1e12.cnn': 'hangs',
};

describe('corpus', () => {
  const corpusDir = join(import.meta.dirname, 'corpus');
  const files = readdirSync(corpusDir).filter((f) => f.endsWith('.cnn')).sort();
  it('lists only corpus files as known failures', () => {
    expect(Object.keys(KNOWN_FIXED_ELSEWHERE).filter((f) => !files.includes(f))).toEqual([]);
  });
  for (const f of files) {
    const known = KNOWN_FIXED_ELSEWHERE[f];
    const test = known === 'hangs' ? it.skip : known === 'fails' ? it.fails : it;
    test(f, async () => {
      const outcomes = await runCase(join(dir, f), readFileSync(join(corpusDir, f)));
      expect(outcomes.flatMap((o) => o.problems.map((p) => `[${o.command}] ${p}`))).toEqual([]);
    });
  }
});
