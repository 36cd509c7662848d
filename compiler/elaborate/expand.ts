// Elaboration: instantiates a model and the blocks it calls, runs repeat/for/if on parameters, and
// builds the (still lazy, shape-free) IR graph. Parameter paths are assigned here, PyTorch style.
// This file is the entry: it collects the definitions in scope, picks the model and binds its
// parameters (defaults and `--set`); instantiate.ts runs bodies, evaluate.ts expressions.
import type { DiagnosticBag, Span } from '../diagnostics/diagnostic.ts';
import type { BlockDef, Param, Program } from '../syntax/ast.ts';
import type { ConstTensor } from '../ir/constant.ts';
import type { ElaboratedGraph } from '../ir/graph.ts';
import { bindArgs, type ArgValue } from './args.ts';
import { layers } from './layers.ts';
import { builtinFunctions } from './builtins.ts';
import { Evaluator } from './evaluate.ts';
import { Instantiator } from './instantiate.ts';
import { Scope } from './scope.ts';
import { Abort, ElabState, type Frame } from './state.ts';
import { show, typeName, type Value } from './values.ts';
import { reportUnused } from './unused.ts';

export interface ElaborateOptions {
  /** Which model to elaborate; default: the last model in the file. */
  readonly model?: string;
  /** The files the program imports (compiler/imports.ts): their blocks and models are in scope. */
  readonly imports?: readonly { readonly program: Program; readonly importedAt: Span }[];
  /** The model's parameters set from outside the file (`--set NAME=VALUE`), replacing their defaults. */
  readonly settings?: readonly Param[];
}

/** `constants`: the file's constant tensors (constants.ts), visible in every body as globals. */
export function elaborate(
  program: Program,
  diags: DiagnosticBag,
  options: ElaborateOptions = {},
  constants: ReadonlyMap<string, ConstTensor> = new Map(),
): ElaboratedGraph | null {
  const defs = collectDefs([{ program, importedAt: null }, ...(options.imports ?? [])], diags);
  if (diags.hasErrors) return null;
  // The default is the file's own last model, never an imported one.
  const models = program.defs.filter((d) => d.kind === 'model');
  const model = options.model === undefined ? models.at(-1) : defs.get(options.model);
  if (model?.kind !== 'model') {
    const names = models.map((m) => m.name.name);
    const what = options.model === undefined ? 'this file defines no model' : `no model named \`${options.model}\``;
    diags.error(
      'E0208',
      `${what}${names.length ? ` (models: ${names.join(', ')})` : ''}`,
      program.span,
      options.model === undefined ? { help: 'add `model Name { input [C, H, W] ... }`' } : {},
    );
    return null;
  }
  try {
    return expandModel(model, options.settings ?? [], defs, diags, constants);
  } catch (e) {
    if (e instanceof Abort) return null;
    throw e;
  }
}

function collectDefs(
  sources: readonly { program: Program; importedAt: Span | null }[],
  diags: DiagnosticBag,
): Map<string, BlockDef> {
  const defs = new Map<string, BlockDef>();
  for (const { program, importedAt } of sources) {
    for (const d of program.defs) {
      const name = d.name.name;
      const prev = defs.get(name);
      if (layers.has(name) || builtinFunctions.has(name)) {
        diags.error(
          'E0206',
          `\`${name}\` is a built-in ${layers.has(name) ? 'layer' : 'function'} and cannot be redefined`,
          d.name.span,
        );
      } else if (prev && prev.span.file !== d.span.file && importedAt !== null) {
        // Two files define one name: the error is at the import that brought the second one in.
        diags.error(
          'E0206',
          `\`${name}\` is defined in both ${prev.span.file.path} and ${d.span.file.path}`,
          importedAt,
          {
            notes: [
              { message: 'one definition', span: prev.name.span },
              { message: 'the other', span: d.name.span },
            ],
            help: 'rename one of them',
          },
        );
      } else if (prev) {
        diags.error('E0206', `\`${name}\` is defined twice`, d.name.span, {
          notes: [{ message: 'first defined here', span: prev.name.span }],
        });
      } else {
        defs.set(name, d);
      }
    }
  }
  return defs;
}

/** The model `def` expanded into a graph, its parameters set by `settings` where given. */
function expandModel(
  def: BlockDef,
  settings: readonly Param[],
  defs: ReadonlyMap<string, BlockDef>,
  diags: DiagnosticBag,
  constants: ReadonlyMap<string, ConstTensor>,
): ElaboratedGraph {
  const st: ElabState = new ElabState(defs, diags, constants);
  const ev = new Evaluator(st);
  const inst = new Instantiator(st, ev);
  const scope = new Scope(st.globals);
  const set = boundSettings(st, ev, def, settings);
  for (const p of def.params) {
    if (!p.default) st.fail('E0203', `model parameter \`${p.name.name}\` needs a default value`, p.span);
    const dflt = ev.expr(p.default, st.globals, null, null);
    const given = set.get(p.name.name);
    if (given)
      checkSetting(
        st,
        p.name.name,
        dflt,
        given.value,
        settings.find((q) => q.name.name === p.name.name)!.default!.span,
      );
    scope.set(p.name.name, given ? given.value : dflt);
  }
  const frame: Frame = { prefix: '', counter: { next: 0 }, callers: [], isModel: true, paths: new Map() };
  const out = inst.body(def.body, scope, frame, null);
  const input = st.nodes.find((n) => n.op === 'input');
  if (out === null || !input) {
    st.fail('E0207', `model \`${def.name.name}\` has no \`input [C, H, W]\` statement`, def.name.span);
  }
  if (out === input.id) {
    st.fail('E0213', `model \`${def.name.name}\` has no layers: its output is its input`, def.name.span, {
      notes: [{ message: 'the input is declared here', span: input.span }],
      help: 'add layers after `input`, ending in `linear(num_classes)` for a classifier',
    });
  }
  reportUnused(st.nodes, out, st.origins, st.diags);
  return {
    model: def.name.name,
    nodes: st.nodes,
    output: out,
    ...(st.fixed.size > 0 ? { fixed: st.fixed } : {}),
  };
}

/** `--set NAME=VALUE`: bound to the model's parameters as keyword arguments, evaluated as defaults are. */
function boundSettings(
  st: ElabState,
  ev: Evaluator,
  def: BlockDef,
  settings: readonly Param[],
): ReadonlyMap<string, ArgValue> {
  const args = settings.map((s) => ({
    name: s.name.name,
    value: ev.expr(s.default!, st.globals, null, null),
    span: s.name.span,
  }));
  const bound = bindArgs(
    `model ${def.name.name}`,
    def.params.map((p) => ({ name: p.name.name, required: false })),
    args,
  );
  if (!bound.ok)
    st.fail('E0203', bound.message, bound.span ?? def.name.span, bound.help !== undefined ? { help: bound.help } : {});
  return bound.bound;
}

/**
 * A set value has its default's kind (a number, a tuple, a bool, a string, a layer), as the model
 * was written for it. Whether a number fits (an int for channels) is checked where it is used.
 */
function checkSetting(st: ElabState, name: string, dflt: Value, given: Value, span: Span): void {
  const kind = (v: Value): string => (v.kind === 'range' ? 'seq' : v.kind);
  if (kind(dflt) === kind(given)) return;
  const want = dflt.kind === 'num' ? 'a number' : typeName(dflt);
  st.fail(
    'E0204',
    `\`--set ${name}\` expects ${want} like its default \`${show(dflt)}\`, got ${typeName(given)} \`${show(given)}\``,
    span,
  );
}
