// Tensor lifetimes over the schedule: the passes in the order they are listed (forward, evaluate,
// train), each op one time step. A view's uses count as uses of its base tensor.
import { PASSES, opTensors, type StepProgram, type TensorId } from '../autodiff/step-ir.ts';

export interface Interval {
  readonly first: number;
  readonly last: number;
}

/** Inclusive [first, last] op index of each base tensor; tensors no op touches are absent. */
export function liveIntervals(program: StepProgram): Map<TensorId, Interval> {
  const base = (id: TensorId): TensorId => program.tensors[id]!.aliasOf ?? id;
  const out = new Map<TensorId, Interval>();
  let time = 0;
  for (const pass of PASSES) {
    for (const op of program[pass]) {
      for (const id of opTensors(op)) {
        const b = base(id);
        const cur = out.get(b);
        out.set(b, cur ? { first: cur.first, last: time } : { first: time, last: time });
      }
      time++;
    }
  }
  return out;
}
