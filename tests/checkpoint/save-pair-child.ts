// A process that saves a Corr2d run's pair (weights + optimizer file) as `cnnc train --save` does
// and SIGKILLs itself at one point of the save: `node --import tsx save-pair-child.ts W STEPS POINT`.
// POINT is a SaveHook point name, or `none` to finish. Used by pair-crash.test.ts.
import { writePair } from '../../runtime/train/pair.ts';
import { pairFiles } from './pair-files.ts';

const [weights, steps, point] = process.argv.slice(2) as [string, string, string];
writePair(...pairFiles(weights, Number(steps)), (p) => {
  if (p === point) process.kill(process.pid, 'SIGKILL');
});
