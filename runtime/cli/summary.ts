// `cnnc check FILE` and `cnnc summary FILE [--input N,C,H,W] [--expand] [--json] [--model NAME]`.
import { renderSummary, summarize, summaryJson } from '../../compiler/shapes/summary.ts';
import type { FrontendOptions } from '../../compiler/index.ts';
import { frontend, parseInputFlag, type Output } from './io.ts';

export interface SummaryFlags {
  readonly input?: string;
  readonly model?: string;
  readonly expand?: boolean;
  readonly json?: boolean;
}

function options(flags: SummaryFlags): FrontendOptions {
  return {
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.input !== undefined ? parseInputFlag(flags.input) : {}),
  };
}

export function checkCommand(file: string, flags: SummaryFlags, io: Output): number {
  const r = frontend(file, options(flags), io);
  if (!r) return 1;
  io.out(`${file}: ok (model ${r.shaped!.model}, ${r.shaped!.nodes.length - 1} layers)\n`);
  return 0;
}

export function summaryCommand(file: string, flags: SummaryFlags, io: Output): number {
  const r = frontend(file, options(flags), io);
  if (!r) return 1;
  const s = summarize(r.shaped!, flags.expand ? 'expanded' : 'collapsed');
  io.out(flags.json ? JSON.stringify(summaryJson(s), null, 2) + '\n' : renderSummary(s) + '\n');
  return 0;
}
