"""Runs modules written by `cnnc export --torch` for tests/export: one process for many models.

    /usr/bin/python3 tests/export/run_exported.py JOBS.json

JOBS.json is a list of {module, weights, input, output, dtype ('float64' or 'float32')}:
import `module`, build `model()`, `load_state_dict(load_cnnc(weights), strict=True)`, convert to
dtype, eval mode, run it on the tensor `x` of the safetensors file `input`, and write the output
as little-endian float64 to `output`. Prints one JSON line per job: the state_dict keys in order,
the number of learnable parameters and the output shape.
"""
import importlib.util
import json
import sys

import torch


def load(path):
    spec = importlib.util.spec_from_file_location('exported', path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        m = load(job['module'])
        net = m.model()
        net.load_state_dict(m.load_cnnc(job['weights']), strict=True)
        keys = list(net.state_dict().keys())
        dtype = getattr(torch, job['dtype'])
        net = net.to(dtype).eval()
        x = m.load_cnnc(job['input'])['x'].to(dtype)
        with torch.no_grad():
            y = net(x)
        y.to(torch.float64).numpy().astype('<f8').tofile(job['output'])
        print(json.dumps({'keys': keys, 'params': sum(p.numel() for p in net.parameters()), 'shape': list(y.shape)}))


if __name__ == '__main__':
    main()
