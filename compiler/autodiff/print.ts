// Stable text form of a step program: its tensors and the ops of each pass (`cnnc compile --emit ir`).
import { formatShape } from '../ir/graph.ts';
import { operands, type StepOp, type StepProgram, type TensorId } from './step-ir.ts';

function opLine(op: StepOp, name: (id: TensorId) => string): string {
  const fields = operands(op)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? name(v) : `[${v!.map(name).join(', ')}]`}`);
  const extra =
    op.op === 'unary'
      ? [`fn=${op.fn}`]
      : op.op === 'unary_grad'
        ? [`fn=${op.fn}`, `from=${op.from}`]
        : op.op === 'pool' || op.op === 'pool_grad' || op.op === 'pool3d' || op.op === 'pool3d_grad' || op.op === 'loss'
          ? [`kind=${op.kind}`]
          : op.op === 'update'
            ? [`optimizer=${op.optimizer.kind}`]
            : [];
  const e = 'epilogue' in op ? op.epilogue : undefined;
  if (e?.kind === 'forward' && e.bn) extra.push('bn=eval');
  if (e?.kind === 'forward' && e.act) extra.push(`act=${e.act.fn}`);
  if (e?.kind === 'act_grad') extra.push(`actGrad=${e.fn}(from ${e.from})`);
  const where = op.origin.sources[0] ? `   # ${op.origin.sources[0].split('  ')[0]}` : '';
  return `${op.op}(${[...extra, ...fields].join(', ')})${where}`;
}

export function printStepProgram(p: StepProgram): string {
  const name = (id: TensorId) => `%${id}`;
  const tensors = p.tensors.map(
    (t) =>
      `  %${t.id} ${t.type} ${formatShape(t.shape)} ${t.arena}${t.aliasOf !== null ? ` = view of %${t.aliasOf}` : ''}  "${t.name}"`,
  );
  const pass = (title: string, ops: readonly StepOp[]) => [
    `${title} {`,
    ...ops.map((o) => `  ${opLine(o, name)}`),
    '}',
  ];
  return [
    `step program ${p.model} (batch ${p.batch}) {`,
    ...tensors,
    '}',
    ...pass('forward', p.forward),
    ...pass('train', p.train),
  ].join('\n');
}
