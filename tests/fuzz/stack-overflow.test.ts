// The last resort behind the nesting limits: if a stack overflow still happens somewhere, the CLI
// says so in one line (exit 2, a cnnc bug) instead of printing thousands of stack frames.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../runtime/cli/summary.ts', () => ({
  checkCommand: () => {
    const overflow = (n: number): number => overflow(n + 1) + 1;
    return overflow(0);
  },
  summaryCommand: () => 0,
}));

const { main } = await import('../../runtime/cli/main.ts');

describe('a stack overflow in a command', () => {
  it('exits 2 with the message and no stack trace', async () => {
    let stderr = '';
    const code = await main(['check', 'any.cnn'], {
      out: () => {},
      err: (t) => {
        stderr += t;
      },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('Maximum call stack size exceeded');
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
