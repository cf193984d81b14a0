"""Golden layer tables for module.summary() (test/nn/describe.test.ts): for torchvision's resnet18 and
googlenet and tools/lenet.py's LeNet-5, every module's output shape (forward hooks, eval mode) and its learnable
parameter count (recursive), keyed by the module's state_dict prefix, as JSON in test/golden/summary/.

    /usr/bin/python3 tools/gen_summary_goldens.py
"""
import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
from lenet import LeNet5  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'summary')
MODELS = {
    'lenet5': (lambda: LeNet5(), [1, 1, 28, 28]),
    'resnet18': (lambda: torchvision.models.resnet18(), [2, 3, 96, 128]),
    'googlenet': (lambda: torchvision.models.googlenet(aux_logits=False, init_weights=False), [1, 3, 224, 224]),
}

os.makedirs(OUT, exist_ok=True)
for name, (make, shape) in MODELS.items():
    m = make().eval()
    rows = {}

    def hook(key):
        def f(_mod, _inp, out):
            if isinstance(out, torch.Tensor):
                rows[key]['output'] = list(out.shape)
        return f

    for key, mod in m.named_modules():
        rows[key] = {'type': type(mod).__name__, 'parameters': sum(p.numel() for p in mod.parameters())}
        mod.register_forward_hook(hook(key))
    with torch.no_grad():
        m(torch.zeros(shape))
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump({'input': shape, 'modules': rows}, f, indent=0)
    print(name, len(rows), 'modules')
