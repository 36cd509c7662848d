// The syntax layer's entry point: source text -> AST plus diagnostics. Never throws for user
// input; with syntax errors the AST is partial and callers stop at the diagnostics.
import type { IRecognitionException } from 'chevrotain';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { Diagnostic, Span } from '../diagnostics/diagnostic.ts';
import type { SourceFile } from '../diagnostics/source.ts';
import type { Param, Program } from './ast.ts';
import { tokenize } from './lexer.ts';
import { SyntaxMessages } from './messages.ts';
import { CnnParser } from './parser.ts';
import { toAst, toParam } from './to-ast.ts';

// Building the parser runs chevrotain's grammar analysis, so it is done once and reused.
const messages = new SyntaxMessages();
const parser = new CnnParser(messages);

export function parse(file: SourceFile): { program: Program; diagnostics: readonly Diagnostic[] } {
  const lexed = tokenize(file);
  const bag = new DiagnosticBag();
  for (const d of lexed.diagnostics) bag.add(d);
  messages.reset(lexed.tokens);
  // A copy: chevrotain pads the vector it is given with end-of-file tokens.
  parser.input = [...lexed.tokens];
  const cst = parser.file();
  const linesWithErrors = new Set<number>();
  for (const e of parser.errors) {
    const span = errorSpan(file, e);
    // After the first error on a line, recovery often trips over the rest of that line (or
    // over several '}' missing at the end of the file); the first message is the one that
    // explains it.
    const line = file.position(span.start).line;
    if (linesWithErrors.has(line)) continue;
    linesWithErrors.add(line);
    bag.error('E0110', e.message, span);
  }
  const program = toAst(file, cst);
  checkParamOrder(program, bag);
  return { program, diagnostics: bag.all };
}

/**
 * A model parameter set from outside the file (`cnnc --set NAME=VALUE`): `file` holds the text
 * `NAME=VALUE`, parsed as a parameter with its default (the grammar's `param` rule), so the value
 * is any expression a default can be and errors point into the flag.
 */
export function parseSetting(file: SourceFile): { param: Param | null; diagnostics: readonly Diagnostic[] } {
  const lexed = tokenize(file);
  const bag = new DiagnosticBag();
  for (const d of lexed.diagnostics) bag.add(d);
  if (bag.hasErrors) return { param: null, diagnostics: bag.all };
  messages.reset(lexed.tokens);
  parser.input = [...lexed.tokens];
  const cst = parser.param();
  const first = parser.errors[0];
  if (first !== undefined) {
    // The messages speak of a file's top level where input is left over; here a value ended early.
    const left =
      first.name === 'NotAllInputParsedException' ? `unexpected '${first.token.image}' after the value` : null;
    bag.error('E0110', left ?? first.message.replace('end of file', 'end of the value'), errorSpan(file, first));
    return { param: null, diagnostics: bag.all };
  }
  const param = toParam(file, cst);
  if (param.default === null) {
    bag.error('E0110', `\`--set ${param.name.name}\` needs a value: --set ${param.name.name}=VALUE`, param.span);
    return { param: null, diagnostics: bag.all };
  }
  return { param, diagnostics: bag.all };
}

function errorSpan(file: SourceFile, e: IRecognitionException): Span {
  const tok = e.token;
  if (!Number.isNaN(tok.startOffset) && tok.endOffset !== undefined && !Number.isNaN(tok.endOffset)) {
    return { file, start: tok.startOffset, end: tok.endOffset + 1 };
  }
  // End of file: point just past the last non-blank character, where the missing text belongs.
  const end = file.text.trimEnd().length;
  return { file, start: end, end };
}

// Part of the grammar (docs/language.md, `params`), checked here rather than in the parser so
// the message can name both parameters.
function checkParamOrder(program: Program, bag: DiagnosticBag): void {
  for (const def of program.defs) {
    const firstDefault = def.params.find((p) => p.default !== null);
    if (firstDefault === undefined) continue;
    for (const p of def.params.slice(def.params.indexOf(firstDefault) + 1)) {
      if (p.default !== null) continue;
      bag.error(
        'E0110',
        `parameter \`${p.name.name}\` needs a default value: it follows \`${firstDefault.name.name}\`, which has one`,
        p.span,
        {
          help: 'parameters with defaults come after those without',
        },
      );
    }
  }
}
