#!/usr/bin/python3
"""Writes test/golden/pool/torch_cases.json: PyTorch outputs for pooling and LRN corner cases
(ceil_mode windows, count_include_pad, divisor_override, dilation, adaptive windows, LRN edges).

Dev-time only: run with Debian's /usr/bin/python3 (python3-torch). The inputs are not stored: they are
x[i] = ((i*37 + 11) % 29 - 14) / 8 over the flat NCHW index, exact in f32, recomputed by the test
(test/kernels/pool.test.ts, test/kernels/elementwise.test.ts). Outputs are NCHW, rounded to f32.
"""
import json
import torch
import torch.nn.functional as F

MAGIC, VERSION = "wasmzoo-pool-golden", 1


def inp(n, c, h, w):
    i = torch.arange(n * c * h * w, dtype=torch.int64)
    return (((i * 37 + 11) % 29 - 14).to(torch.float32) / 8).reshape(n, c, h, w)


def flat(t):
    return [float(v) for v in t.contiguous().reshape(-1).tolist()]


cases = []
# max pool: (N,C,H,W, k, s, p, d, ceil)
for (N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil) in [
    (2, 3, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, True),
    (1, 5, 6, 6, 2, 2, 2, 2, 0, 0, 1, 1, True),
    (1, 4, 8, 7, 3, 2, 3, 2, 1, 1, 2, 2, True),
    (2, 2, 5, 9, 3, 3, 2, 3, 1, 0, 2, 1, False),
    (1, 9, 13, 13, 3, 3, 2, 2, 0, 0, 1, 1, True),  # AlexNet/GoogLeNet-style ceil_mode
]:
    x = inp(N, C, H, W)
    y = F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode=ceil)
    cases.append(dict(op="maxpool2d", N=N, C=C, H=H, W=W, KH=kh, KW=kw, SH=sh, SW=sw, PH=ph, PW=pw, DH=dh, DW=dw,
                      ceil=ceil, OH=y.shape[2], OW=y.shape[3], out=flat(y)))
# avg pool: (N,C,H,W, k, s, p, ceil, count_include_pad, divisor_override)
for (N, C, H, W, kh, kw, sh, sw, ph, pw, ceil, cip, div) in [
    (2, 3, 7, 6, 3, 3, 2, 2, 1, 1, True, True, None),
    (2, 3, 7, 6, 3, 3, 2, 2, 1, 1, True, False, None),
    (1, 5, 6, 5, 2, 2, 2, 2, 0, 0, True, True, None),   # last window runs past the input, no padding
    (1, 5, 6, 5, 3, 3, 2, 2, 1, 1, True, True, None),   # window runs past the right padding too
    (1, 4, 8, 7, 3, 2, 3, 2, 1, 1, True, True, None),
    (1, 4, 8, 7, 3, 2, 3, 2, 1, 1, False, False, None),
    (1, 3, 5, 5, 3, 3, 1, 1, 1, 1, False, True, 5),
    (2, 2, 5, 9, 3, 3, 2, 3, 1, 0, True, False, 2),
    (1, 7, 4, 4, 1, 1, 2, 2, 0, 0, True, True, None),
]:
    x = inp(N, C, H, W)
    y = F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil, count_include_pad=cip, divisor_override=div)
    cases.append(dict(op="avgpool2d", N=N, C=C, H=H, W=W, KH=kh, KW=kw, SH=sh, SW=sw, PH=ph, PW=pw, ceil=ceil,
                      count_include_pad=cip, divisor=div or 0, OH=y.shape[2], OW=y.shape[3], out=flat(y)))
# adaptive pools
for (N, C, H, W, OH, OW) in [(1, 3, 7, 5, 3, 2), (2, 5, 6, 6, 4, 4), (1, 4, 5, 7, 1, 1), (1, 2, 3, 3, 5, 6)]:
    x = inp(N, C, H, W)
    cases.append(dict(op="adaptive_avgpool2d", N=N, C=C, H=H, W=W, OH=OH, OW=OW, out=flat(F.adaptive_avg_pool2d(x, (OH, OW)))))
    cases.append(dict(op="adaptive_maxpool2d", N=N, C=C, H=H, W=W, OH=OH, OW=OW, out=flat(F.adaptive_max_pool2d(x, (OH, OW)))))
# LRN (NCHW in torch); even and odd sizes, size > C
for (N, C, H, W, size, alpha, beta, k) in [
    (1, 9, 2, 3, 5, 1e-4, 0.75, 2.0), (1, 9, 2, 3, 5, 0.5, 0.75, 1.0), (2, 6, 2, 2, 4, 0.3, 0.5, 1.0),
    (1, 3, 2, 2, 7, 0.9, 1.3, 0.5), (1, 17, 1, 2, 2, 0.7, 0.75, 1.0), (1, 5, 1, 1, 1, 0.5, 2.0, 1.0),
]:
    x = inp(N, C, H, W)
    y = F.local_response_norm(x, size, alpha, beta, k)
    cases.append(dict(op="lrn", N=N, C=C, H=H, W=W, size=size, alpha=alpha, beta=beta, k=k, out=flat(y)))

with open("test/golden/pool/torch_cases.json", "w") as f:
    json.dump(dict(magic=MAGIC, version=VERSION, torch=torch.__version__, cases=cases), f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases")
