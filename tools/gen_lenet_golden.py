"""Writes test/golden/lenet5.safetensors: one set of LeNet-5 weights (PyTorch default init, seed 1234,
biases widened so they matter), inputs at 32x32 and 28x28, and PyTorch's logits for both the default
(relu, max) and the 1998 form (tanh, avg). Development time only; run with Debian's python3-torch:

    /usr/bin/python3 tools/gen_lenet_golden.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402
from lenet import LeNet5  # noqa: E402

torch.manual_seed(1234)
ref = LeNet5()
with torch.no_grad():
    for m in [ref.conv1, ref.conv2, ref.fc1, ref.fc2, ref.fc3]:
        m.bias.uniform_(-0.5, 0.5)
tensors = {k: v.detach().numpy() for k, v in ref.state_dict().items()}
x32 = torch.randn(3, 1, 32, 32)
x28 = torch.randn(2, 1, 28, 28)
tensors['input.32'] = x32.numpy()
tensors['input.28'] = x28.numpy()
for act, pool in [('relu', 'max'), ('tanh', 'avg')]:
    m = LeNet5(act, pool)
    m.load_state_dict(ref.state_dict())
    m.eval()
    with torch.no_grad():
        tensors[f'expected.{act}_{pool}.32'] = m(x32).numpy()
        tensors[f'expected.{act}_{pool}.28'] = m(x28).numpy()
out = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'lenet5.safetensors')
safetensors_py.save(out, tensors, {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__,
                                   'generator': 'tools/gen_lenet_golden.py'})
print('wrote', os.path.normpath(out), os.path.getsize(out), 'bytes')
