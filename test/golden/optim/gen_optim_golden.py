"""Optimizer trajectories from PyTorch for test/kernels/optim.test.ts (development time only).

Run: /usr/bin/python3 test/golden/optim/gen_optim_golden.py  ->  test/golden/optim/torch_optim.json
Each case: one parameter tensor of n = 7 floats (a vector tail), fixed gradients for 5 steps, the parameter
after every step and the final optimizer state. float32 throughout, as the kernels.
"""
import json
import os

import torch

torch.manual_seed(0)
N, STEPS = 7, 5
p0 = (torch.rand(N) * 2 - 1).float()
grads = [(torch.rand(N) * 2 - 1).float() for _ in range(STEPS)]

CASES = [
    ('sgd', dict(lr=0.1)),
    ('sgd', dict(lr=0.1, momentum=0.9)),
    ('sgd', dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ('sgd', dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ('adam', dict(lr=1e-2)),
    ('adam', dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ('adamw', dict(lr=1e-2, weight_decay=0.1)),
    ('adamw', dict(lr=3e-3, betas=(0.85, 0.95), eps=1e-7, weight_decay=0.5)),
]

out = {'magic': 'wasmzoo-optim-golden', 'version': 1, 'torch': torch.__version__, 'p0': p0.tolist(),
       'grads': [g.tolist() for g in grads], 'cases': []}
for kind, kw in CASES:
    p = torch.nn.Parameter(p0.clone())
    opt = {'sgd': torch.optim.SGD, 'adam': torch.optim.Adam, 'adamw': torch.optim.AdamW}[kind]([p], **kw)
    traj = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        traj.append(p.detach().tolist())
    st = opt.state[p]
    state = {}
    if 'momentum_buffer' in st and st['momentum_buffer'] is not None:
        state['buf'] = st['momentum_buffer'].tolist()
    if 'exp_avg' in st:
        state['m'] = st['exp_avg'].tolist()
        state['v'] = st['exp_avg_sq'].tolist()
    kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    out['cases'].append({'kind': kind, 'opts': kw, 'params': traj, 'state': state})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'torch_optim.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
print('wrote', path)
