// `cnnc export --torch-train DIR`: train.py, a PyTorch training script for the module that
// `--torch` writes (DIR/model.py), with the train section's recipe baked in as its defaults. It runs
// in one process or under `torchrun --nproc_per_node N` (DistributedDataParallel: gloo on CPUs,
// nccl on GPUs) and reads and writes cnnc's checkpoint pair (weights W and W's `.optim.safetensors`,
// runtime/train/resume.ts), so a run can move between `cnnc train` and PyTorch in both directions.
//
// What it keeps of cnnc's semantics: the epoch order (runtime/data/batches.ts's seeded mulberry32
// Fisher-Yates, ported), ToTensor's float32 /255, the resize (PyTorch's antialiased bilinear
// interpolate, which runtime/data/resize.ts reproduces in float64: they differ by float32 rounding),
// the losses and optimizers (torch.optim with the recipe's hyperparameters). What differs: the
// initial values (the same distributions, drawn by PyTorch's generator from the seed, not cnnc's),
// and under DDP a last partial batch (DistributedSampler pads it with repeated samples).
// Besides cnnc's IDX and .npy sources it reads an image folder (--image-folder: torchvision's
// ImageFolder layout, through Pillow), for users' own data.
import type { TrainConfig } from '../ir/recipe.ts';

export interface TorchTrainExport {
  /** The .cnn model's name, as the checkpoints' metadata holds it. */
  readonly model: string;
  /** The .cnn file, for the header. */
  readonly origin: string;
  /** The recipe, data paths already absolute (they were relative to the .cnn file). */
  readonly train: TrainConfig;
  /** The model's input shape without the batch dimension. */
  readonly input: readonly number[];
}

/** The source of train.py. */
export function torchTrainScript(e: TorchTrainExport): string {
  const t = e.train;
  const o = t.optimizer;
  const recipe = {
    model: e.model,
    data: t.data,
    resize: t.resize,
    batch: t.batch,
    epochs: t.epochs,
    optimizer: {
      kind: o.kind,
      lr: o.lr,
      momentum: o.momentum,
      dampening: o.dampening,
      nesterov: o.nesterov,
      weight_decay: o.weightDecay,
      betas: o.betas,
      eps: o.eps,
    },
    init: t.init,
    loss: t.loss,
    seed: t.seed,
    input: e.input,
  };
  // JSON in a raw string: no Python literal syntax to get right, and paths keep their backslashes.
  return `"""Trains ${e.model} (${e.origin}) with PyTorch; written by \`cnnc export --torch-train\`.

    python3 train.py [--epochs N] [--batch-size B] [--lr LR] [--steps K] [--data DIR] [--save W]
    torchrun --nproc_per_node N train.py ...      # DDP: B is the global batch, B / N per process
    python3 train.py --resume W --save W          # W from \`cnnc train --save W\` or from this script
    python3 train.py --image-folder ROOT          # your images: ROOT/<class>/*.png (or ROOT/train/..., ROOT/test/...)

Defaults are the train section's recipe (below). Checkpoints are cnnc's pair (W and W's
.optim.safetensors), read back by \`cnnc eval/predict/run --weights W\` and \`cnnc train --resume W\`.
"""
import json

RECIPE = json.loads(r'''${JSON.stringify(recipe)}''')
${BODY}`;
}

