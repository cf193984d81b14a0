"""Recomputes PyTorch's logits for the shipped samples (assets/fashion-samples.safetensors) with the shipped
LeNet-5 weights (weights/lenet5-fashion.safetensors, trained in wasmzoo by examples/train-lenet.mjs), so the
test of the shipped weights compares wasmzoo with an independent implementation. Development time only:

    /usr/bin/python3 tools/gen_fashion_sample_logits.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402
from lenet import LeNet5  # noqa: E402

root = os.path.join(os.path.dirname(__file__), '..')
weights = safetensors_py.load(os.path.join(root, 'weights', 'lenet5-fashion.safetensors'))
model = LeNet5()
model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
model.eval()
path = os.path.join(root, 'assets', 'fashion-samples.safetensors')
samples = safetensors_py.load(path)
x = torch.from_numpy((samples['images'].astype(np.float32) / 255 - 0.2860) / 0.3530).unsqueeze(1)
with torch.no_grad():
    logits = model(x).numpy()
print('correct', int((logits.argmax(1) == samples['labels']).sum()), 'of', len(logits))
safetensors_py.save(path, {'images': np.array(samples['images']), 'labels': np.array(samples['labels']), 'logits': logits},
                    {'format': 'wasmzoo-golden', 'version': '2', 'source': 'Fashion-MNIST t10k, first 64 images',
                     'logits': 'PyTorch LeNet-5 logits on these images with weights/lenet5-fashion.safetensors',
                     'generator': 'tools/gen_fashion_sample_logits.py'})
