"""Closed-form hashed weights and inputs, bit-identical to src/models/hashweights.ts.

Big models cannot keep weights in the repository, so their golden files hold only a seed and PyTorch's
outputs: both sides regenerate the same float32 weights from (seed, state_dict key, element index).

    key_hash = fnv1a32(utf8(key))
    base     = fmix32(key_hash ^ fmix32(seed))
    h_i      = fmix32((base + i * 0x9E3779B9) mod 2**32)          (murmur3 finaliser)
    u_i      = (h_i >> 8) / 2**24 - 0.5                           (24 bits: exact in float32, in [-0.5, 0.5))
    value_i  = float32(a + u_i * b)                                (double arithmetic, one rounding to f32)

Rules (a, b) by key and shape (and, for one rule, the other keys), so every language applies them
without knowing the model:
    *.num_batches_tracked          0
    *.running_var                  0.75 + u / 2               in [0.5, 1): positive
    *.running_mean                 u / 16
    *.bias                         u / 16
    *.weight, 1-D (batch norm)     0.8 + u * 0.4              in [0.6, 1.0)
      the last batch norm of a residual block (layerN.M.bnK.weight with no layerN.M.bnK+1.weight):
                                   0.1 + u * 0.1              in [0.05, 0.15): damps the residual branch
    *.weight, 4-D (conv)           u * (5 / sqrt(fan_in)),    fan_in = prod(shape[1:])
    *.weight, 2-D (linear)         u * (4 / sqrt(fan_in))
    inputs (key "input")           u * 4                      in [-2, 2), like ImageNet-normalised pixels

Every step is an IEEE-754 double operation (+, *, /, sqrt are correctly rounded in both Python and
JavaScript) followed by one rounding to float32, so both sides produce the same bits.

The constants were tuned with torchvision's models: a conv (+ batch norm) + ReLU keeps the signal's scale
about constant (5^2/12/2 ~ 1), residual branches add ~10% each, so logits have a standard deviation of
about 1-5 from AlexNet to ResNet-152, and 2-15% of that depends on the input (deep random ReLU nets map
all inputs close together; that share is what a wrong kernel would disturb).
"""
import math
import re

import numpy as np

CONV_GAIN = 5.0  # var(w) * fan_in = GAIN^2 / 12 (uniform u has variance 1/12)
LINEAR_GAIN = 4.0
BN_GAMMA = (0.8, 0.4)
BN_GAMMA_RESIDUAL = (0.1, 0.1)
SMALL = (0.0, 0.0625)  # biases, batch norm betas and running means
_RESIDUAL_BN = re.compile(r'^(layer\d+\.\d+)\.bn(\d+)\.weight$')
_M32 = 0xFFFFFFFF


def fnv1a32(key):
    h = 0x811C9DC5
    for b in key.encode('utf-8'):
        h ^= b
        h = (h * 0x01000193) & _M32
    return h


def fmix32_int(h):
    h &= _M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


def _fmix32_np(h):
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    h = h ^ (h >> np.uint32(16))
    return h


def uniform(seed, key, n):
    """u_i for i in [0, n): float64 array in [-0.5, 0.5), each exactly a multiple of 2^-24."""
    base = np.uint32(fmix32_int(fnv1a32(key) ^ fmix32_int(seed)))
    out = np.empty(n, dtype=np.float64)
    chunk = 1 << 22
    with np.errstate(over='ignore'):
        for s in range(0, n, chunk):
            i = np.arange(s, min(n, s + chunk), dtype=np.uint32)
            h = _fmix32_np(base + i * np.uint32(0x9E3779B9))
            out[s:s + len(i)] = (h >> np.uint32(8)).astype(np.float64) / 16777216.0 - 0.5
    return out


def value_rule(key, shape, keys=()):
    """(a, b): value = a + u * b in double, then float32. None for integer buffers."""
    if key.endswith('num_batches_tracked'):
        return None
    if key.endswith('running_var'):
        return (0.75, 0.5)
    if key == 'input' or key.startswith('input.'):
        return (0.0, 4.0)
    if key.endswith('running_mean') or key.endswith('bias'):
        return SMALL
    if len(shape) == 1:
        m = _RESIDUAL_BN.match(key)
        if m and f'{m.group(1)}.bn{int(m.group(2)) + 1}.weight' not in keys:
            return BN_GAMMA_RESIDUAL
        return BN_GAMMA
    fan_in = 1
    for d in shape[1:]:
        fan_in *= d
    return (0.0, (CONV_GAIN if len(shape) > 2 else LINEAR_GAIN) / math.sqrt(fan_in))


def hash_tensor(seed, key, shape, keys=()):
    """The float32 array for `key` of `shape` (num_batches_tracked: int64 zeros); `keys`: the state dict's keys."""
    n = int(np.prod(shape)) if len(shape) else 1
    rule = value_rule(key, shape, keys)
    if rule is None:
        return np.zeros(shape, dtype=np.int64)
    a, b = rule
    u = uniform(seed, key, n)
    v = a + u * b
    return v.astype(np.float32).reshape(shape)


def hash_state_dict(model, seed):
    """Fill every parameter and buffer of a torch module in place, by state_dict key."""
    import torch
    sd = model.state_dict()
    keys = set(sd)
    with torch.no_grad():
        for k, t in sd.items():
            t.copy_(torch.from_numpy(hash_tensor(seed, k, tuple(t.shape), keys)))
    return model
