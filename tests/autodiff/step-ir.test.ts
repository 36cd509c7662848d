// The step program's identities and operand table: each op's reads and writes (from the per-op
// table) are consistent with the schedule, and parameters reach their gradients and optimizer
// states through the program's maps, not through their names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../compiler/index.ts';
import { DiagnosticBag } from '../../compiler/diagnostics/diagnostic.ts';
import { buildStepProgram } from '../../compiler/autodiff/build.ts';
import { PASSES, operands, reads, writes, type StepProgram } from '../../compiler/autodiff/step-ir.ts';
import type { OptimizerConfig } from '../../compiler/ir/recipe.ts';
import { fuse } from '../../compiler/fusion/fuse.ts';
import { planMemory } from '../../compiler/plan/allocate.ts';

const root = join(import.meta.dirname, '..', '..');

function program(file: string, optimizer: Partial<OptimizerConfig> = {}): StepProgram {
  const front = analyze(file, readFileSync(join(root, 'dsl-examples', file), 'utf8'), { batch: 4 });
  const diags = new DiagnosticBag();
  const p = buildStepProgram(
    front.shaped!,
    { loss: front.train!.loss, optimizer: { ...front.train!.optimizer, ...optimizer } },
    diags,
  );
  expect(diags.all).toEqual([]);
  return p!;
}

describe('step ops declare what they read and write', () => {
  // The examples cover every op family: conv, linear, pools, batch norm, dropout, concat, residual add.
  it.each([
    'lenet.cnn',
    'batchnorm-lenet.cnn',
    'resnet18.cnn',
    'googlenet.cnn',
    'densenet.cnn',
    'nin.cnn',
    'alexnet.cnn',
  ])(
    '%s: each pass reads a work tensor only after an op of that pass wrote it, and writes no parameter or input',
    (file) => {
      const unfused = program(file);
      for (const p of [unfused, fuse(unfused).program]) {
        const base = (id: number) => p.tensors[id]!.aliasOf ?? id;
        for (const pass of PASSES) {
          const written = new Set<number>();
          for (const op of p[pass]) {
            for (const id of reads(op)) {
              if (p.tensors[base(id)]!.arena === 'work')
                expect(written.has(base(id)), `${pass}: ${op.op} reads %${id} before any op writes it`).toBe(true);
            }
            for (const id of writes(op)) {
              expect(['param', 'io'], `${pass}: ${op.op} writes %${id}`).not.toContain(p.tensors[id]!.arena);
              written.add(base(id));
            }
          }
        }
      }
    },
  );

  it('names an epilogue operand after its epilogue, and counts it as read', () => {
    const fused = fuse(program('batchnorm-lenet.cnn')).program;
    const conv = fused.forward.find((op) => op.op === 'conv2d' && op.epilogue?.bn)!;
    expect(operands(conv).map(([field, , access]) => `${field}:${access}`)).toEqual([
      'x:read',
      'w:read',
      'b:read',
      'y:write',
      'bn.gamma:read',
      'bn.beta:read',
      'bn.runMean:read',
      'bn.runVar:read',
    ]);
    const bnTrain = fused.train.find((op) => op.op === 'bn_train')!;
    // The running statistics are read and written by the same op.
    expect(reads(bnTrain)).toEqual(
      expect.arrayContaining(writes(bnTrain).filter((id) => fused.tensors[id]!.arena === 'stats')),
    );
  });
});

describe('parameter identities', () => {
  it('maps every learnable parameter to its gradient, placed at the parameter offset', () => {
    const p = program('resnet18.cnn');
    const learnable = p.params.filter((id) => p.tensors[id]!.arena === 'param');
    expect([...p.gradients.keys()]).toEqual(learnable);
    expect(new Set(p.gradients.values())).toEqual(
      new Set(p.tensors.filter((t) => t.arena === 'grad').map((t) => t.id)),
    );
    const plan = planMemory(p);
    for (const [param, grad] of p.gradients) expect(plan.placements[grad]!.offset).toBe(plan.placements[param]!.offset);
  });

  it('pairs gradients by the map even where a parameter name does not predict its gradient name', () => {
    // Before, the plan stripped `.grad` from a gradient's name to find its parameter.
    const p = program('lenet.cnn');
    const renamed = { ...p, tensors: p.tensors.map((t) => (t.arena === 'grad' ? { ...t, name: `d/d${t.id}` } : t)) };
    const plan = planMemory(renamed);
    for (const [param, grad] of p.gradients) expect(plan.placements[grad]!.offset).toBe(plan.placements[param]!.offset);
  });

  it.each([
    [{ kind: 'sgd', momentum: 0 }, []],
    [{ kind: 'sgd', momentum: 0.9 }, ['momentum_buffer:state1']],
    [{ kind: 'adam' }, ['exp_avg:state1', 'exp_avg_sq:state2']],
    [{ kind: 'adamw' }, ['exp_avg:state1', 'exp_avg_sq:state2']],
  ] as const)('%j keeps %j per parameter, and the plan sizes exactly those arenas', (optimizer, expected) => {
    const p = program('lenet.cnn', optimizer);
    expect([...p.optimizerStates.keys()]).toEqual([...p.gradients.keys()]);
    for (const states of p.optimizerStates.values())
      expect(states.map((s) => `${s.name}:${s.arena}`)).toEqual(expected);
    const plan = planMemory(p);
    expect(plan.arenas.state1).toBe(expected.length >= 1 ? plan.arenas.param : 0);
    expect(plan.arenas.state2).toBe(expected.length >= 2 ? plan.arenas.param : 0);
  });
});
