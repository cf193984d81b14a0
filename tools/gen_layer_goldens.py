"""Writes test/golden/layers.safetensors: for each case, PyTorch's parameters (<case>.<state_dict key>),
the input (<case>.input, NCHW) and PyTorch's output (<case>.expected), in eval mode. The TypeScript test
(test/nn/layers.test.ts) builds the same layer with wasmzoo.nn and compares. Development time only:

    /usr/bin/python3 tools/gen_layer_goldens.py
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402

torch.manual_seed(7)


def bn_stats(m):
    with torch.no_grad():
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.5, 0.5)
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
        m.num_batches_tracked.fill_(17)
    return m


CASES = {
    'conv3x3_p1': (lambda: nn.Conv2d(3, 8, 3, padding=1), (2, 3, 9, 7)),
    'conv5x5_s2_p2': (lambda: nn.Conv2d(4, 6, 5, stride=2, padding=2), (1, 4, 11, 12)),
    'conv3x3_d2_g2': (lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2), (2, 4, 8, 8)),
    'conv1x1_nobias': (lambda: nn.Conv2d(16, 10, 1, bias=False), (1, 16, 5, 6)),
    'conv11x11_s4_p2': (lambda: nn.Conv2d(3, 8, 11, stride=4, padding=2), (1, 3, 35, 35)),
    'conv_depthwise': (lambda: nn.Conv2d(6, 6, 3, padding=1, groups=6), (1, 6, 5, 5)),
    'conv_rect': (lambda: nn.Conv2d(3, 5, (3, 1), stride=(2, 1), padding=(1, 0)), (1, 3, 7, 6)),
    'linear': (lambda: nn.Linear(37, 19), (5, 37)),
    'linear_nobias': (lambda: nn.Linear(8, 3, bias=False), (2, 8)),
    'maxpool_ceil': (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 5, 10, 9)),
    'maxpool_pad_dil': (lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2), (1, 3, 11, 11)),
    'avgpool_ceil_pad': (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 4, 10, 9)),
    'avgpool_ceil_pad_nocount': (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 4, 10, 9)),
    'avgpool_divisor': (lambda: nn.AvgPool2d(2, divisor_override=3), (1, 2, 6, 6)),
    'adaptive_avg': (lambda: nn.AdaptiveAvgPool2d((3, 5)), (2, 6, 7, 11)),
    'adaptive_avg_global': (lambda: nn.AdaptiveAvgPool2d(1), (2, 9, 5, 4)),
    'adaptive_max': (lambda: nn.AdaptiveMaxPool2d((2, 3)), (1, 5, 7, 8)),
    'bn2d': (lambda: bn_stats(nn.BatchNorm2d(5)), (2, 5, 4, 3)),
    'bn1d': (lambda: bn_stats(nn.BatchNorm1d(7)), (4, 7)),
    'lrn': (lambda: nn.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0), (1, 9, 4, 4)),
    'softmax': (lambda: nn.Softmax(dim=1), (3, 10)),
    'log_softmax': (lambda: nn.LogSoftmax(dim=-1), (3, 10)),
    'softmax_channels': (lambda: nn.Softmax(dim=1), (1, 6, 3, 3)),
    'relu': (lambda: nn.ReLU(), (3, 50)),
    'tanh': (lambda: nn.Tanh(), (3, 50)),
    'sigmoid': (lambda: nn.Sigmoid(), (3, 50)),
    'flatten': (lambda: nn.Flatten(), (2, 3, 4, 5)),
    'sequential': (lambda: nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), bn_stats(nn.BatchNorm2d(8)), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 10), bn_stats(nn.BatchNorm1d(10)), nn.Tanh(), nn.Dropout(0.5),
        nn.Linear(10, 4), nn.Sigmoid()), (2, 3, 8, 8)),
    'sequential_bn_act': (lambda: nn.Sequential(bn_stats(nn.BatchNorm2d(4)), nn.ReLU(), nn.Conv2d(4, 3, 1), nn.Tanh()), (1, 4, 3, 3)),
}

tensors = {}
for name, (make, shape) in CASES.items():
    m = make().eval()
    scale = 4.0 if name in ('relu', 'tanh', 'sigmoid') else 1.0
    x = torch.randn(*shape) * scale
    with torch.no_grad():
        y = m(x)
    tensors[f'{name}.input'] = x.numpy()
    tensors[f'{name}.expected'] = y.numpy()
    for k, v in m.state_dict().items():
        tensors[f'{name}.{k}'] = v.numpy()

out = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'layers.safetensors')
safetensors_py.save(out, tensors, {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__,
                                   'generator': 'tools/gen_layer_goldens.py'})
print('wrote', os.path.normpath(out), os.path.getsize(out), 'bytes')
