"""Writes test/golden/ae/goldens.safetensors for test/models/autoencoder.test.ts and test/models/vae.test.ts:
PyTorch forward passes and training steps of the autoencoders (src/models/autoencoder.ts) and the VAE
(src/models/vae.ts) on weights from the shared closed-form hash (tools/hashweights.py). Tensors over 2000
values are sampled (every 7th value). The VAE's eps is generated here with the same counter-based formula as
assembly/random.ts (vae_normal), so the tests check the generator too. Development time only:

    /usr/bin/python3 tools/gen_ae_goldens.py
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

torch.manual_seed(5)
out = {}
M64 = (1 << 64) - 1
EPS_SALT = 0x7AE5EED5  # src/models/vae.ts


def sample(a):
    a = a.detach().numpy().reshape(-1)
    return a[::7].copy() if a.size > 2000 else a.copy()


# ---- the models, as src/models/autoencoder.ts and src/models/vae.ts describe them ----

ACTS = {'relu': nn.ReLU, 'tanh': nn.Tanh, 'sigmoid': nn.Sigmoid}


class DenseAE(nn.Module):
    def __init__(self, layers, act='relu', out_act='sigmoid'):
        super().__init__()

        def chain(dims, last):
            mods = []
            for i in range(len(dims) - 1):
                mods.append(nn.Linear(dims[i], dims[i + 1]))
                if i + 2 < len(dims):
                    mods.append(ACTS[act]())
            return nn.Sequential(*mods, *last)

        self.encoder = chain(layers, [])
        self.decoder = chain(layers[::-1], [] if out_act == 'none' else [ACTS[out_act]()])

    def forward(self, x):
        return self.decoder(self.encoder(x.reshape(x.shape[0], -1))).reshape(x.shape)


class ConvAE(nn.Module):
    def __init__(self, shape=(1, 28, 28), channels=(16, 32), code=32, act='relu', out_act='sigmoid'):
        super().__init__()
        C, H, W = shape
        c1, c2 = channels
        h, w = H // 4, W // 4
        self.shape = shape
        self.encoder = nn.Sequential(nn.Conv2d(C, c1, 3, stride=2, padding=1), ACTS[act](), nn.Conv2d(c1, c2, 3, stride=2, padding=1), ACTS[act](),
                                     nn.Flatten(), nn.Linear(c2 * h * w, code))
        self.decoder = nn.Sequential(nn.Linear(code, c2 * h * w), ACTS[act](), nn.Unflatten(1, (c2, h, w)),
                                     nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(c2, c1, 3, padding=1), ACTS[act](),
                                     nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(c1, C, 3, padding=1),
                                     *([] if out_act == 'none' else [ACTS[out_act]()]))

    def forward(self, x):
        return self.decoder(self.encoder(x.reshape(x.shape[0], *self.shape))).reshape(x.shape)


class VAE(nn.Module):
    def __init__(self, D=784, H=400, L=20):
        super().__init__()
        self.fc1 = nn.Linear(D, H)
        self.fc21 = nn.Linear(H, L)
        self.fc22 = nn.Linear(H, L)
        self.fc3 = nn.Linear(L, H)
        self.fc4 = nn.Linear(H, D)

    def encode(self, x):
        h = F.relu(self.fc1(x.reshape(x.shape[0], -1)))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z):
        return self.fc4(F.relu(self.fc3(z)))


def vae_loss(m, x, target, eps):
    """Negative ELBO per sample, averaged over the batch (pytorch/examples' sum divided by B)."""
    B = x.shape[0]
    mu, logvar = m.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    logits = m.decode_logits(z)
    bce = F.binary_cross_entropy_with_logits(logits, target.reshape(B, -1), reduction='sum')
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kl) / B


# ---- vae_normal (assembly/random.ts) in numpy ----

def hash24(seed, i):
    with np.errstate(over='ignore'):
        z = np.uint64(seed) + (i + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64)


def vae_normal(n, seed_lo, seed_hi):
    seed = ((seed_hi & 0xFFFFFFFF) << 32) | (seed_lo & 0xFFFFFFFF)
    i = np.arange(0, n, 2, dtype=np.uint64)
    u1 = (hash24(seed, i) + 1.0) / 16777216.0
    u2 = hash24(seed, i + np.uint64(1)) / 16777216.0
    r = np.sqrt(-2.0 * np.log(u1))
    a = 2.0 * np.pi * u2
    o = np.empty(len(i) * 2, dtype=np.float64)
    o[0::2] = r * np.cos(a)
    o[1::2] = r * np.sin(a)
    return o[:n].astype(np.float32)


