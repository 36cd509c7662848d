// Reads the `train { }` section into a typed recipe. CLI flags override it later (runtime/cli).
import type { DiagnosticBag, Span } from '../diagnostics/diagnostic.ts';
import { nearest } from '../diagnostics/suggest.ts';
import type { Arg, Expr, Program } from '../syntax/ast.ts';
import type { Pair } from '../ir/ops.ts';
import type { DataSource, InitKind, LossKind, OptimizerConfig, OptimizerKind, TrainConfig } from '../ir/recipe.ts';

/** d2l's defaults where the section is silent; torch.optim's defaults for optimizer arguments. */
export const defaultTrainConfig: TrainConfig = {
  data: { kind: 'fashion_mnist' },
  resize: null,
  batch: 256,
  epochs: 10,
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 },
  init: 'xavier_uniform',
  loss: 'cross_entropy',
  seed: 0,
};

class BadEntry extends Error {
  readonly span: Span;
  constructor(message: string, span: Span) {
    super(message);
    this.span = span;
  }
}

type Plain = number | boolean | string | readonly Plain[];

function plain(e: Expr): Plain {
  switch (e.kind) {
    case 'num': case 'str': case 'bool': return e.value;
    case 'name': return e.name;
    case 'tuple': case 'list': return e.items.map(plain);
    case 'unary':
      if (e.op === '-' && e.operand.kind === 'num') return -e.operand.value;
      break;
    default: break;
  }
  throw new BadEntry('expected a number, string, name or tuple here', e.span);
}

function choice<T extends string>(e: Expr, what: string, options: readonly T[]): T {
  const v = plain(e);
  if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T;
  const near = typeof v === 'string' ? nearest(v, options) : null;
  throw new BadEntry(`${what} must be one of ${options.join(', ')}${near ? ` (did you mean \`${near}\`?)` : ''}`, e.span);
}

function number(e: Expr, what: string, min: number, integer = false): number {
  const v = plain(e);
  if (typeof v !== 'number' || v < min || (integer && !Number.isInteger(v))) {
    throw new BadEntry(`${what} must be ${integer ? 'an integer' : 'a number'} >= ${min}`, e.span);
  }
  return v;
}

function resize(e: Expr): Pair {
  const v = plain(e);
  const items = Array.isArray(v) ? v : [v, v];
  if (items.length !== 2 || !items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 1)) {
    throw new BadEntry('resize must be a size >= 1 or (h, w)', e.span);
  }
  return [items[0] as number, items[1] as number];
}

/** `name(k = v, ...)` or a bare `name`: the callee and its keyword arguments. */
function callOf(e: Expr): { name: string; args: readonly Arg[]; span: Span } {
  if (e.kind === 'name') return { name: e.name, args: [], span: e.span };
  if (e.kind === 'call' && e.callee.kind === 'name') {
    for (const a of e.args) if (!a.name) throw new BadEntry('use keyword arguments here, e.g. `sgd(lr = 0.1)`', a.span);
    return { name: e.callee.name, args: e.args, span: e.span };
  }
  throw new BadEntry('expected a name or a call like `sgd(lr = 0.1)`', e.span);
}

function optimizer(e: Expr, base: OptimizerConfig): OptimizerConfig {
  const c = callOf(e);
  const kind = choice<OptimizerKind>({ kind: 'name', name: c.name, span: c.span }, 'optimizer', ['sgd', 'adam', 'adamw']);
  // torch.optim.AdamW's default weight decay is 0.01; SGD and Adam default to 0.
  let o: OptimizerConfig = { ...base, kind, weightDecay: kind === 'adamw' ? 0.01 : 0 };
  for (const a of c.args) {
    const key = a.name!.name;
    switch (key) {
      case 'lr': o = { ...o, lr: number(a.value, 'lr', 0) }; break;
      case 'momentum': o = { ...o, momentum: number(a.value, 'momentum', 0) }; break;
      case 'dampening': o = { ...o, dampening: number(a.value, 'dampening', 0) }; break;
      case 'weight_decay': o = { ...o, weightDecay: number(a.value, 'weight_decay', 0) }; break;
      case 'eps': o = { ...o, eps: number(a.value, 'eps', 0) }; break;
      case 'nesterov': {
        const v = plain(a.value);
        if (typeof v !== 'boolean') throw new BadEntry('nesterov must be true or false', a.value.span);
        o = { ...o, nesterov: v };
        break;
      }
      case 'betas': {
        const v = plain(a.value);
        if (!Array.isArray(v) || v.length !== 2 || !v.every((b) => typeof b === 'number' && b >= 0 && b < 1)) throw new BadEntry('betas must be (b1, b2) in [0, 1)', a.value.span);
        o = { ...o, betas: [v[0] as number, v[1] as number] };
        break;
      }
      default: throw new BadEntry(`optimizer \`${kind}\` has no argument \`${key}\` (lr, momentum, dampening, nesterov, weight_decay, betas, eps)`, a.span);
    }
  }
  return o;
}

