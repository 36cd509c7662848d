// A shaped graph as a self-contained PyTorch module (`cnnc export --torch`). The module tree comes
// from the nodes' state_dict paths, so `state_dict()` keys and layouts equal cnnc's checkpoint names:
// every block instance is a container, a chain (each layer reading the one before, nothing outside
// reading inside) an `nn.Sequential` called as one, any other (residual `+`, `concat`) a `Block`
// whose layers the model's forward runs one by one along the graph. Lazy layers are written with the
// in-channels shape inference found. An op or attribute this file does not know is a located
// error (E0501), never a silently different module.
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { ShapedGraph, ShapedNode } from '../ir/graph.ts';
import type { OpAttrs, OpKind } from '../ir/ops.ts';
import type { Pool2dAttrs } from '../ir/pool-window.ts';

/** Each op's PyTorch module, given the node (its attrs and its input's shape); null: no module (a tensor op). */
interface TorchOp {
  /** The attributes the module below reads: any other attribute would change what the op computes. */
  readonly attrs: readonly string[];
  readonly module: ((n: ShapedNode, input: readonly number[]) => string) | null;
}

const py = (v: number | boolean): string => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
const pair = (p: readonly [number, number]): string => `(${p[0]}, ${p[1]})`;
const tuple = (p: readonly number[]): string => `(${p.join(', ')})`;
const pool = ['kernel', 'stride', 'padding'];

// Partial on purpose: an op added to the IR without a line here is refused at its layer, not mistranslated.
const TORCH: Partial<{ readonly [K in OpKind]: TorchOp }> = {
  input: { attrs: ['shape'], module: null },
  conv2d: {
    attrs: ['outChannels', 'kernel', 'stride', 'padding', 'dilation', 'groups', 'bias'],
    module: (n, x) => {
      const a = n.attrs as {
        outChannels: number;
        kernel: [number, number];
        stride: [number, number];
        padding: [number, number];
        dilation: [number, number];
        groups: number;
        bias: boolean;
      };
      return `nn.Conv2d(${x[1]}, ${a.outChannels}, kernel_size=${pair(a.kernel)}, stride=${pair(a.stride)}, padding=${pair(a.padding)}, dilation=${pair(a.dilation)}, groups=${a.groups}, bias=${py(a.bias)})`;
    },
  },
  linear: {
    attrs: ['outFeatures', 'bias'],
    module: (n, x) => {
      const a = n.attrs as { outFeatures: number; bias: boolean };
      return `nn.Linear(${x[1]}, ${a.outFeatures}, bias=${py(a.bias)})`;
    },
  },
  maxpool2d: {
    attrs: [...pool, 'dilation', 'ceilMode'],
    module: (n) => {
      const a = n.attrs as OpAttrs['maxpool2d'];
      return `nn.MaxPool2d(${poolArgs(a)}, dilation=${pair(a.dilation)}, ceil_mode=${py(a.ceilMode)})`;
    },
  },
  avgpool2d: {
    attrs: [...pool, 'ceilMode', 'countIncludePad'],
    module: (n) => {
      const a = n.attrs as OpAttrs['avgpool2d'];
      return `nn.AvgPool2d(${poolArgs(a)}, ceil_mode=${py(a.ceilMode)}, count_include_pad=${py(a.countIncludePad)})`;
    },
  },
  conv3d: {
    attrs: ['outChannels', 'kernel', 'stride', 'padding', 'dilation', 'groups', 'bias'],
    module: (n, x) => {
      const a = n.attrs as OpAttrs['conv3d'];
      return `nn.Conv3d(${x[1]}, ${a.outChannels}, kernel_size=${tuple(a.kernel)}, stride=${tuple(a.stride)}, padding=${tuple(a.padding)}, dilation=${tuple(a.dilation)}, groups=${a.groups}, bias=${py(a.bias)})`;
    },
  },
  maxpool3d: {
    attrs: [...pool, 'dilation'],
    module: (n) => {
      const a = n.attrs as OpAttrs['maxpool3d'];
      return `nn.MaxPool3d(kernel_size=${tuple(a.kernel)}, stride=${tuple(a.stride)}, padding=${tuple(a.padding)}, dilation=${tuple(a.dilation)})`;
    },
  },
  avgpool3d: {
    attrs: pool,
    module: (n) => {
      const a = n.attrs as OpAttrs['avgpool3d'];
      return `nn.AvgPool3d(kernel_size=${tuple(a.kernel)}, stride=${tuple(a.stride)}, padding=${tuple(a.padding)})`;
    },
  },
  adaptive_avgpool2d: {
    attrs: ['output'],
    module: (n) => `nn.AdaptiveAvgPool2d(${pair((n.attrs as { output: [number, number] }).output)})`,
  },
  batchnorm: {
    attrs: ['eps', 'momentum'],
    module: (n, x) => {
      const a = n.attrs as { eps: number; momentum: number };
      return `nn.BatchNorm${x.length === 5 ? '3d' : x.length === 4 ? '2d' : '1d'}(${x[1]}, eps=${py(a.eps)}, momentum=${py(a.momentum)})`;
    },
  },
  dropout: { attrs: ['p'], module: (n) => `nn.Dropout(p=${py((n.attrs as { p: number }).p)})` },
  flatten: { attrs: [], module: () => 'nn.Flatten()' },
  relu: { attrs: [], module: () => 'nn.ReLU()' },
  sigmoid: { attrs: [], module: () => 'nn.Sigmoid()' },
  tanh: { attrs: [], module: () => 'nn.Tanh()' },
  identity: { attrs: [], module: () => 'nn.Identity()' },
  leaky_relu: {
    attrs: ['slope'],
    module: (n) => `nn.LeakyReLU(negative_slope=${py((n.attrs as { slope: number }).slope)})`,
  },
  add: { attrs: [], module: null },
  concat: { attrs: [], module: null },
};