def grads_of(prefix, model):
    for k, p in model.named_parameters():
        out[f'{prefix}.grad.{k}'] = sample(p.grad)


# ---- autoencoder cases: forward, codes, one training step ----

def ae_case(name, make, x, target, loss_fn, seed):
    m = hash_state_dict(make(), seed)
    m.train()
    out[f'{name}.input'] = x.numpy()
    out[f'{name}.target'] = target.numpy()
    with torch.no_grad():
        img = x if isinstance(m, DenseAE) else x.reshape(x.shape[0], *m.shape)
        out[f'{name}.code'] = m.encoder(img.reshape(x.shape[0], -1) if isinstance(m, DenseAE) else img).numpy()
        out[f'{name}.output'] = m(x).numpy()
    m.zero_grad()
    loss = loss_fn(m(x), target)
    loss.backward()
    out[f'{name}.loss'] = np.array([loss.item()], dtype=np.float32)
    grads_of(name, m)


ae_case('dense', lambda: DenseAE([64, 24, 6]), torch.rand(5, 1, 8, 8), torch.rand(5, 1, 8, 8), F.mse_loss, 21)
x = torch.rand(4, 3, 4, 4)
ae_case('dense_tanh', lambda: DenseAE([48, 20, 12, 5], 'tanh', 'none'), x, torch.rand(4, 3, 4, 4), F.binary_cross_entropy_with_logits, 22)
x = torch.rand(3, 2, 8, 8)
ae_case('conv', lambda: ConvAE((2, 8, 8), (3, 4), 5), x, x.clone(), F.mse_loss, 23)
x = torch.rand(3, 1 * 8 * 12)
ae_case('conv_flat', lambda: ConvAE((1, 8, 12), (2, 3), 4, 'tanh'), x, x.clone(), F.mse_loss, 24)

# ---- VAE cases: encode, decode, eps from the generator, one step, three Adam steps ----


def vae_case(name, dims, x, seed, train_seed):
    D, H, L = dims
    B = x.shape[0]
    m = hash_state_dict(VAE(D, H, L), seed)
    out[f'{name}.input'] = x.numpy()
    with torch.no_grad():
        mu, logvar = m.encode(x)
        out[f'{name}.mu'] = mu.numpy()
        out[f'{name}.logvar'] = logvar.numpy()
        out[f'{name}.recon'] = torch.sigmoid(m.decode_logits(mu)).numpy()
        z = torch.randn(B, L)
        out[f'{name}.z'] = z.numpy()
        out[f'{name}.decoded'] = torch.sigmoid(m.decode_logits(z)).numpy()
        out[f'{name}.sample7'] = torch.sigmoid(m.decode_logits(torch.from_numpy(vae_normal(3 * L, 7, 0xFFFFFFFF)).reshape(3, L))).numpy()
    # training step 1: eps as src/models/vae.ts draws it
    eps1 = torch.from_numpy(vae_normal(B * L, train_seed ^ EPS_SALT, 1)).reshape(B, L)
    out[f'{name}.eps1'] = eps1.numpy()
    m.zero_grad()
    loss = vae_loss(m, x, x, eps1)
    loss.backward()
    out[f'{name}.loss'] = np.array([loss.item()], dtype=np.float32)
    grads_of(name, m)
    # three Adam steps: step s draws eps with seed_hi = s
    m = hash_state_dict(VAE(D, H, L), seed)
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    losses = []
    for s in (1, 2, 3):
        eps = torch.from_numpy(vae_normal(B * L, train_seed ^ EPS_SALT, s)).reshape(B, L)
        opt.zero_grad()
        l = vae_loss(m, x, x, eps)
        l.backward()
        opt.step()
        losses.append(l.item())
    out[f'{name}.adam.losses'] = np.array(losses, dtype=np.float32)
    for k, p in m.named_parameters():
        out[f'{name}.adam.{k}'] = sample(p)


vae_case('vae_small', (48, 16, 6), torch.rand(5, 3, 4, 4), 31, 5)
vae_case('vae784', (784, 32, 8), torch.rand(4, 1, 28, 28), 32, 9)

path = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'ae', 'goldens.safetensors')
os.makedirs(os.path.dirname(path), exist_ok=True)
safetensors_py.save(path, out, {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__,
                                'generator': 'tools/gen_ae_goldens.py', 'sampling': 'every 7th value when over 2000'})
print('wrote', os.path.normpath(path), os.path.getsize(path), 'bytes')
