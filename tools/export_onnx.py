"""Exports the benchmark models to ONNX for `npm run bench:models` (onnxruntime-web): torchvision's
alexnet, vgg16, resnet18, resnet50, googlenet and tools/lenet.py's LeNet-5, in eval mode, batch 1, with the
closed-form hashed weights of tools/hashweights.py (seed below; the same values wasmzoo's
hashWeights(model, seed) and bench/tfjs-models.mjs use), into the git-ignored .cache/onnx/<name>.onnx.
Development time only; never commit the files (tens to hundreds of MB).

    /usr/bin/python3 tools/export_onnx.py [name ...]        # default: all

torch.onnx.export folds batch norm into the convolutions in eval mode (so does wasmzoo). opset 13.
Also writes .cache/onnx/<name>.expected.json: PyTorch's first logits on the hashed input, which the
benchmark uses to check that every runtime computes the same network.
"""
import json
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
import hashweights  # noqa: E402
from lenet import LeNet5  # noqa: E402

SEED = 1  # keep in sync with bench/models.mjs
OUT = os.path.join(os.path.dirname(__file__), '..', '.cache', 'onnx')

MODELS = {
    'lenet5': (lambda: LeNet5(), [1, 1, 28, 28]),
    'alexnet': (lambda: torchvision.models.alexnet(), [1, 3, 224, 224]),
    'vgg16': (lambda: torchvision.models.vgg16(), [1, 3, 224, 224]),
    'resnet18': (lambda: torchvision.models.resnet18(), [1, 3, 224, 224]),
    'resnet50': (lambda: torchvision.models.resnet50(), [1, 3, 224, 224]),
    'googlenet': (lambda: torchvision.models.googlenet(aux_logits=False, init_weights=False, transform_input=False), [1, 3, 224, 224]),
    # beyond the zoo: the ONNX model-zoo families bench/onnx.mjs runs through wasmzoo/onnx (no wasmzoo builder)
    'mobilenet_v2': (lambda: torchvision.models.mobilenet_v2(), [1, 3, 224, 224]),
    'squeezenet1_1': (lambda: torchvision.models.squeezenet1_1(), [1, 3, 224, 224]),
}


def main(names):
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(False)
    for name in names:
        make, shape = MODELS[name]
        t0 = time.time()
        model = hashweights.hash_state_dict(make(), SEED).eval()
        x = torch.from_numpy(hashweights.hash_tensor(SEED, 'input', tuple(shape)))
        y = model(x)
        path = os.path.join(OUT, f'{name}.onnx')
        torch.onnx.export(model, x, path, opset_version=13, input_names=['input'], output_names=['logits'],
                          do_constant_folding=True)
        with open(os.path.join(OUT, f'{name}.expected.json'), 'w') as f:
            json.dump({'seed': SEED, 'input_shape': shape, 'logits_head': y.reshape(-1)[:16].tolist(),
                       'top5': y.reshape(-1).topk(min(5, y.numel())).indices.tolist()}, f)
        print(f'{path}: {os.path.getsize(path) / 1e6:.1f} MB in {time.time() - t0:.1f} s', flush=True)


if __name__ == '__main__':
    main(sys.argv[1:] or list(MODELS))
