"""Writes test/golden/preprocess/preprocess.safetensors: torchvision 0.14 outputs for the image
preprocessing in src/image/ (resize, center crop, normalize, the ImageNet preset). Development time
only; run with Debian's python3-torch / python3-torchvision:

    /usr/bin/python3 tools/gen_preprocess_goldens.py

Every case converts the image to float in [0, 1] first (uint8 / 255), then runs
torchvision.transforms.functional on the float tensor: resize (bilinear, antialias=True unless the key
says noaa, i.e. PyTorch's _upsample_bilinear2d_aa), center_crop (torchvision rounds the crop offset with
Python's round(): half to even), normalize. Small cases store inputs and full outputs; the realistic
500x375 -> 256 -> 224 case uses a closed-form synthetic image (same formula in test/image/synthetic.ts)
and stores per-channel sums and every 37th value, to stay far below 100 KB.
"""
import os
import sys

import numpy as np
import torch
import torchvision.transforms.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'golden', 'preprocess', 'preprocess.safetensors')


def synthetic(h, w, c):
    """HWC uint8 image: rings that wrap around (sharp edges, so antialiasing matters) plus hash noise.
    Mirrored by test/image/synthetic.ts; uint32 arithmetic wraps as Math.imul does."""
    y, x, ch = np.meshgrid(np.arange(h, dtype=np.uint32), np.arange(w, dtype=np.uint32),
                           np.arange(c, dtype=np.uint32), indexing='ij')
    noise = ((x * np.uint32(73856093)) ^ (y * np.uint32(19349663)) ^ (ch * np.uint32(83492791))) >> np.uint32(26)
    v = ((x * x + y * y) >> np.uint32(6)) + ch * np.uint32(50) + noise
    img = (v & np.uint32(255)).astype(np.uint8)
    if c == 4:
        img[..., 3] = 255
    return img


def chw(hwc_u8_or_f32, channels=None):
    a = hwc_u8_or_f32
    t = torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)
    if t.dtype == torch.uint8:
        t = t.float() / 255
    if channels is not None:
        t = t[:channels]
    return t.contiguous()


g = torch.Generator().manual_seed(20240603)
tensors = {}

# 1. small RGBA (ImageData-like) 30x40 -> resize 16 (shorter side) -> [3, 16, 21] -> crop 12
rgba = torch.randint(0, 256, (30, 40, 4), generator=g, dtype=torch.uint8).numpy()
rgba[..., 3] = 255
x = chw(rgba, 3)
tensors['small.input'] = rgba
r = F.resize(x, [16], antialias=True)
tensors['small.resized'] = r.numpy()
tensors['small.resized_noaa'] = F.resize(x, [16], antialias=False).numpy()
c = F.center_crop(r, [12])
tensors['small.cropped'] = c.numpy()
tensors['small.normalized'] = F.normalize(c, MEAN, STD).unsqueeze(0).numpy()

# 2. tall float HWC 45x33, 3 channels -> resize 20 -> [27, 20]; crop 15: left offset round(2.5) = 2
f = torch.rand(45, 33, 3, generator=g).numpy()
x = chw(f)
tensors['tall.input'] = f
r = F.resize(x, [20], antialias=True)
tensors['tall.resized'] = r.numpy()
c = F.center_crop(r, [15])
tensors['tall.cropped'] = c.numpy()
tensors['tall.normalized'] = F.normalize(c, MEAN, STD).unsqueeze(0).numpy()

# 3. grey uint8 5x7: upscale to shorter side 12 (aa and not), and an explicit [h, w] = [3, 14] (down in
#    h, up in w)
grey = torch.randint(0, 256, (5, 7, 1), generator=g, dtype=torch.uint8).numpy()
x = chw(grey)
tensors['grey.input'] = grey
tensors['grey.up12'] = F.resize(x, [12], antialias=True).numpy()
tensors['grey.up12_noaa'] = F.resize(x, [12], antialias=False).numpy()
tensors['grey.3x14'] = F.resize(x, [3, 14], antialias=True).numpy()
tensors['grey.3x14_noaa'] = F.resize(x, [3, 14], antialias=False).numpy()

# 4. center crop bigger than the image pads with zeros (torchvision pads left/top with floor(d/2))
tensors['pad.cropped'] = F.center_crop(chw(grey), [8, 10]).numpy()

# 5. realistic: synthetic RGBA 375x500 (a common ImageNet aspect) -> resize 256 -> [256, 341] -> crop 224
#    (left offset round(58.5) = 58), ImageNet normalisation
img = synthetic(375, 500, 4)
x = chw(img, 3)
out = F.normalize(F.center_crop(F.resize(x, [256], antialias=True), [224]), MEAN, STD).unsqueeze(0)
flat = out.reshape(-1).double()
tensors['imagenet.channel_sum'] = out[0].double().sum(dim=(1, 2)).numpy().astype(np.float32)
tensors['imagenet.channel_abs_sum'] = out[0].double().abs().sum(dim=(1, 2)).numpy().astype(np.float32)
idx = torch.arange(0, flat.numel(), 37)  # every 37th value: 4069 samples; 37 is coprime to 224
tensors['imagenet.sample_value'] = flat[idx].numpy().astype(np.float32)
# and what the same image gives without antialiasing (to quantify the difference in the test's docs)
noaa = F.normalize(F.center_crop(F.resize(x, [256], antialias=False), [224]), MEAN, STD).unsqueeze(0)
tensors['imagenet.noaa_sample_value'] = noaa.reshape(-1)[idx].numpy().astype(np.float32)

safetensors_py.save(OUT, tensors, {'format': 'wasmzoo-golden', 'generator': 'tools/gen_preprocess_goldens.py',
                                   'torch': torch.__version__, 'torchvision': __import__('torchvision').__version__})
print(OUT, os.path.getsize(OUT), 'bytes')
print('aa vs noaa on the 224 crop: max abs diff', (out - noaa).abs().max().item(), 'mean', (out - noaa).abs().mean().item())
