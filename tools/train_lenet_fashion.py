"""PyTorch baseline: trains LeNet-5 (ReLU, max pooling) on Fashion-MNIST and writes
.cache/lenet5-pytorch.safetensors (the shipped weights are trained in wasmzoo by examples/train-lenet.mjs).
It first wrote assets/fashion-samples.safetensors (the first 64 test images as U8 and their labels); pass
--samples to write that file again. Development time only:

    apt-get install -y python3-torch dataset-fashion-mnist
    /usr/bin/python3 tools/train_lenet_fashion.py

Preprocessing (also in src/models/lenet.ts FASHION_MNIST): x = (pixel / 255 - 0.2860) / 0.3530, 28x28 input.
"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402
from lenet import LeNet5  # noqa: E402

ROOT = '/usr/share/datasets/fashion-mnist'
MEAN, STD = 0.2860, 0.3530


def idx(name):
    with gzip.open(os.path.join(ROOT, name)) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def prep(u8):
    return torch.from_numpy((u8.astype(np.float32) / 255 - MEAN) / STD).unsqueeze(1)


torch.manual_seed(0)
xtr, ytr = prep(idx('train-images-idx3-ubyte.gz')), torch.from_numpy(idx('train-labels-idx1-ubyte.gz').astype(np.int64))
xte_u8 = idx('t10k-images-idx3-ubyte.gz')
xte, yte = prep(xte_u8), torch.from_numpy(idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))
model = LeNet5()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
epochs = int(os.environ.get('EPOCHS', '8'))
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * (60000 // 128))
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(60000)
    for i in range(0, 60000 - 127, 128):
        b = perm[i:i + 128]
        loss = F.cross_entropy(model(xtr[b]), ytr[b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    print(f'epoch {epoch + 1}: loss {loss.item():.3f} test accuracy {acc:.4f}', flush=True)

state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
os.makedirs(os.path.join(os.path.dirname(__file__), '..', '.cache'), exist_ok=True)
safetensors_py.save(os.path.join(os.path.dirname(__file__), '..', '.cache', 'lenet5-pytorch.safetensors'), state,
                    {'model': 'lenet5', 'dataset': 'fashion-mnist', 'test_accuracy': f'{acc:.4f}',
                     'preprocessing': f'(x/255 - {MEAN}) / {STD}, 1x28x28', 'trainer': 'tools/train_lenet_fashion.py',
                     'torch': torch.__version__})
if '--samples' not in sys.argv:
    sys.exit(0)
with torch.no_grad():
    logits = model(xte[:64]).numpy()
safetensors_py.save(os.path.join(os.path.dirname(__file__), '..', 'assets', 'fashion-samples.safetensors'),
                    {'images': np.ascontiguousarray(xte_u8[:64]), 'labels': yte[:64].numpy(), 'logits': logits},
                    {'format': 'wasmzoo-golden', 'version': '1', 'source': 'Fashion-MNIST t10k, first 64 images',
                     'logits': 'PyTorch LeNet-5 logits on these images with weights/lenet5-fashion.safetensors'})
print('done')
