// The arguments of a built-in layer call: constants that fix a conv's or linear's parameters, and
// the rest bound to the layer's signature and converted to its types.
import type { Span } from '../diagnostics/diagnostic.ts';
import { bindArgs, type ArgValue } from './args.ts';
import { convertArg, layers, type LayerArgs } from './layers.ts';
import type { ElabState, Frame } from './state.ts';
import { bool, typeName } from './values.ts';

/**
 * `weight = K`, `bias = B` (constants) and `trainable = true` of conv and linear: recorded as the
 * layer's fixed parameters (shapes checks them against the layer's); what remains goes to
 * layerArgs, a constant bias as `bias = true`.
 */
export function fixedArgs(
  st: ElabState,
  name: string,
  args: readonly ArgValue[],
  path: string,
  span: Span,
  frame: Frame,
): ArgValue[] {
  if (name !== 'conv' && name !== 'linear') return [...args];
  const trainableArg = args.find((a) => a.name === 'trainable');
  let trainable = false;
  if (trainableArg !== undefined) {
    if (trainableArg.value.kind !== 'bool')
      st.fail(
        'E0204',
        `\`${name}\` argument \`trainable\` must be true or false, got ${typeName(trainableArg.value)}`,
        trainableArg.span,
        {},
        frame,
      );
    trainable = trainableArg.value.value;
  }
  const rest: ArgValue[] = [];
  let given = 0;
  for (const a of args) {
    if (a === trainableArg) continue;
    if (a.name === 'weight' || (a.name === 'bias' && a.value.kind === 'const')) {
      if (a.value.kind !== 'const')
        st.fail(
          'E0204',
          `\`${name}\` argument \`weight\` must be a constant tensor of the file, got ${typeName(a.value)}`,
          a.span,
          { help: 'define it at the top level: `K = [[1.0, -1.0]]`' },
          frame,
        );
      st.fixed.set(`${path}.${a.name}`, { tensor: a.value.value, trainable, span: a.span });
      given++;
      if (a.name === 'bias') rest.push({ ...a, value: bool(true) });
      continue;
    }
    rest.push(a);
  }
  if (trainableArg !== undefined && given === 0)
    st.fail(
      'E0203',
      '`trainable` applies to a weight or bias given by a constant (`weight = K`)',
      trainableArg.span ?? span,
      {},
      frame,
    );
  return rest;
}

export function layerArgs(st: ElabState, name: string, args: readonly ArgValue[], span: Span, frame: Frame): LayerArgs {
  const layer = layers.get(name)!;
  const bound = bindArgs(
    name,
    layer.params.map((p) => ({ name: p.name, required: p.default === undefined })),
    args,
  );
  if (!bound.ok)
    st.fail('E0203', bound.message, bound.span ?? span, { help: bound.help ?? `usage: ${layer.doc}` }, frame);
  const out = new Map<string, LayerArgs extends ReadonlyMap<string, infer V> ? V : never>();
  for (const sig of layer.params) {
    const a = bound.bound.get(sig.name);
    if (!a) {
      out.set(
        sig.name,
        sig.default === null
          ? null
          : sig.type === 'pair'
            ? [sig.default as number, sig.default as number]
            : sig.type === 'triple'
              ? [sig.default as number, sig.default as number, sig.default as number]
              : sig.default!,
      );
      continue;
    }
    if (a.value.kind === 'tensor')
      st.fail('E0204', `\`${name}\` takes its tensor input first, before other arguments`, a.span, {}, frame);
    const c = convertArg(name, sig, a.value);
    if (!c.ok) st.fail(c.code, c.message, a.span, { help: `usage: ${layer.doc}` }, frame);
    out.set(sig.name, c.value);
  }
  return out;
}
