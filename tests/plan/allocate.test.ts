// The memory plan on every example: two work tensors share memory only when their lifetimes do not
// overlap, views sit on their base, gradients mirror their parameters, offsets are 256-byte aligned.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLimits } from '../../compiler/codegen/index.ts';
import { liveIntervals } from '../../compiler/plan/liveness.ts';
import { ALIGN_ELEMENTS } from '../../compiler/plan/allocate.ts';
import { compileModel } from '../../compiler/index.ts';

const root = join(import.meta.dirname, '..', '..');
const examples = ['lenet.cnn', 'resnet18.cnn', 'googlenet.cnn', 'densenet.cnn', 'batchnorm-lenet.cnn', 'nin.cnn'];

describe('memory plan', () => {
  it.each(examples)('%s: no live overlap, views on bases, aligned, smaller than unplanned', (f) => {
    expect(readdirSync(join(root, 'dsl-examples'))).toContain(f);
    const c = compileModel(readFileSync(join(root, 'dsl-examples', f), 'utf8'), {
      path: f,
      batch: 4,
      limits: defaultLimits,
      limitSeverity: 'warning',
    });
    const { program, plan } = c;
    const live = liveIntervals(program);
    const work = program.tensors.filter((t) => t.arena === 'work' && t.aliasOf === null);
    for (const t of program.tensors) {
      const p = plan.placements[t.id]!;
      expect(p.offset % ALIGN_ELEMENTS).toBe(0);
      expect(p.offset + p.elements).toBeLessThanOrEqual(
        p.arena === 'work' ? plan.workBanks[p.bank]! : plan.arenas[p.arena],
      );
      if (t.aliasOf !== null) expect(p.offset).toBe(plan.placements[t.aliasOf]!.offset);
    }
    for (const [param, grad] of program.gradients)
      expect(plan.placements[grad]!.offset).toBe(plan.placements[param]!.offset);
    let shared = 0;
    for (const [i, a] of work.entries()) {
      for (const b of work.slice(i + 1)) {
        const pa = plan.placements[a.id]!;
        const pb = plan.placements[b.id]!;
        const memory =
          pa.bank === pb.bank && pa.offset < pb.offset + pb.elements && pb.offset < pa.offset + pa.elements;
        if (!memory) continue;
        shared++;
        const la = live.get(a.id);
        const lb = live.get(b.id);
        expect(
          la && lb && (la.last < lb.first || lb.last < la.first),
          `${a.name} and ${b.name} overlap while both live`,
        ).toBe(true);
      }
    }
    expect(shared).toBeGreaterThan(0);
    expect(plan.arenas.work).toBeLessThan(plan.unplannedWork / 2);
  });
});