const BODY = String.raw`
import argparse
import gzip
import os
import re
import sys
import uuid

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import load_cnnc, model  # noqa: E402  (model.py, the --torch module, beside this file)


class Stop(Exception):
    """A user error: printed as one line, exit status 1."""


# --- The epoch order: runtime/data/batches.ts's epochOrder, in unsigned 32-bit arithmetic. ---
M32 = 0xFFFFFFFF


def _mulberry32(s):
    t = ((s ^ (s >> 15)) * (s | 1)) & M32
    t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32
    return ((t ^ (t >> 14)) & M32) / 4294967296.0


def _mix_seed(seed, epoch):
    h = (seed & M32) ^ (((epoch + 1) * 0x9E3779B9) & M32)
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & M32
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def epoch_order(count, shuffle, seed, epoch):
    """cnnc's sample order of epoch (counted from 1): the same (seed, epoch) gives the same order."""
    order = list(range(count))
    if shuffle:
        s = _mix_seed(seed, epoch)
        for i in range(count - 1, 0, -1):
            s = (s + 0x6D2B79F5) & M32
            j = int(_mulberry32(s) * (i + 1))
            order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


# --- Data: the IDX and .npy sources cnnc reads (runtime/train/data.ts). ---
STEMS = {'train': ('train-images', 'train-labels'), 'test': ('t10k-images', 't10k-labels')}
SUBDIRS = ('', 'FashionMNIST/raw', 'MNIST/raw')
DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist'


def _find(root, split, stem, rank):
    for sub in SUBDIRS:
        for name in (f'{stem}-idx{rank}-ubyte', f'{stem}.idx{rank}-ubyte'):
            for candidate in (name + '.gz', name):
                path = os.path.join(root, sub, candidate)
                if os.path.exists(path):
                    return path
    raise Stop(f'no {split} {"images" if rank == 3 else "labels"} found in {root}')


def _read_idx(path):
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_idx(root, split):
    """Images as ToTensor makes them (float32 v / 255, [N, 1, H, W]) and int64 labels."""
    images = _read_idx(_find(root, split, STEMS[split][0], 3))
    labels = _read_idx(_find(root, split, STEMS[split][1], 1))
    if len(images) != len(labels):
        raise Stop(f'{root}: {len(labels)} {split} labels for {len(images)} images')
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255)).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def load_data(data_dir):
    """(train x, train y), and (test x, test y) or None: IDX gives a test split, .npy does not."""
    source = RECIPE['data']
    if source['kind'] == 'npy' and data_dir is None:
        x = torch.from_numpy(np.load(source['inputs']).astype(np.float32))
        y = np.load(source['targets'])
        y = torch.from_numpy(y.astype(np.int64) if RECIPE['loss'] == 'cross_entropy' else y.astype(np.float32))
        return (x, y), None
    root = data_dir or (source['dir'] if source['kind'] == 'idx' else DEFAULT_DATA_DIR)
    return load_idx(root, 'train'), load_idx(root, 'test')


# --- Data: an image folder (torchvision's ImageFolder layout), read with Pillow. ---
IMAGE_TYPES = ('.png', '.jpg', '.jpeg', '.bmp')


def _class_names(root):
    names = sorted(e.name for e in os.scandir(root) if e.is_dir())
    if not names:
        raise Stop(f'--image-folder {root}: no class subfolders (expected one folder of images per class: {root}/<class>/<image>.png)')
    return names


def _read_split(root, names, Image):
    """Sorted class names are the labels 0..K-1, as torchvision's ImageFolder numbers them. Every
    image becomes the model's channels (mode L or RGB) and its H x W through the interpolate that
    prepare() uses (antialiased bilinear, PyTorch's), then [0, 1] as ToTensor scales it."""
    c, h, w = RECIPE['input']
    mode = {1: 'L', 3: 'RGB'}[c]
    xs, ys = [], []
    for label, name in enumerate(names):
        folder = os.path.join(root, name)
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_TYPES))
        if not files:
            raise Stop(f'{folder}: no images ({", ".join(IMAGE_TYPES)}) for class {name}')
        for f in files:
            path = os.path.join(folder, f)
            try:
                with Image.open(path) as im:
                    pixels = np.asarray(im.convert(mode), dtype=np.uint8)
            except (OSError, ValueError) as e:  # Pillow's UnidentifiedImageError is an OSError
                raise Stop(f'{path}: not a readable image ({e})') from None
            t = torch.from_numpy(pixels.astype(np.float32) / np.float32(255)).reshape(pixels.shape[0], pixels.shape[1], c).permute(2, 0, 1)
            if tuple(t.shape[1:]) != (h, w):
                t = F.interpolate(t.unsqueeze(0), size=(h, w), mode='bilinear', align_corners=False, antialias=True).squeeze(0)
            xs.append(t.contiguous())
            ys.append(label)
    return torch.stack(xs), torch.tensor(ys, dtype=torch.int64)


def load_image_folder(root, outputs):
    """(train x, train y), and (test x, test y) or None: ROOT/train and ROOT/test when ROOT has a
    train folder (test optional), else ROOT itself is the training set and nothing validates."""
    if not os.path.isdir(root):
        raise Stop(f'--image-folder {root}: not a directory')
    if RECIPE['loss'] != 'cross_entropy':
        raise Stop(f'--image-folder gives class labels: the recipe\'s loss is {RECIPE["loss"]}, not cross_entropy')
    if RECIPE['input'][0] not in (1, 3):
        raise Stop(f'--image-folder: the model takes {RECIPE["input"][0]} channels; images give 1 (grayscale) or 3 (RGB)')
    try:
        from PIL import Image
    except ImportError:
        raise Stop('--image-folder reads images with Pillow: install python3-pil (Debian) or pillow (pip)') from None
    split = os.path.isdir(os.path.join(root, 'train'))
    train_root = os.path.join(root, 'train') if split else root
    names = _class_names(train_root)
    if len(names) != outputs:
        raise Stop(f'--image-folder {train_root}: {len(names)} classes ({", ".join(names)}), but {RECIPE["model"]} has {outputs} outputs')
    test_root = os.path.join(root, 'test')
    test = None
    if split and os.path.isdir(test_root):
        if _class_names(test_root) != names:
            raise Stop(f'--image-folder {test_root}: classes {", ".join(_class_names(test_root))}, not those of {train_root} ({", ".join(names)})')
        test = _read_split(test_root, names, Image)
    return _read_split(train_root, names, Image), test


def outputs_of(net):
    """The model's output count, from one eval-mode forward pass of a zero image."""
    net.eval()
    with torch.no_grad():
        n = net(torch.zeros(1, *RECIPE['input'], device=next(net.parameters()).device)).shape[-1]
    net.train()
    return n


def prepare(x):
    """The train section's resize: runtime/data/resize.ts is this filter in float64, rounded once."""
    size = RECIPE['resize']
    if size is None or list(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False, antialias=True)


class Ordered(Dataset):
    """The samples in one epoch's order: DistributedSampler(shuffle=False) then deals them out."""

    def __init__(self, x, y, order):
        self.x, self.y, self.order = x, y, order

    def __len__(self):
        return len(self.order)

    def __getitem__(self, i):
        k = self.order[i]
        return self.x[k], self.y[k]


# --- The recipe: init, loss, optimizer. ---
def init_weights(net):
    """runtime/train/init.ts: default is PyTorch's own init; biases keep it under every scheme."""
    kind = RECIPE['init']
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if kind == 'xavier_uniform':
                nn.init.xavier_uniform_(m.weight)
            elif kind == 'kaiming':
                nn.init.kaiming_uniform_(m.weight, nonlinearity='relu')


def loss_fn(out, y):
    kind = RECIPE['loss']
    if kind == 'cross_entropy':
        return F.cross_entropy(out, y)
    if kind == 'mse_sum':
        return ((out - y.reshape(out.shape)) ** 2).sum()
    return F.mse_loss(out, y.reshape(out.shape))


def make_optimizer(net, o):
    params = net.parameters()
    if o['kind'] == 'sgd':
        return torch.optim.SGD(params, lr=o['lr'], momentum=o['momentum'], dampening=o['dampening'], nesterov=o['nesterov'], weight_decay=o['weight_decay'])
    adam = torch.optim.Adam if o['kind'] == 'adam' else torch.optim.AdamW
    return adam(params, lr=o['lr'], betas=tuple(o['betas']), eps=o['eps'], weight_decay=o['weight_decay'])


def state_names(o):
    """The optimizer file's tensors per parameter, as cnnc's compiler lists them (autodiff/build.ts)."""
    if o['kind'] == 'sgd':
        return ['momentum_buffer'] if o['momentum'] > 0 else []
    return ['exp_avg', 'exp_avg_sq']


# --- Checkpoints: safetensors without the safetensors package, and cnnc's pair. ---
_DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8'}


def read_safetensors(path):
    """(state_dict, metadata); the tensors through model.py's load_cnnc."""
    if not os.path.exists(path):
        raise Stop(f'{path}: no such file')
    with open(path, 'rb') as f:
        size = int.from_bytes(f.read(8), 'little')
        header = json.loads(f.read(size))
    return load_cnnc(path), header.get('__metadata__', {})


def _stage(path, tensors, metadata):
    """path.tmp-<pid>, written and fsynced (as runtime/train/checkpoint.ts stages a file)."""
    # Largest elements first keeps every tensor aligned to its element size, as cnnc writes them.
    items = sorted(tensors.items(), key=lambda kv: -kv[1].element_size())
    header, blobs, offset = {'__metadata__': metadata}, [], 0
    for name, t in items:
        data = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {'dtype': _DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(len(text).to_bytes(8, 'little') + text)
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def _commit(tmp, path):
    os.replace(tmp, path)
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def optim_path(weights):
    return re.sub(r'\.safetensors$', '', weights) + '.optim.safetensors'


def save_run(path, net, opt, o, run):
    """The pair runtime/train/pair.ts writes: one fresh pair id, the optimizer file renamed first."""
    steps, epoch = str(run['steps']), str(run['epoch'])
    pair = str(uuid.uuid4())
    state = {}
    for name, p in net.named_parameters():
        for s in state_names(o):
            value = opt.state.get(p, {}).get(s)
            state[f'{name}.{s}'] = (value if value is not None else torch.zeros_like(p)).float()
    position = run['position']
    meta = {'format': 'cnnc-optimizer', 'model': RECIPE['model'], 'steps': steps, 'epoch': epoch,
            **({'epoch_samples': str(position['samples']), 'epoch_batches': str(position['batches']), 'epoch_loss_sum': repr(position['loss_sum'])} if position else {}),
            'optimizer': o['kind'], 'lr': repr(o['lr']), 'momentum': repr(o['momentum']), 'weight_decay': repr(o['weight_decay']),
            'seed': str(run['seed']), 'batch': str(run['batch']), 'shuffle': 'true' if run['shuffle'] else 'false',
            'history': json.dumps(run['history'], separators=(',', ':')), 'pair': pair}
    tmp_weights = _stage(path, dict(net.state_dict()), {'format': 'pt', 'model': RECIPE['model'], 'steps': steps, 'epoch': epoch, 'pair': pair})
    _commit(_stage(optim_path(path), state, meta), optim_path(path))
    _commit(tmp_weights, path)


def read_run(path):
    """A pair written by 'cnnc train --save' or by this script, checked as runtime/train/resume.ts checks it."""
    weights, wmeta = read_safetensors(path)
    _, meta = read_safetensors(optim_path(path))
    file = optim_path(path)
    if meta.get('format') != 'cnnc-optimizer':
        raise Stop(f'{file}: not a cnnc optimizer file (format {meta.get("format")!r})')
    if meta.get('model') != RECIPE['model']:
        raise Stop(f'{file}: holds the training state of model {meta.get("model")}, not {RECIPE["model"]}')
    if meta.get('optimizer') != RECIPE['optimizer']['kind']:
        raise Stop(f'{file}: holds {meta.get("optimizer")} state, this script trains with {RECIPE["optimizer"]["kind"]}')
    together = wmeta.get('pair') == meta.get('pair') if 'pair' in wmeta or 'pair' in meta else wmeta.get('steps') == meta.get('steps')
    if not together:
        raise Stop(f'{path} and {file} were not saved together')
    tensors, _ = read_safetensors(file)
    position = None
    if 'epoch_samples' in meta:
        position = {'samples': int(meta['epoch_samples']), 'batches': int(meta['epoch_batches']), 'loss_sum': float(meta['epoch_loss_sum'])}
    return {'weights': weights, 'state': tensors, 'steps': int(meta['steps']), 'epoch': int(meta['epoch']),
            'seed': int(meta['seed']), 'batch': int(meta['batch']), 'shuffle': meta['shuffle'] == 'true',
            'lr': float(meta['lr']), 'momentum': float(meta['momentum']), 'weight_decay': float(meta['weight_decay']),
            'history': json.loads(meta['history']), 'position': position}


def load_state(opt, net, o, saved):
    for name, p in net.named_parameters():
        entry = {s: saved['state'][f'{name}.{s}'].to(p.device) for s in state_names(o)}
        if o['kind'] != 'sgd':
            entry['step'] = torch.tensor(float(saved['steps']))
        if entry:
            opt.state[p] = entry


# --- Evaluation and training. ---
def evaluate(net, data, device):
    """(loss per sample, accuracy) on the test split in eval mode, as 'cnnc eval' computes them."""
    x, y = data
    net.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            out = net(prepare(x[i:i + 1000]).to(device))
            yb = y[i:i + 1000].to(device)
            total += loss_fn(out, yb).item() * (1 if RECIPE['loss'] == 'mse_sum' else len(yb))
            correct += int((out.argmax(1) == yb).sum())
    net.train()
    return total / len(x), correct / len(x), correct


def main():
    r = RECIPE
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--epochs', type=int, default=r['epochs'], help=f'epochs in all, saved ones included (default {r["epochs"]})')
    p.add_argument('--batch-size', type=int, help=f'the global batch, split over the processes (default {r["batch"]}, or the resumed run\'s)')
    p.add_argument('--lr', type=float, help=f'learning rate (default {r["optimizer"]["lr"]}, or the resumed run\'s)')
    p.add_argument('--steps', type=int, help='stop after this many steps in all (saved ones included)')
    p.add_argument('--data', help='an IDX directory (Fashion-MNIST layout) instead of the recipe\'s data')
    p.add_argument('--image-folder', metavar='ROOT', help='your images instead: ROOT/<class>/<image> (PNG, JPEG, BMP), one folder per class; ROOT/train and ROOT/test if ROOT has a train folder')
    p.add_argument('--seed', type=int, help=f'init and epoch order (default {r["seed"]}, or the resumed run\'s)')
    p.add_argument('--no-shuffle', action='store_true', help='keep the data in file order')
    p.add_argument('--init', metavar='W', help='start from these weights (a cnnc checkpoint)')
    p.add_argument('--resume', metavar='W', help='continue the run saved as W (by cnnc train --save or by --save here)')
    p.add_argument('--save', metavar='W', help='save weights and optimizer state (cnnc\'s pair) at every epoch\'s end and at --steps')
    p.add_argument('--device', help='cpu, cuda, cuda:1... (default: this process\'s GPU if there is one)')
    a = p.parse_args()
    if a.init and a.resume:
        raise Stop('--resume and --init both give start weights: use one')
    if a.data and a.image_folder:
        raise Stop('--data and --image-folder both give the data: use one')

    world, rank = int(os.environ.get('WORLD_SIZE', '1')), int(os.environ.get('RANK', '0'))
    local = int(os.environ.get('LOCAL_RANK', '0'))
    device = torch.device(a.device or (f'cuda:{local}' if torch.cuda.is_available() else 'cpu'))
    if world > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    saved = read_run(a.resume) if a.resume else None
    batch = a.batch_size or (saved['batch'] if saved else r['batch'])
    seed = a.seed if a.seed is not None else (saved['seed'] if saved else r['seed'])
    shuffle = False if a.no_shuffle else (saved['shuffle'] if saved else True)
    if batch % world != 0:
        raise Stop(f'--batch-size {batch} does not split over {world} processes')
    o = dict(r['optimizer'])
    if saved:
        o.update(lr=saved['lr'], momentum=saved['momentum'], weight_decay=saved['weight_decay'])
    if a.lr is not None:
        o['lr'] = a.lr
    done = saved['epoch'] if saved else 0
    if done >= a.epochs:
        raise Stop(f'{a.resume} has trained {done} epochs already; --epochs counts them too, so ask for more than {done}')

    torch.manual_seed(seed)
    net = model()
    init_weights(net)
    if a.init:
        net.load_state_dict(load_cnnc(a.init), strict=True)
    if saved:
        net.load_state_dict(saved['weights'], strict=True)
    net.to(device)
    opt = make_optimizer(net, o)
    if saved:
        load_state(opt, net, o, saved)
    ddp = nn.parallel.DistributedDataParallel(net, device_ids=[local] if device.type == 'cuda' else None) if world > 1 else net

    (x, y), test = load_image_folder(a.image_folder, outputs_of(net)) if a.image_folder else load_data(a.data)
    steps, history = (saved['steps'], saved['history']) if saved else (0, [])
    position = saved['position'] if saved else None
    run = {'seed': seed, 'batch': batch, 'shuffle': shuffle, 'history': history}
    say = print if rank == 0 else (lambda *_: None)
    say(f'training {r["model"]} on {len(x)} samples: batch {batch} ({world} x {batch // world}), {o["kind"]} lr {o["lr"]}, loss {r["loss"]}, seed {seed}, {device}')
    stopped = False
    for epoch in range(done + 1, a.epochs + 1):
        resumed = position if epoch == done + 1 else None
        start = resumed['samples'] if resumed else 0
        batches = resumed['batches'] if resumed else 0
        loss_sum = resumed['loss_sum'] if resumed else 0.0  # the batch losses' sum (cnnc's epoch_loss_sum)
        per_sample = loss_sum * (1 if r['loss'] == 'mse_sum' else batch)
        view = Ordered(x, y, epoch_order(len(x), shuffle, seed, epoch)[start:])
        sampler = DistributedSampler(view, num_replicas=world, rank=rank, shuffle=False) if world > 1 else None
        seen = 0
        for xb, yb in DataLoader(view, batch_size=batch // world, sampler=sampler):
            if a.steps is not None and steps >= a.steps:
                stopped = True
                break
            out = ddp(prepare(xb).to(device))
            loss = loss_fn(out, yb.to(device))
            opt.zero_grad()
            # DDP averages the processes' gradients: a summed loss is their sum.
            (loss * world if r['loss'] == 'mse_sum' else loss).backward()
            opt.step()
            steps += 1
            value = loss.detach()
            if world > 1:
                dist.all_reduce(value)
                value = value if r['loss'] == 'mse_sum' else value / world
            size = min(batch, len(view) - seen)
            seen += size
            batches += 1
            loss_sum += value.item()
            per_sample += value.item() * (1 if r['loss'] == 'mse_sum' else size)
        if stopped:
            position = {'samples': start + seen, 'batches': batches, 'loss_sum': loss_sum} if seen > 0 or start > 0 else None
            run.update(steps=steps, epoch=epoch - 1, position=position)
            break
        point = {'epoch': epoch, 'trainLoss': per_sample / len(x), 'valLoss': None, 'valAcc': None}
        if test is not None and rank == 0:
            point['valLoss'], point['valAcc'], _ = evaluate(net, test, device)
        history.append(point)
        run.update(steps=steps, epoch=epoch, position=None)
        say(f'epoch {epoch}: train_loss {point["trainLoss"]:.4f}' + (f' val_loss {point["valLoss"]:.4f} val_acc {point["valAcc"]:.4f}' if point['valAcc'] is not None else '') + f' (step {steps})')
        if a.save and rank == 0:
            save_run(a.save, net, opt, o, run)
        if a.steps is not None and steps >= a.steps:
            break
    if stopped and rank == 0:
        if test is not None:
            val_loss, val_acc, correct = evaluate(net, test, device)
            say(f'stopped at step {steps}: val_loss {val_loss:.4f} val_acc {val_acc:.4f} ({correct}/{len(test[0])})')
        if a.save:
            save_run(a.save, net, opt, o, run)
    if a.save:
        say(f'saved {a.save} and {optim_path(a.save)} (step {steps})')
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    try:
        main()
    except Stop as e:
        print(f'train.py: {e}', file=sys.stderr)
        sys.exit(1)
`;
