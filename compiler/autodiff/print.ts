// Stable text form of a step program: its tensors and the ops of each pass (`cnnc compile --emit ir`).
import { formatShape } from '../ir/graph.ts';
import type { StepOp, StepProgram, TensorId } from './step-ir.ts';

function opLine(op: StepOp, name: (id: TensorId) => string): string {
  const fields = Object.entries(op)
    .filter(([k]) => k !== 'op' && k !== 'origin' && k !== 'attrs' && k !== 'optimizer')
    .map(([k, v]) => {
      if (v === null) return null;
      if (Array.isArray(v)) return `${k}=[${v.map((x) => name(x as TensorId)).join(', ')}]`;
      if (typeof v === 'number' && !['slope', 'p', 'salt'].includes(k)) return `${k}=${name(v)}`;
      return `${k}=${String(v)}`;
    })
    .filter((f) => f !== null);
  const where = op.origin.sources[0] ? `   # ${op.origin.sources[0].split('  ')[0]}` : '';
  return `${op.op}(${fields.join(', ')})${where}`;
}

export function printStepProgram(p: StepProgram): string {
  const name = (id: TensorId) => `%${id}`;
  const tensors = p.tensors.map((t) => `  %${t.id} ${t.type} ${formatShape(t.shape)} ${t.arena}${t.aliasOf !== null ? ` = view of %${t.aliasOf}` : ''}  "${t.name}"`);
  const pass = (title: string, ops: readonly StepOp[]) => [`${title} {`, ...ops.map((o) => `  ${opLine(o, name)}`), '}'];
  return [
    `step program ${p.model} (batch ${p.batch}) {`,
    ...tensors,
    '}',
    ...pass('forward', p.forward),
    ...pass('train', p.train),
  ].join('\n');
}
