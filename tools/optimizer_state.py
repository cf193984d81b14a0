"""Load an optimizer state saved by wasmzoo (`optimizer.saveSafetensors()`) into the equivalent torch.optim
optimizer, so training can continue in PyTorch:

    import sys; sys.path.insert(0, 'tools'); from optimizer_state import load_optimizer_state
    model.load_state_dict(...)                       # the weights: model.saveSafetensors() in wasmzoo
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    load_optimizer_state(opt, 'optimizer.safetensors')

Parameters are matched by position in model.parameters() (the file's metadata lists their names); the param
group's hyper-parameters come from the file, the other group keys from the optimizer given.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402


def load_optimizer_state(optimizer, path):
    import struct
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    meta = json.loads(raw[8:8 + n]).get('__metadata__', {})
    tensors = safetensors_py.load(path)
    sd = optimizer.state_dict()
    group = dict(sd['param_groups'][0])
    saved = json.loads(meta['param_group'])
    for k, v in saved.items():
        group[k] = tuple(v) if isinstance(v, list) else v
    state = {}
    for key, value in tensors.items():
        _, i, name = key.split('.', 2)
        t = torch.from_numpy(value.copy())
        state.setdefault(int(i), {})[name] = t if name != 'step' else t.reshape(())
    optimizer.load_state_dict({'state': state, 'param_groups': [group]})
    return meta
