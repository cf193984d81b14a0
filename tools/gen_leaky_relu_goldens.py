"""Writes test/golden/leaky_relu.safetensors: torch.nn.LeakyReLU standalone and fused behind Linear,
Conv2d (im2col and Winograd shapes) and BatchNorm, forward in eval mode and one training step's MSE loss
and parameter gradients in train mode. For each case: <case>.<state_dict key>, <case>.input,
<case>.expected (eval output), <case>.target, <case>.loss, <case>.grad.<key>. The TypeScript test is
test/nn/leaky-relu.test.ts. Development time only:

    /usr/bin/python3 tools/gen_leaky_relu_goldens.py
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402

torch.manual_seed(11)


def bn_stats(m):
    with torch.no_grad():
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.5, 0.5)
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
    return m


CASES = {
    # Linear -> LeakyReLU: fused in the GEMM epilogue (inference and training)
    'linear': (lambda: nn.Sequential(nn.Linear(9, 6), nn.LeakyReLU(0.2), nn.Linear(6, 3)), (5, 9)),
    # default slope 0.01; Linear -> BatchNorm1d -> LeakyReLU: folded + fused, in training scale_shift's epilogue
    'linear_bn': (lambda: nn.Sequential(nn.Linear(9, 6), bn_stats(nn.BatchNorm1d(6)), nn.LeakyReLU(), nn.Linear(6, 3)), (7, 9)),
    # Conv2d (C = 2: im2col) -> BatchNorm2d -> LeakyReLU
    'conv_bn': (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), bn_stats(nn.BatchNorm2d(4)), nn.LeakyReLU(0.05),
                                      nn.Flatten(), nn.Linear(4 * 5 * 5, 3)), (2, 2, 5, 5)),
    # Conv2d (C = 8, 3x3 stride 1: Winograd at inference) -> LeakyReLU
    'conv_winograd': (lambda: nn.Sequential(nn.Conv2d(8, 6, 3, padding=1), nn.LeakyReLU(0.3), nn.Flatten(),
                                            nn.Linear(6 * 6 * 6, 2)), (2, 8, 6, 6)),
    # after a pooling layer: the standalone activation op and its backward
    'standalone': (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.LeakyReLU(0.1), nn.Flatten(),
                                         nn.Linear(4 * 3 * 3, 3)), (2, 3, 8, 8)),
    # a negative slope: forward only (the derivative from the output would be ambiguous)
    'negative_slope': (lambda: nn.Sequential(nn.Linear(9, 6), nn.LeakyReLU(-0.5), nn.Linear(6, 3)), (4, 9)),
}

tensors = {}
for name, (make, shape) in CASES.items():
    m = make()
    x = torch.randn(*shape)
    # some exact zeros and values of both signs reach every activation
    x.view(-1)[::7] = 0
    for k, v in m.state_dict().items():
        tensors[f'{name}.{k}'] = v.detach().clone()
    m.eval()
    with torch.no_grad():
        y = m(x)
    tensors[f'{name}.input'] = x
    tensors[f'{name}.expected'] = y
    if name == 'negative_slope':
        continue
    m.train()
    target = torch.randn(*y.shape)
    m.zero_grad()
    loss = nn.functional.mse_loss(m(x), target)
    loss.backward()
    tensors[f'{name}.target'] = target
    tensors[f'{name}.loss'] = loss.detach().reshape(1)
    for k, p in m.named_parameters():
        tensors[f'{name}.grad.{k}'] = p.grad.detach().clone()

out = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'leaky_relu.safetensors')
safetensors_py.save(out, tensors, {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__,
                                   'generator': 'tools/gen_leaky_relu_goldens.py'})
print(f'wrote {out}: {len(tensors)} tensors')
