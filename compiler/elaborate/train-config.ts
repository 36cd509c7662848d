// Reads the `train { }` section into a typed recipe. CLI flags override it later (runtime/cli).
import type { DiagnosticBag, Span } from '../diagnostics/diagnostic.ts';
import type { DiagCode } from '../diagnostics/codes.ts';
import { f32Problem } from '../ir/f32.ts';
import { MAX_INT_ARG } from './layers.ts';
import { nearest } from '../diagnostics/suggest.ts';
import type { Arg, Expr, Program } from '../syntax/ast.ts';
import type { ConstTensor } from '../ir/constant.ts';
import type { Pair } from '../ir/ops.ts';
import type { InitKind, LossKind, OptimizerConfig, OptimizerKind, TrainConfig } from '../ir/recipe.ts';

/** d2l's defaults where the section is silent; torch.optim's defaults for optimizer arguments. */
export const defaultTrainConfig: TrainConfig = {
  data: { kind: 'fashion_mnist' },
  resize: null,
  batch: 256,
  epochs: 10,
  optimizer: {
    kind: 'sgd',
    lr: 0.1,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    weightDecay: 0,
    betas: [0.9, 0.999],
    eps: 1e-8,
  },
  init: 'xavier_uniform',
  loss: 'cross_entropy',
  seed: 0,
};

class BadEntry extends Error {
  readonly span: Span;
  readonly code: DiagCode;
  constructor(message: string, span: Span, code: DiagCode = 'E0209') {
    super(message);
    this.span = span;
    this.code = code;
  }
}

type Plain = number | boolean | string | readonly Plain[];

function plain(e: Expr): Plain {
  switch (e.kind) {
    case 'num':
    case 'str':
    case 'bool':
      return e.value;
    case 'name':
      return e.name;
    case 'tuple':
    case 'list':
      return e.items.map(plain);
    case 'unary':
      if (e.op === '-' && e.operand.kind === 'num') return -e.operand.value;
      break;
    default:
      break;
  }
  throw new BadEntry('expected a number, string, name or tuple here', e.span);
}

