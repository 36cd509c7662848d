// Runs one fuzz input through the CLI in-process, as a user would run it: `check`, `summary` and
// `compile --emit wgsl` (which lowers to WGSL without a GPU), and says what was wrong, if anything.
import { writeFileSync } from 'node:fs';
import { main } from '../../runtime/cli/main.ts';

export const commands: readonly (readonly string[])[] = [['check'], ['summary'], ['compile', '--emit', 'wgsl']];

/** CLI errors that name no file position because there is none: none yet for these commands. */
export const unlocatedMessages: readonly RegExp[] = [];

/** A case that takes longer is a hang for the test's purposes. */
export const caseTimeLimitMs = 10_000;

export interface Outcome {
  readonly command: string;
  readonly code: number;
  readonly ms: number;
  /** Empty when the run met every rule. */
  readonly problems: readonly string[];
}

/** Writes `content` to `path` and runs every command on it. */
export async function runCase(path: string, content: string | Uint8Array): Promise<Outcome[]> {
  writeFileSync(path, content);
  const located = new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: error`, 'm');
  const outcomes: Outcome[] = [];
  for (const [command, ...flags] of commands) {
    let stderr = '';
    const t0 = performance.now();
    const code = await main([command!, path, ...flags], {
      out: () => {},
      err: (t) => {
        stderr += t;
      },
    });
    const ms = performance.now() - t0;
    const problems: string[] = [];
    if (code !== 0 && code !== 1) problems.push(`exit ${code}`);
    if (/^\s+at /m.test(stderr)) problems.push('stack trace in stderr');
    if (code === 1 && !located.test(stderr) && !unlocatedMessages.some((m) => m.test(stderr))) {
      problems.push('exit 1 without a file:line:col location');
    }
    if (ms > caseTimeLimitMs) problems.push(`took ${Math.round(ms)} ms`);
    if (problems.length > 0) problems.push(`stderr: ${stderr.slice(0, 600)}`);
    outcomes.push({ command: command!, code, ms, problems });
  }
  return outcomes;
}
