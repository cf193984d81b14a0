"""Exports the recurrent benchmark models to ONNX for `npm run bench:rnn` (onnxruntime-web) into the git-ignored
.cache/rnn/: a 2-layer nn.LSTM and a 2-layer nn.GRU (input 128, hidden 256), each as a whole-sequence model
(x [64, 1, 128] -> y) and a single-step model (x [1, 1, 128], h0 (, c0) -> y, h (, c)), plus their weights as
safetensors (so wasmzoo runs the same network) and PyTorch's outputs (so the benchmark checks that every runtime
computes the same thing). Development time only; never commit the files.

    /usr/bin/python3 tools/export_rnn_onnx.py
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_py  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', '.cache', 'rnn')
I, H, L, T = 128, 256, 2, 64


class Step(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h, c=None):
        if c is None:
            y, h = self.rnn(x, h)
            return y, h
        y, (h, c) = self.rnn(x, (h, c))
        return y, h, c


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    for name, cls in (('lstm', nn.LSTM), ('gru', nn.GRU)):
        m = cls(I, H, L).eval()
        x = torch.randn(T, 1, I)
        y, _ = m(x)
        safetensors_py.save(os.path.join(OUT, f'{name}.safetensors'), {k: v.numpy() for k, v in m.state_dict().items()})
        torch.onnx.export(m, (x,), os.path.join(OUT, f'{name}.onnx'), input_names=['x'], output_names=['y'], opset_version=13)
        h0 = torch.zeros(L, 1, H)
        args = (x[:1], h0, h0) if name == 'lstm' else (x[:1], h0)
        names = ['x', 'h0', 'c0'] if name == 'lstm' else ['x', 'h0']
        outs = ['y', 'h', 'c'] if name == 'lstm' else ['y', 'h']
        torch.onnx.export(Step(m), args, os.path.join(OUT, f'{name}_step.onnx'), input_names=names, output_names=outs, opset_version=13)
        with open(os.path.join(OUT, f'{name}.expected.json'), 'w') as f:
            json.dump({'x': x.flatten().tolist(), 'y_last': y[-1, 0].tolist()}, f)
        print('wrote', name)


if __name__ == '__main__':
    main()