function choice<T extends string>(e: Expr, what: string, options: readonly T[]): T {
  const v = plain(e);
  if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T;
  const near = typeof v === 'string' ? nearest(v, options) : null;
  throw new BadEntry(
    `${what} must be one of ${options.join(', ')}${near ? ` (did you mean \`${near}\`?)` : ''}`,
    e.span,
  );
}

/** An integer setting from `min` to `max` (batch, epochs, seed). */
function integer(e: Expr, what: string, min: number, max: number): number {
  const v = plain(e);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new BadEntry(`${what} must be an integer >= ${min}`, e.span);
  if (v < min || v > max)
    throw new BadEntry(`${what} must be an integer from ${min} to ${max}, got ${v}`, e.span, 'E0211');
  return v;
}

/** Where a hyperparameter must lie; every one also must be an f32, as the kernels read it. */
interface Domain {
  readonly min: number;
  /** `min` itself excluded (lr > 0, eps > 0). */
  readonly minOpen?: boolean;
  /** Excluded upper bound (betas < 1). */
  readonly below?: number;
}

const domainText = (d: Domain): string =>
  [`${d.minOpen ? '>' : '>='} ${d.min}`, ...(d.below === undefined ? [] : [`< ${d.below}`])].join(' and ');

/** A float hyperparameter checked where it is written: f32-representable and in its domain. */
function hyper(x: unknown, span: Span, what: string, d: Domain): number {
  if (typeof x !== 'number') throw new BadEntry(`${what} must be a number`, span);
  const problem = f32Problem(x);
  if (problem !== null) throw new BadEntry(`${what} ${problem}`, span, 'E0211');
  if (d.minOpen ? !(x > d.min) : !(x >= d.min))
    throw new BadEntry(`${what} must be ${domainText(d)}, got ${x}`, span, 'E0211');
  if (d.below !== undefined && !(x < d.below))
    throw new BadEntry(`${what} must be ${domainText(d)}, got ${x}`, span, 'E0211');
  return x;
}

const float = (e: Expr, what: string, d: Domain): number => hyper(plain(e), e.span, what, d);

/** Every f32 the optimizer kernels print from the recipe beyond the settings themselves (for CLI overrides too). */
export function derivedProblem(o: OptimizerConfig): string | null {
  // AdamW decays by the literal 1 - lr * weight_decay.
  const decay = o.kind === 'adamw' ? 1 - o.lr * o.weightDecay : 0;
  const problem = f32Problem(decay);
  return problem === null ? null : `AdamW's decay factor 1 - lr * weight_decay ${problem}`;
}

function resize(e: Expr): Pair {
  const v = plain(e);
  const items = Array.isArray(v) ? v : [v, v];
  if (items.length !== 2 || !items.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 1)) {
    throw new BadEntry('resize must be a size >= 1 or (h, w)', e.span);
  }
  if (items.some((x) => (x as number) > MAX_INT_ARG))
    throw new BadEntry(`resize must be at most ${MAX_INT_ARG}`, e.span, 'E0211');
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
  const kind = choice<OptimizerKind>({ kind: 'name', name: c.name, span: c.span }, 'optimizer', [
    'sgd',
    'adam',
    'adamw',
  ]);
  // torch.optim.AdamW's default weight decay is 0.01; SGD and Adam default to 0.
  let o: OptimizerConfig = { ...base, kind, weightDecay: kind === 'adamw' ? 0.01 : 0 };
  for (const a of c.args) {
    const key = a.name!.name;
    switch (key) {
      case 'lr':
        o = { ...o, lr: float(a.value, 'lr', LR) };
        break;
      case 'momentum':
        o = { ...o, momentum: float(a.value, 'momentum', { min: 0 }) };
        break;
      case 'dampening':
        o = { ...o, dampening: float(a.value, 'dampening', { min: 0 }) };
        break;
      case 'weight_decay':
        o = { ...o, weightDecay: float(a.value, 'weight_decay', { min: 0 }) };
        break;
      case 'eps':
        o = { ...o, eps: float(a.value, 'eps', { min: 0, minOpen: true }) };
        break;
      case 'nesterov': {
        const v = plain(a.value);
        if (typeof v !== 'boolean') throw new BadEntry('nesterov must be true or false', a.value.span);
        o = { ...o, nesterov: v };
        break;
      }
      case 'betas': {
        const v = plain(a.value);
        if (!Array.isArray(v) || v.length !== 2) throw new BadEntry('betas must be (b1, b2) in [0, 1)', a.value.span);
        const items = a.value.kind === 'tuple' || a.value.kind === 'list' ? a.value.items : [];
        const beta = (i: 0 | 1) => hyper(v[i], items[i]?.span ?? a.value.span, `betas[${i}]`, { min: 0, below: 1 });
        o = { ...o, betas: [beta(0), beta(1)] };
        break;
      }
      default:
        throw new BadEntry(
          `optimizer \`${kind}\` has no argument \`${key}\` (lr, momentum, dampening, nesterov, weight_decay, betas, eps)`,
          a.span,
        );
    }
  }
  return o;
}

const stringArg = (a: Arg): string => {
  if (a.value.kind !== 'str') throw new BadEntry(`${a.name!.name} must be a path in quotes`, a.value.span);
  return a.value.value;
};

/**
 * `data fashion_mnist(resize = 96)`, `data "path/to/idx-dir"`, `data npy(inputs = "x.npy", targets = "y.npy")`,
 * `data tensors(inputs = X, targets = Y)` (constants of the file, [N, ...] each).
 */
