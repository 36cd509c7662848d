"""PyTorch-on-CPU peer of the cnnc benchmark: d2l's LeNet or ResNet-18, trained on the weights
and batch that cnnc wrote, timed with bench/measure.ts's protocol. Run by bench/peers.ts:

    /usr/bin/python3 bench/pytorch.py '<PeerJob JSON>'

A job with "device": "cuda" (bench/device-check.ts) runs eager fp32 on the GPU instead, TF32 off
so that the GPU computes what cnnc's fp32 kernels compute.

Prints one JSON line: {stepMs, roundsMs, warmupMs, losses, threads, version}. (Not named
torch.py: Python puts the script's folder first on sys.path, and `import torch` would find it.)
"""
import json
import sys
import time

import torch
from torch.nn import functional as F

from d2l_models import lenet, resnet18

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
    return {'stepMs': min(rounds_ms), 'roundsMs': rounds_ms, 'warmupMs': warmup_ms, 'losses': losses}


def main():
    job = json.loads(sys.argv[1])
    w = job['workload']
    device = job.get('device', 'cpu')
    if device == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    else:
        torch.set_num_threads(THREADS)
    if w['classes'] != 10:
        raise SystemExit('the d2l models here have 10 classes')
    net = {'lenet': lambda: lenet('sigmoid'), 'resnet18': resnet18}[w['name']]()
    net.load_state_dict(read_safetensors(job['weights']))
    net.to(device).train()
    batch = read_safetensors(job['batch'])
    x, y = batch['x'].to(device), batch['y'].long().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=w['lr'])

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    result = measure(step, lambda loss: loss.item(), w)
    gpu = torch.cuda.get_device_name() if device == 'cuda' else None
    print(json.dumps({**result, 'threads': torch.get_num_threads(), 'version': torch.__version__, 'device': gpu or device}))


if __name__ == '__main__':
    main()
