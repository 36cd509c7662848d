// The memory plan as text (`cnnc compile --emit plan`): arena sizes and each tensor's placement.
import type { StepProgram } from '../autodiff/step-ir.ts';
import { formatShape } from '../ir/graph.ts';
import type { MemoryPlan } from './allocate.ts';

const bytes = (elements: number): string => {
  const b = elements * 4;
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`;
};

export function printPlan(program: StepProgram, plan: MemoryPlan): string {
  const banks =
    plan.workBanks.length > 1 ? `  in ${plan.workBanks.length} buffers: ${plan.workBanks.map(bytes).join(' + ')}` : '';
  const arenas = Object.entries(plan.arenas).map(
    ([a, e]) => `  ${a.padEnd(7)} ${bytes(e).padStart(12)}${a === 'work' ? banks : ''}`,
  );
  const total = Object.values(plan.arenas).reduce((s, e) => s + e, 0);
  const rows = program.tensors.map((t, i) => {
    const p = plan.placements[i]!;
    return `  %${t.id} ${p.arena}${p.bank > 0 ? `#${p.bank}` : ''}+${p.offset * 4}  ${bytes(p.elements).padStart(10)}  ${formatShape(t.shape)}${t.aliasOf !== null ? ` (view of %${t.aliasOf})` : ''}  "${t.name}"`;
  });
  const unplanned = total - plan.arenas.work + plan.unplannedWork;
  return [
    'arenas {',
    ...arenas,
    `  total   ${bytes(total).padStart(12)}`,
    '}',
    `peak ${bytes(total)} planned, against ${bytes(unplanned)} with every activation and gradient in its own buffer (work ${bytes(plan.unplannedWork)} -> ${bytes(plan.arenas.work)})`,
    'tensors {',
    ...rows,
    '}',
  ].join('\n');
}