function data(v: Expr, cfg: TrainConfig, constants: ReadonlyMap<string, ConstTensor>): TrainConfig {
  if (v.kind === 'str') return { ...cfg, data: { kind: 'idx', dir: v.value } };
  const c = callOf(v);
  if (c.name === 'tensors') {
    const inputs = c.args.find((a) => a.name!.name === 'inputs');
    const targets = c.args.find((a) => a.name!.name === 'targets');
    const other = c.args.find((a) => a.name!.name !== 'inputs' && a.name!.name !== 'targets');
    if (other) throw new BadEntry(`tensors data has no argument \`${other.name!.name}\` (inputs, targets)`, other.span);
    if (!inputs || !targets)
      throw new BadEntry('tensors data needs `inputs = X` and `targets = Y`, constant tensors of the file', c.span);
    const constant = (a: Arg): ConstTensor => {
      const t = a.value.kind === 'name' ? constants.get(a.value.name) : undefined;
      if (t === undefined)
        throw new BadEntry(`${a.name!.name} must name a constant tensor of the file`, a.value.span, 'E0201');
      if (t.shape.length < 2)
        throw new BadEntry(
          `${a.name!.name} is [${t.shape.join(', ')}]; samples are [N, ...] (reshape it, e.g. reshape(X, (1, 1, 6, 8)))`,
          a.value.span,
          'E0234',
        );
      return t;
    };
    const [x, y] = [constant(inputs), constant(targets)];
    if (x.shape[0] !== y.shape[0])
      throw new BadEntry(
        `${x.shape[0]} inputs but ${y.shape[0]} targets (the first dimension counts samples)`,
        c.span,
        'E0234',
      );
    return { ...cfg, data: { kind: 'tensors', inputs: x, targets: y } };
  }
  if (c.name === 'npy') {
    const inputs = c.args.find((a) => a.name!.name === 'inputs');
    const targets = c.args.find((a) => a.name!.name === 'targets');
    const other = c.args.find((a) => a.name!.name !== 'inputs' && a.name!.name !== 'targets');
    if (other) throw new BadEntry(`npy data has no argument \`${other.name!.name}\` (inputs, targets)`, other.span);
    if (!inputs || !targets) throw new BadEntry('npy data needs `inputs = "x.npy"` and `targets = "y.npy"`', c.span);
    return { ...cfg, data: { kind: 'npy', inputs: stringArg(inputs), targets: stringArg(targets) } };
  }
  if (c.name !== 'fashion_mnist')
    throw new BadEntry(
      'data must be `fashion_mnist`, `npy(inputs = ..., targets = ...)`, `tensors(inputs = X, targets = Y)` or an IDX directory path in quotes',
      v.span,
    );
  let out: TrainConfig = { ...cfg, data: { kind: 'fashion_mnist' } };
  for (const a of c.args) {
    if (a.name!.name !== 'resize') throw new BadEntry(`data has no argument \`${a.name!.name}\` (resize)`, a.span);
    out = { ...out, resize: resize(a.value) };
  }
  return out;
}

/** The learning rate: 0 would train nothing, so it is refused as a slip (PyTorch allows it). */
const LR: Domain = { min: 0, minOpen: true };

const keys = ['data', 'resize', 'batch', 'epochs', 'optimizer', 'lr', 'init', 'loss', 'seed'] as const;

/** The recipe of the file's train sections (later entries win); bad entries are reported and skipped. */
export function readTrainConfig(
  program: Program,
  diags: DiagnosticBag,
  constants: ReadonlyMap<string, ConstTensor> = new Map(),
): TrainConfig {
  let cfg = defaultTrainConfig;
  for (const entry of program.train.flatMap((t) => t.entries)) {
    const v = entry.value;
    try {
      switch (entry.key.name) {
        case 'data':
          cfg = data(v, cfg, constants);
          break;
        case 'resize':
          cfg = { ...cfg, resize: resize(v) };
          break;
        case 'batch':
          cfg = { ...cfg, batch: integer(v, 'batch', 1, MAX_INT_ARG) };
          break;
        case 'epochs':
          cfg = { ...cfg, epochs: integer(v, 'epochs', 1, Number.MAX_SAFE_INTEGER) };
          break;
        case 'optimizer':
          cfg = { ...cfg, optimizer: optimizer(v, cfg.optimizer) };
          break;
        case 'lr':
          cfg = { ...cfg, optimizer: { ...cfg.optimizer, lr: float(v, 'lr', LR) } };
          break;
        case 'init':
          cfg = { ...cfg, init: choice<InitKind>(v, 'init', ['xavier_uniform', 'kaiming', 'default']) };
          break;
        case 'loss':
          cfg = { ...cfg, loss: choice<LossKind>(v, 'loss', ['cross_entropy', 'mse_sum', 'mse_mean']) };
          break;
        case 'seed':
          cfg = { ...cfg, seed: integer(v, 'seed', 0, Number.MAX_SAFE_INTEGER) };
          break;
        default: {
          const near = nearest(entry.key.name, keys);
          diags.error('E0209', `unknown train setting \`${entry.key.name}\``, entry.key.span, {
            help: near ? `did you mean \`${near}\`?` : `settings: ${keys.join(', ')}`,
          });
        }
      }
      if (entry.key.name === 'optimizer' || entry.key.name === 'lr') {
        const problem = derivedProblem(cfg.optimizer);
        if (problem !== null) throw new BadEntry(problem, v.span, 'E0211');
      }
    } catch (e) {
      if (!(e instanceof BadEntry)) throw e;
      diags.error(e.code, e.message, e.span);
    }
  }
  return cfg;
}
