"""PyTorch-on-CPU peer of the cnnc benchmark: d2l's LeNet or ResNet-18, trained on the weights
and batch that cnnc wrote, timed with bench/measure.ts's protocol. Run by bench/peers.ts:

    /usr/bin/python3 bench/pytorch.py '<PeerJob JSON>'

Prints one JSON line: {stepMs, roundsMs, warmupMs, losses, threads, version}. (Not named
torch.py: Python puts the script's folder first on sys.path, and `import torch` would find it.)
"""
import json
import statistics
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

THREADS = 2  # the machine's cores; set explicitly so a bigger machine does not change the ratio


def read_safetensors(path):
    """The safetensors format: u64 header length, JSON header, raw little-endian tensors."""
    with open(path, 'rb') as f:
        data = f.read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    dtypes = {'F32': torch.float32, 'I32': torch.int32, 'I64': torch.int64}
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        raw = bytearray(data[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=dtypes[info['dtype']]).reshape(info['shape'])
    return out


def lenet(classes):
    """d2l 7.6, with the input channels spelled out (LazyConv2d would need a dry run)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, classes))


class Residual(nn.Module):
    """d2l 8.6's Residual, attribute names kept so the state_dict keys match cnnc's."""

    def __init__(self, in_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet18(classes):
    """d2l 8.6's ResNet18: b1, stages b2..b5, then last, the module names cnnc's state_dict uses."""
    net = nn.Sequential(nn.Sequential(
        nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    in_channels = 64
    for i, num_channels in enumerate((64, 128, 256, 512)):
        first = i == 0
        blk = [Residual(in_channels, num_channels, use_1x1conv=not first, strides=1 if first else 2),
               Residual(num_channels, num_channels)]
        net.add_module(f'b{i + 2}', nn.Sequential(*blk))
        in_channels = num_channels
    net.add_module('last', nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, classes)))
    return net


def measure(step, loss_of, w):
    """bench/measure.ts's protocol. PyTorch on the CPU is synchronous; .item() is the readback."""
    losses, warmup_ms, rounds_ms = [], [], []
    for _ in range(w['warmup']):
        t0 = time.perf_counter()
        losses.append(loss_of(step()))
        warmup_ms.append((time.perf_counter() - t0) * 1e3)
    for r in range(w['rounds']):
        t0 = time.perf_counter()
        for _ in range(w['stepsPerRound']):
            last = step()
        value = loss_of(last)
        rounds_ms.append((time.perf_counter() - t0) * 1e3 / w['stepsPerRound'])
        if value != value or abs(value) == float('inf'):
            raise RuntimeError(f'loss became {value} in timed round {r + 1}')
    return {'stepMs': statistics.median(rounds_ms), 'roundsMs': rounds_ms, 'warmupMs': warmup_ms, 'losses': losses}


def main():
    job = json.loads(sys.argv[1])
    w = job['workload']
    torch.set_num_threads(THREADS)
    net = {'lenet': lenet, 'resnet18': resnet18}[w['name']](w['classes'])
    net.load_state_dict(read_safetensors(job['weights']))
    net.train()
    batch = read_safetensors(job['batch'])
    x, y = batch['x'], batch['y'].long()
    optimizer = torch.optim.SGD(net.parameters(), lr=w['lr'])

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    result = measure(step, lambda loss: loss.item(), w)
    print(json.dumps({**result, 'threads': torch.get_num_threads(), 'version': torch.__version__}))


if __name__ == '__main__':
    main()