function poolArgs(a: Pool2dAttrs): string {
  return `kernel_size=${pair(a.kernel)}, stride=${pair(a.stride)}, padding=${pair(a.padding)}`;
}

/** One container of the module tree: a block instance (or the model itself, path ''). */
interface Container {
  readonly path: string;
  /** The block it instantiates (the model's name for the root). */
  readonly block: string;
  /** Children in order of first appearance along the graph: leaf nodes and containers, by name. */
  readonly children: Map<string, ShapedNode | Container>;
  /** Every node inside it, the module-less ones (`+`, `concat`) included, in graph order. */
  readonly nodes: ShapedNode[];
  chain: boolean;
}

const isContainer = (c: ShapedNode | Container): c is Container => 'children' in c;

/** Checks every node against the table; reports each unknown op or attribute at its layer. */
function checkOps(g: ShapedGraph, diagnostics: DiagnosticBag): boolean {
  let ok = true;
  for (const n of g.nodes) {
    const op = TORCH[n.op];
    if (!op) {
      diagnostics.error('E0501', `\`${n.op}\` has no PyTorch equivalent in \`cnnc export\` yet`, n.span);
      ok = false;
      continue;
    }
    const unknown = Object.keys(n.attrs).filter((k) => !op.attrs.includes(k));
    if (unknown.length > 0) {
      diagnostics.error(
        'E0501',
        `\`cnnc export\` cannot express ${n.op}'s ${unknown.map((k) => `\`${k}\``).join(', ')} in PyTorch yet`,
        n.span,
      );
      ok = false;
    }
  }
  return ok;
}

/** The module tree of the graph's layers, containers marked as chains where they are. */
function moduleTree(g: ShapedGraph): Container {
  const root: Container = { path: '', block: g.model, children: new Map(), nodes: [], chain: false };
  const all: Container[] = [root];
  for (const n of g.nodes) {
    if (n.op === 'input') continue;
    const segments = n.path.split('.');
    let at = root;
    // Every block call is one path segment: a layer's containers are its callers (the residual
    // `+`, which takes no index, carries its block's path and belongs to it all the same).
    const depth = n.callers.length;
    at.nodes.push(n);
    for (let i = 0; i < depth; i++) {
      const name = segments[i]!;
      let next = at.children.get(name);
      if (!next) {
        const path = segments.slice(0, i + 1).join('.');
        next = { path, block: n.callers[i]?.block ?? 'block', children: new Map(), nodes: [], chain: false };
        at.children.set(name, next);
        all.push(next);
      }
      if (!isContainer(next)) throw new Error(`internal: ${n.path} is inside the layer ${next.path}`);
      at = next;
      at.nodes.push(n);
    }
    if (TORCH[n.op]!.module) at.children.set(segments[segments.length - 1]!, n);
  }
  const readers = new Map<number, number[]>();
  for (const n of g.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n.id]);
  for (const c of all) {
    const ids = new Set(c.nodes.map((n) => n.id));
    c.chain =
      c.nodes.length > 0 &&
      c.nodes.every(
        (n, i) =>
          TORCH[n.op]!.module !== null &&
          n.inputs.length === 1 &&
          (i === 0 ? !ids.has(n.inputs[0]!) : n.inputs[0] === c.nodes[i - 1]!.id) &&
          (i === c.nodes.length - 1 || ((readers.get(n.id) ?? []).every((r) => ids.has(r)) && n.id !== g.output)),
      );
  }
  return root;
}

/** The Python expression that builds a child: a leaf's layer, or a container with its children. */
function build(child: ShapedNode | Container, shapes: ReadonlyMap<number, readonly number[]>, indent: string): string {
  if (!isContainer(child)) return TORCH[child.op]!.module!(child, shapes.get(child.inputs[0]!)!);
  const inner = `${indent}    `;
  const entries = [...child.children];
  const numbered = entries.every(([name], i) => name === String(i));
  const items = entries.map(([name, c]) =>
    child.chain && numbered ? build(c, shapes, inner) : `(${JSON.stringify(name)}, ${build(c, shapes, inner)})`,
  );
  const body = items.map((s) => `\n${inner}${s},`).join('');
  if (child.chain)
    return numbered ? `nn.Sequential(${body}\n${indent})` : `nn.Sequential(OrderedDict([${body}\n${indent}]))`;
  return `Block(${JSON.stringify(child.block)}, [${body}\n${indent}])`;
}

/** The forward statements of a non-chain root: chains called whole, other layers one by one. */
function forwardLines(g: ShapedGraph, root: Container): string[] {
  // The outermost chain container of each node, if any.
  const unitOf = new Map<number, Container>();
  const mark = (c: Container): void => {
    for (const child of c.children.values()) {
      if (!isContainer(child)) continue;
      if (child.chain) for (const n of child.nodes) unitOf.set(n.id, child);
      else mark(child);
    }
  };
  mark(root);
  const v = (id: number): string => (g.nodes[id]!.op === 'input' ? 'x' : `x${id}`);
  const call = (path: string, arg: string): string => `self.get_submodule(${JSON.stringify(path)})(${arg})`;
  const lines: string[] = [];
  for (const n of g.nodes) {
    if (n.op === 'input') continue;
    const unit = unitOf.get(n.id);
    if (unit) {
      if (unit.nodes[unit.nodes.length - 1] === n)
        lines.push(`${v(n.id)} = ${call(unit.path, v(unit.nodes[0]!.inputs[0]!))}  # ${unit.block}`);
    } else if (n.op === 'add') lines.push(`${v(n.id)} = ${v(n.inputs[0]!)} + ${v(n.inputs[1]!)}`);
    else if (n.op === 'concat') lines.push(`${v(n.id)} = torch.cat([${n.inputs.map(v).join(', ')}], dim=1)`);
    else lines.push(`${v(n.id)} = ${call(n.path, v(n.inputs[0]!))}`);
  }
  lines.push(`return ${v(g.output)}`);
  return lines;
}

