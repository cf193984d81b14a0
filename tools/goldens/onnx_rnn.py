"""Writes the PyTorch goldens of wasmzoo's ONNX RNN / LSTM / GRU ops (test/onnx/ops-rnn.test.ts) into
test/fixtures/onnx/ (development time only; tests never need Python):

    /usr/bin/python3 tools/goldens/onnx_rnn.py

rnn_<case>.onnx     a seeded nn.LSTM / nn.GRU / nn.RNN exported by torch.onnx.export (opset 14), initial states as
                    graph inputs (so the graph needs no Shape/Expand chain for zero states)
rnn_goldens.json    {meta, cases: {<case>: {module, inputs: {name: {dims, data}}, outputs: {name: {dims, data}}}}}:
                    the inputs fed and PyTorch's outputs (float32 values, written as the doubles they are exactly)
"""
import io
import json
import os

import onnx
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'onnx')
META = {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__, 'onnx': onnx.__version__,
        'generator': 'tools/goldens/onnx_rnn.py', 'opset': 14}

# case, module class, constructor kwargs, input shape (as the module takes it)
CASES = [
    ('lstm_2l_bi_bf', 'LSTM', dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True, batch_first=True), (2, 4, 3)),
    ('gru_2l_bi', 'GRU', dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True), (4, 2, 3)),
    ('rnn_relu_2l', 'RNN', dict(input_size=3, hidden_size=6, num_layers=2, nonlinearity='relu'), (4, 2, 3)),
    ('rnn_tanh_bi_bf', 'RNN', dict(input_size=4, hidden_size=3, bidirectional=True, batch_first=True), (3, 5, 4)),
]


class WithState(nn.Module):
    """The recurrent module with its initial state as inputs and (output, h_n[, c_n]) as outputs."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0, c0=None):
        if c0 is None:
            return self.rnn(x, h0)
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


def tensor_json(t):
    return {'dims': list(t.shape), 'data': [float(v) for v in t.detach().reshape(-1).tolist()]}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(False)
    cases = {}
    for i, (name, cls, kwargs, shape) in enumerate(CASES):
        torch.manual_seed(100 + i)
        rnn = getattr(nn, cls)(**kwargs).eval()
        m = WithState(rnn).eval()
        D = 2 if kwargs.get('bidirectional') else 1
        state = (kwargs.get('num_layers', 1) * D, shape[0] if kwargs.get('batch_first') else shape[1], kwargs['hidden_size'])
        x = torch.randn(*shape)
        h0 = torch.randn(*state)
        args = (x, h0) + ((torch.randn(*state),) if cls == 'LSTM' else ())
        in_names = ['x', 'h0', 'c0'][:len(args)]
        out_names = ['y', 'h_n', 'c_n'][:len(args)]
        outs = m(*args)
        f = io.BytesIO()
        torch.onnx.export(m, args, f, opset_version=14, input_names=in_names, output_names=out_names)
        path = os.path.join(OUT, f'rnn_{name}.onnx')
        with open(path, 'wb') as fh:
            fh.write(f.getvalue())
        ops = sorted({n.op_type for n in onnx.load_from_string(f.getvalue()).graph.node})
        cases[name] = {
            'module': f'nn.{cls}({", ".join(f"{k}={v!r}" for k, v in kwargs.items())})',
            'ops': ops,
            'inputs': {n: tensor_json(t) for n, t in zip(in_names, args)},
            'outputs': {n: tensor_json(t) for n, t in zip(out_names, outs)},
        }
        print(f'{path}: {len(f.getvalue())} bytes, ops {ops}')
    with open(os.path.join(OUT, 'rnn_goldens.json'), 'w') as fh:
        json.dump({'meta': META, 'cases': cases}, fh, separators=(',', ':'))
        fh.write('\n')


if __name__ == '__main__':
    main()
