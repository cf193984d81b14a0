"""Writes test/golden/train.safetensors: PyTorch training steps for test/train/train.test.ts. Weights come
from the shared closed-form hash (tools/hashweights.py = src/models/hashweights.ts), so the file holds only
inputs, targets, losses, gradients and updated weights. Tensors over 2000 values are sampled (every 7th
value) to keep the file small. Development time only:

    /usr/bin/python3 tools/gen_train_goldens.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402
from hashweights import hash_state_dict  # noqa: E402
from lenet import LeNet5  # noqa: E402

torch.manual_seed(3)
out = {}


def sample(a):
    a = a.detach().numpy().reshape(-1)
    return a[::7].copy() if a.size > 2000 else a.copy()


def case(name, make, x, y, loss_fn, seed, optimizers):
    model = make()
    hash_state_dict(model, seed)
    model.train()
    out[f'{name}.input'] = x.numpy()
    out[f'{name}.target'] = y.numpy().astype(np.float32)
    # one step: loss and every gradient
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    out[f'{name}.loss'] = np.array([loss.item()], dtype=np.float32)
    for k, p in model.named_parameters():
        out[f'{name}.grad.{k}'] = sample(p.grad)
    for k, b in model.named_buffers():
        if b.dtype == torch.float32:
            out[f'{name}.after1.{k}'] = b.detach().numpy().copy()
    # three steps from the same start with each optimizer, same batch each time
    for oname, make_opt in optimizers.items():
        m = make()
        hash_state_dict(m, seed)
        m.train()
        opt = make_opt(m.parameters())
        losses = []
        for _ in range(3):
            opt.zero_grad()
            l = loss_fn(m(x), y)
            l.backward()
            opt.step()
            losses.append(l.item())
        out[f'{name}.{oname}.losses'] = np.array(losses, dtype=np.float32)
        for k, p in m.named_parameters():
            out[f'{name}.{oname}.{k}'] = sample(p)


OPTS = {
    'sgd': lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    'adam': lambda ps: torch.optim.Adam(ps, lr=2e-3),
    'adamw': lambda ps: torch.optim.AdamW(ps, lr=2e-3, weight_decay=0.05),
}

x = torch.randn(8, 1, 28, 28)
y = torch.arange(8) % 10
case('lenet', lambda: LeNet5(), x, y, F.cross_entropy, 11, OPTS)
case('lenet_tanh_avg', lambda: LeNet5('tanh', 'avg'), torch.randn(4, 1, 32, 32), torch.tensor([3, 1, 4, 1]), F.cross_entropy, 12,
     {'sgd': OPTS['sgd']})


def bn_net():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10), nn.BatchNorm1d(10), nn.Tanh(), nn.Linear(10, 3))


case('bn', bn_net, torch.randn(6, 2, 8, 8), torch.tensor([0, 1, 2, 2, 1, 0]), F.cross_entropy, 13, OPTS)


def dense():
    return nn.Sequential(nn.Linear(20, 8), nn.Sigmoid(), nn.Linear(8, 20))


case('mse', dense, torch.randn(5, 20), torch.randn(5, 20), F.mse_loss, 14, OPTS)
case('bce', dense, torch.randn(5, 20), torch.rand(5, 20), F.binary_cross_entropy_with_logits, 15, {'adam': OPTS['adam']})


def conv_ae():
    return nn.Sequential(nn.Conv2d(1, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, padding=2, dilation=2),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(2 * 2 * 2, 4))


case('conv_mix', conv_ae, torch.randn(3, 1, 8, 8), torch.randn(3, 4), F.mse_loss, 16, {'sgd': OPTS['sgd']})

path = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'train.safetensors')
safetensors_py.save(path, out, {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__,
                                'generator': 'tools/gen_train_goldens.py', 'sampling': 'every 7th value when over 2000'})
print('wrote', os.path.normpath(path), os.path.getsize(path), 'bytes')