export interface TorchExport {
  /** The Python source of OUT.py. */
  readonly source: string;
  /** The model class's name (the .cnn model's, made a Python identifier). */
  readonly className: string;
}

/**
 * The Python module for a shaped graph; null (errors in `diagnostics`) when a layer has no PyTorch
 * equivalent here. `params` are the model's parameter names (refused by `model(**overrides)`: the
 * layers' sizes were fixed when the file was exported). `origin` names the .cnn file in the header.
 */
export function torchModule(
  g: ShapedGraph,
  params: readonly string[],
  origin: string,
  diagnostics: DiagnosticBag,
): TorchExport | null {
  if (!checkOps(g, diagnostics)) return null;
  const className = /^[A-Za-z_][A-Za-z0-9_]*$/.test(g.model) ? g.model : `Model_${g.model.replace(/\W/g, '_')}`;
  const root = moduleTree(g);
  const shapes = new Map(g.nodes.map((n) => [n.id, n.shape]));
  const input = g.nodes.find((n) => n.op === 'input')!.shape.slice(1);
  const children = [...root.children].map(
    ([name, c]) => `        self.add_module(${JSON.stringify(name)}, ${build(c, shapes, '        ')})`,
  );
  const forward = root.chain
    ? ['for layer in self.children():', '    x = layer(x)', 'return x']
    : forwardLines(g, root);
  const source = `${HEADER(g.model, origin, input)}
class ${className}(nn.Module):
    """${g.model} from ${origin}; \`state_dict()\` names as cnnc's checkpoints."""

    input_shape = (${input.join(', ')}${input.length === 1 ? ',' : ''})

    def __init__(self):
        super().__init__()
${children.join('\n')}

    def forward(self, x):
${forward.map((l) => `        ${l}`).join('\n')}


def model(**overrides):
    """${className} built with the .cnn file's defaults, in training mode like any new nn.Module."""
    known = (${params.map((p) => `${JSON.stringify(p)}, `).join('')})
    for name in overrides:
        if name not in known:
            raise TypeError(f'${g.model} has no parameter {name!r} (it has: {", ".join(known) or "none"})')
        raise ValueError(f'${className} was exported with the defaults of ${origin}: change {name} there and export again')
    return ${className}()
${FOOTER}`;
  return { source, className };
}

