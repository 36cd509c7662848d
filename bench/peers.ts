// Runs a peer framework on a PeerJob in a process of its own, so that a crash, a hang or a missing
// install in it cannot take the benchmark down: the peer's row then says why it has no numbers.
import { spawn } from 'node:child_process';
import type { PeerJob } from './exchange.ts';
import type { StepTiming } from './measure.ts';

export type PeerName = 'tfjs-webgpu' | 'pytorch-cpu';

export interface PeerTiming extends StepTiming {
  readonly version: string;
}

export type PeerOutcome =
  | { readonly ok: true; readonly timing: PeerTiming }
  | { readonly ok: false; readonly reason: string };

const PYTHON = '/usr/bin/python3';

const commands: Record<PeerName, (job: string) => readonly string[]> = {
  'tfjs-webgpu': (job) => [process.execPath, '--import', 'tsx', 'bench/tfjs.ts', job],
  'pytorch-cpu': (job) => [PYTHON, 'bench/pytorch.py', job],
};

export function runPeer(peer: PeerName, job: PeerJob, timeoutMs: number): Promise<PeerOutcome> {
  const [cmd, ...args] = commands[peer](JSON.stringify(job));
  return new Promise((resolve) => {
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `${cmd} could not start: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) return resolve({ ok: true, timing: JSON.parse(line) as PeerTiming });
      const why =
        signal === 'SIGKILL' ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited with ${code ?? signal}`;
      const lastErr = stderr
        .trim()
        .split('\n')
        .filter((l) => !l.includes('artificially reduced'))
        .slice(-3)
        .join(' | ');
      resolve({ ok: false, reason: `${why}${lastErr ? `: ${lastErr}` : ''}` });
    });
  });
}
