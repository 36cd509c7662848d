// Crash safety of `--save`'s two files (pair.ts): a process saving the pair is SIGKILLed at every
// point of the save (after settling, after opening / half writing / syncing each temporary, after
// each rename). Whatever point, what is left must resume (readRun succeeds) at the previous save's
// step or the new one's, W must stay a readable state_dict, and the next save must remove the
// killed one's temporaries. The kills are real (a child process killing itself at the point), so
// nothing in the saving process gets to clean up.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { writePair } from '../../runtime/train/pair.ts';
import { optimPath, readRun } from '../../runtime/train/resume.ts';
import { shaped } from '../helpers/cnn.ts';
import { root } from '../helpers/cli.ts';
import { pairFiles } from './pair-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-pair-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const graph = shaped('model Corr2d {\n  input [1, 6, 8]\n  conv(1, kernel = (1, 2), bias = false)\n}\n');

const POINTS = [
  'settled',
  ...['w.safetensors', 'w.optim.safetensors'].flatMap((f) =>
    ['opened', 'half written', 'synced'].map((p) => `${f}: temporary ${p}`),
  ),
  'companion renamed',
  'weights renamed',
];
/** The points after which the new pair is the one to resume. */
const COMMITTED = new Set(['companion renamed', 'weights renamed']);

/** Saves the pair for `steps` in a child process killed at `point`; returns its exit signal. */
function killedSave(weights: string, steps: number, point: string): string | null {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'tests/checkpoint/save-pair-child.ts'), weights, String(steps), point],
    { cwd: root, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return r.signal;
}

const temporaries = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.tmp-'));

/** The step the pair in `dir` resumes at, or the error readRun gives. */
function resumesAt(weights: string): number {
  const run = readRun(weights, graph);
  // W alone stays a complete state_dict whose values are those of the step it says.
  expect(readCheckpoint(weights).tensors.get('0.weight')!.data[0]).toBe(run.steps);
  return run.steps;
}

function fresh(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  return join(dir, 'w.safetensors');
}

describe('a save killed at any point leaves a pair that resumes', () => {
  it('knows every point of the save (a point missing here would be untested)', () => {
    const seen: string[] = [];
    writePair(...pairFiles(fresh('points'), 1), (p) => seen.push(p));
    expect(seen).toEqual(POINTS);
  });

  it.each(POINTS)('over a previous pair: killed after %s', (point) => {
    const weights = fresh(point.replace(/[: ]+/g, '-'));
    writePair(...pairFiles(weights, 3));
    expect(killedSave(weights, 4, point)).toBe('SIGKILL');
    expect(resumesAt(weights)).toBe(COMMITTED.has(point) ? 4 : 3);
    // The next save removes whatever the killed one left.
    writePair(...pairFiles(weights, 5));
    expect(temporaries(join(weights, '..'))).toEqual([]);
    expect(resumesAt(weights)).toBe(5);
  });

  it.each(POINTS)('the first save, killed after %s: the new pair or nothing', (point) => {
    const weights = fresh(`first-${point.replace(/[: ]+/g, '-')}`);
    expect(killedSave(weights, 4, point)).toBe('SIGKILL');
    if (COMMITTED.has(point)) expect(resumesAt(weights)).toBe(4);
    else expect(() => readRun(weights, graph)).toThrow(`cannot resume from ${weights}: no such file`);
  });

  it.each(POINTS)('a save between the renames, then the next one killed after %s', (point) => {
    // The second save must first finish the first one: its pair is the previous pair now.
    const weights = fresh(`twice-${point.replace(/[: ]+/g, '-')}`);
    writePair(...pairFiles(weights, 3));
    expect(killedSave(weights, 4, 'companion renamed')).toBe('SIGKILL');
    expect(killedSave(weights, 5, point)).toBe('SIGKILL');
    expect(resumesAt(weights)).toBe(COMMITTED.has(point) ? 5 : 4);
  });

  it('a finished save leaves two files and no temporaries', () => {
    const weights = fresh('finished');
    expect(killedSave(weights, 4, 'none')).toBeNull();
    expect(readdirSync(join(weights, '..')).sort()).toEqual(['w.optim.safetensors', 'w.safetensors']);
    // Both carry the same pair id, fresh for every save.
    const id = readCheckpoint(weights).metadata.pair;
    expect(readCheckpoint(optimPath(weights)).metadata.pair).toBe(id);
    writePair(...pairFiles(weights, 4));
    expect(readCheckpoint(weights).metadata.pair).not.toBe(id);
  });

  it("leaves a live process's temporary alone and refuses weights of another save of the same step", () => {
    const weights = fresh('live');
    writePair(...pairFiles(weights, 3));
    // pid 1 is alive (the container's init): a save in progress there is not ours to remove.
    writeFileSync(`${weights}.tmp-1`, 'partial');
    // Weights of the same step count but another save: the pair id tells them apart.
    copyFileSync(weights, join(tmp, 'other.safetensors'));
    writePair(...pairFiles(weights, 3));
    expect(existsSync(`${weights}.tmp-1`)).toBe(true);
    copyFileSync(join(tmp, 'other.safetensors'), weights);
    expect(() => readRun(weights, graph)).toThrow('were not saved together');
  });
});
