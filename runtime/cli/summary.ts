// `cnnc check FILE` and `cnnc summary FILE [--input N,C,H,W] [--expand] [--params] [--json] [--model NAME]`.
import { renderSummary, summarize, summaryJson } from '../../compiler/shapes/summary.ts';
import type { FrontendOptions } from '../../compiler/index.ts';
import { frontend, type Output } from './io.ts';
import { type Flags, inputOption } from './options.ts';

function options(flags: Flags<'check'>): FrontendOptions {
  return {
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.set !== undefined ? { settings: flags.set } : {}),
    ...inputOption(flags),
  };
}

export function checkCommand(file: string, flags: Flags<'check'>, io: Output): number {
  const r = frontend(file, options(flags), io);
  if (!r) return 1;
  io.out(`${file}: ok (model ${r.shaped!.model}, ${r.shaped!.nodes.length - 1} layers)\n`);
  return 0;
}

export function summaryCommand(file: string, flags: Flags<'summary'>, io: Output): number {
  const r = frontend(file, options(flags), io);
  if (!r) return 1;
  const s = summarize(r.shaped!, flags.expand ? 'expanded' : 'collapsed');
  const params = flags.params === true;
  io.out(flags.json ? JSON.stringify(summaryJson(s, params), null, 2) + '\n' : renderSummary(s, params) + '\n');
  return 0;
}
