"""d2l's training recipes in PyTorch on this machine's CPU, beside `cnnc train` for the README table.

Same data (Debian's Fashion-MNIST IDX files, ToTensor's /255, resized per batch with the antialiased
bilinear filter cnnc's runtime/data/resize.ts implements), model (d2l 7.6 LeNet, its ReLU/max-pool
variant, d2l 8.2.3's small VGG, d2l 8.6's ResNet-18), init (xavier_uniform_ on conv/linear weights,
d2l's init_cnn; biases and batch norm PyTorch's defaults), optimizer (plain SGD), batch, lr and
epochs as the dsl-examples/*.cnn train sections; the train split shuffled every epoch, validation
in eval mode on the test split, in order, in batches of the training batch size.

What cnnc's flags do, this does too: --steps K stops after K training steps in all (the epoch is
then reported with the steps it ran), --val-limit N validates on the first N test images only.
Timing as `cnnc train` times an epoch: the training loop including batching and resizing, without
validation. Losses as cnnc reports them: the mean of the batch losses (train and val).

Run:  /usr/bin/python3 bench/d2l_recipe.py MODEL [EPOCHS] [--lr X] [--batch-size N] [--resize H]
                                          [--steps K] [--val-limit N] [--seed S] [--threads T]
MODEL: lenet (alias sigmoid), lenet-relu (alias relu), vgg-small, resnet18.
Prints one JSON line per epoch: epoch, steps, trainLoss, valLoss, valAcc, valSamples, seconds,
samplesPerSec, secondsPerStep.
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from d2l_models import lenet, resnet18, vgg_small

DATA = '/usr/share/datasets/fashion-mnist'


def idx(name, offset):
    with gzip.open(f'{DATA}/{name}', 'rb') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def split(prefix):
    x = torch.tensor(idx(f'{prefix}-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
    y = torch.tensor(idx(f'{prefix}-labels-idx1-ubyte.gz', 8).astype(np.int64))
    return x, y


# model: (builder(size), the .cnn train section's lr, its resolution)
MODELS = {
    'lenet': (lambda size: lenet('sigmoid'), 0.1, 28),
    'lenet-relu': (lambda size: lenet('relu'), 0.1, 28),
    'vgg-small': (vgg_small, 0.01, 224),
    'resnet18': (lambda size: resnet18(), 0.01, 96),
}
ALIASES = {'sigmoid': 'lenet', 'relu': 'lenet-relu'}


def init_cnn(net):
    """d2l's init_cnn: xavier_uniform_ on every Conv2d and Linear weight."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)


def resize(x, size):
    if size == x.shape[-1]:
        return x
    return F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False, antialias=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('model', choices=[*MODELS, *ALIASES])
    p.add_argument('epochs', nargs='?', type=int, default=10)
    p.add_argument('--lr', type=float)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--resize', type=int, help='square resolution (default the .cnn recipe\'s)')
    p.add_argument('--steps', type=int, help='stop after this many training steps in all')
    p.add_argument('--val-limit', type=int, help='validate on the first N test images only')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2, help='torch threads (the machine has 2 cores)')
    a = p.parse_args()
    name = ALIASES.get(a.model, a.model)
    build, lr, size = MODELS[name]
    lr = a.lr if a.lr is not None else lr
    size = a.resize or size
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    (xt, yt), (xv, yv) = split('train'), split('t10k')
    if a.val_limit is not None:
        xv, yv = xv[:a.val_limit], yv[:a.val_limit]
    net = build(size)
    init_cnn(net)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    bs = a.batch_size
    print(json.dumps({'model': name, 'lr': lr, 'batch': bs, 'resize': size, 'steps': a.steps, 'valLimit': a.val_limit,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'params': sum(q.numel() for q in net.parameters())}), flush=True)
    steps = 0
    for epoch in range(1, a.epochs + 1):
        if a.steps is not None and steps >= a.steps:
            break
        net.train()
        t = time.perf_counter()
        order = torch.randperm(len(xt))
        losses, seen = [], 0
        for i in range(0, len(xt), bs):
            if a.steps is not None and steps >= a.steps:
                break
            b = order[i:i + bs]
            loss = F.cross_entropy(net(resize(xt[b], size)), yt[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            steps += 1
            seen += len(b)
        seconds = time.perf_counter() - t
        net.eval()
        val_losses, correct = [], 0
        with torch.no_grad():
            for i in range(0, len(xv), bs):
                logits = net(resize(xv[i:i + bs], size))
                val_losses.append(F.cross_entropy(logits, yv[i:i + bs]).item())
                correct += (logits.argmax(1) == yv[i:i + bs]).sum().item()
        print(json.dumps({'epoch': epoch, 'steps': steps, 'trainLoss': float(np.mean(losses)), 'valLoss': float(np.mean(val_losses)),
                          'valAcc': correct / len(xv), 'valSamples': len(xv), 'seconds': seconds, 'samplesPerSec': seen / seconds,
                          'secondsPerStep': seconds / len(losses)}), flush=True)


if __name__ == '__main__':
    main()
