// The fusion decisions as text (`cnnc compile --emit fusion`): per pass, what went into which
// kernel and why, and what stayed a kernel of its own and why.
import { PASSES } from '../autodiff/step-ir.ts';
import type { FusionDecision } from './fuse.ts';

/** `decisions` is null when fusion was turned off. */
export function printFusion(decisions: readonly FusionDecision[] | null): string {
  if (!decisions) return 'fusion is off (--no-fuse): every op is a kernel of its own\n';
  const lines: string[] = [];
  for (const pass of PASSES) {
    const own = decisions.filter((d) => d.pass === pass);
    const fused = own.filter((d) => d.fused).length;
    lines.push(`${pass} pass: ${fused} of ${own.length} candidates fused {`);
    for (const d of own) {
      lines.push(
        d.fused
          ? `  fused     ${d.op}  into  ${d.into}`
          : `  separate  ${d.op}${d.into ? `  (not into ${d.into})` : ''}`,
      );
      lines.push(`            ${d.why}`);
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
