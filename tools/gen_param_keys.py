"""PyTorch's named_parameters(), named_buffers() and state_dict() key orders for a few models, for
test/nn/parameters.test.ts (wasmzoo's namedParameters / namedBuffers / stateDict must list the same keys in
the same order). Development time only; run with Debian's python3-torch / python3-torchvision:

    python3 tools/gen_param_keys.py > test/golden/params/keys.json
"""
import json

import torch.nn as nn
import torchvision


def keys(m):
    return {
        'parameters': [k for k, _ in m.named_parameters()],
        'buffers': [k for k, _ in m.named_buffers()],
        'state_dict': list(m.state_dict().keys()),
    }


models = {
    # the JS test builds the same Sequential
    'sequential': nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.BatchNorm1d(3)),
    'resnet18': torchvision.models.resnet18(weights=None),
}
print(json.dumps({name: keys(m) for name, m in models.items()}, indent=1))