const HEADER = (
  model: string,
  origin: string,
  input: readonly number[],
): string => `"""${model}, exported by \`cnnc export\` from ${origin}.

    from <this module> import model, load_cnnc
    net = model()                                        # input [N, ${input.join(', ')}]
    net.load_state_dict(load_cnnc('weights.safetensors'))  # a cnnc checkpoint, strict

Needs only PyTorch (and NumPy).
"""
import json
from collections import OrderedDict

import numpy as np
import torch
from torch import nn


class Block(nn.Module):
    """A block instance whose body is a graph (a residual sum, a concatenation): the model's forward runs its layers."""

    def __init__(self, block, layers):
        super().__init__()
        self.block = block
        for name, layer in layers:
            self.add_module(name, layer)

    def extra_repr(self):
        return self.block

`;

const FOOTER = `

_DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8}


def load_cnnc(path):
    """A safetensors file (a cnnc checkpoint) as a state_dict of tensors, without the safetensors package."""
    with open(path, 'rb') as f:
        data = f.read()
    size = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + size])
    header.pop('__metadata__', None)
    base = 8 + size
    out = OrderedDict()
    for name, t in header.items():
        begin, end = t['data_offsets']
        array = np.frombuffer(data, dtype=_DTYPES[t['dtype']], count=(end - begin) // np.dtype(_DTYPES[t['dtype']]).itemsize, offset=base + begin)
        out[name] = torch.from_numpy(array.reshape(t['shape']).copy())
    return out
`;