const stringArg = (a: Arg): string => {
  if (a.value.kind !== 'str') throw new BadEntry(`${a.name!.name} must be a path in quotes`, a.value.span);
  return a.value.value;
};

/** `data fashion_mnist(resize = 96)`, `data "path/to/idx-dir"`, `data npy(inputs = "x.npy", targets = "y.npy")`. */
function data(v: Expr, cfg: TrainConfig): TrainConfig {
  if (v.kind === 'str') return { ...cfg, data: { kind: 'idx', dir: v.value } };
  const c = callOf(v);
  if (c.name === 'npy') {
    const inputs = c.args.find((a) => a.name!.name === 'inputs');
    const targets = c.args.find((a) => a.name!.name === 'targets');
    const other = c.args.find((a) => a.name!.name !== 'inputs' && a.name!.name !== 'targets');
    if (other) throw new BadEntry(`npy data has no argument \`${other.name!.name}\` (inputs, targets)`, other.span);
    if (!inputs || !targets) throw new BadEntry('npy data needs `inputs = "x.npy"` and `targets = "y.npy"`', c.span);
    return { ...cfg, data: { kind: 'npy', inputs: stringArg(inputs), targets: stringArg(targets) } };
  }
  if (c.name !== 'fashion_mnist') throw new BadEntry('data must be `fashion_mnist`, `npy(inputs = ..., targets = ...)` or an IDX directory path in quotes', v.span);
  let out: TrainConfig = { ...cfg, data: { kind: 'fashion_mnist' } };
  for (const a of c.args) {
    if (a.name!.name !== 'resize') throw new BadEntry(`data has no argument \`${a.name!.name}\` (resize)`, a.span);
    out = { ...out, resize: resize(a.value) };
  }
  return out;
}

const keys = ['data', 'resize', 'batch', 'epochs', 'optimizer', 'lr', 'init', 'loss', 'seed'] as const;

/** The recipe of the file's train sections (later entries win); bad entries are reported and skipped. */
export function readTrainConfig(program: Program, diags: DiagnosticBag): TrainConfig {
  let cfg = defaultTrainConfig;
  for (const entry of program.train.flatMap((t) => t.entries)) {
    const v = entry.value;
    try {
      switch (entry.key.name) {
        case 'data': cfg = data(v, cfg); break;
        case 'resize': cfg = { ...cfg, resize: resize(v) }; break;
        case 'batch': cfg = { ...cfg, batch: number(v, 'batch', 1, true) }; break;
        case 'epochs': cfg = { ...cfg, epochs: number(v, 'epochs', 1, true) }; break;
        case 'optimizer': cfg = { ...cfg, optimizer: optimizer(v, cfg.optimizer) }; break;
        case 'lr': cfg = { ...cfg, optimizer: { ...cfg.optimizer, lr: number(v, 'lr', 0) } }; break;
        case 'init': cfg = { ...cfg, init: choice<InitKind>(v, 'init', ['xavier_uniform', 'kaiming', 'default']) }; break;
        case 'loss': cfg = { ...cfg, loss: choice<LossKind>(v, 'loss', ['cross_entropy', 'mse_sum', 'mse_mean']) }; break;
        case 'seed': cfg = { ...cfg, seed: number(v, 'seed', 0, true) }; break;
        default: {
          const near = nearest(entry.key.name, keys);
          diags.error('E0209', `unknown train setting \`${entry.key.name}\``, entry.key.span, { help: near ? `did you mean \`${near}\`?` : `settings: ${keys.join(', ')}` });
        }
      }
    } catch (e) {
      if (!(e instanceof BadEntry)) throw e;
      diags.error('E0209', e.message, e.span);
    }
  }
  return cfg;
}
