"""Writes the ONNX model-zoo goldens of test/onnx/zoo.test.ts into test/fixtures/onnx/ without committing weights
(development time only; tests never need Python):

    /usr/bin/python3 tools/goldens/onnx_zoo.py [name ...]        # default: all

For each model (torchvision's resnet18, googlenet, squeezenet1_1, mobilenet_v2, densenet121, shufflenet_v2_x0_5,
alexnet, tools/lenet.py's LeNet-5 and a 2-layer nn.LSTM classifier):
- fill the state dict with the closed-form hashed weights of tools/hashweights.py (seed 1),
- export it with torch.onnx.export (opset 13, a dynamic batch axis, do_constant_folding=False and
  training=PRESERVE on the eval-mode model: TrainingMode.EVAL would fold batch norm into the convolutions
  under new names even without constant folding; PRESERVE keeps BatchNormalization nodes and every
  initializer named by its state_dict key),
- check that every state_dict entry except the num_batches_tracked counters (which no op reads) is an
  initializer of that name, holding exactly hash_tensor(seed, key, dims, keys) with `keys` the set of
  those initializer names (the set the test has: it sees no num_batches_tracked, and no hash rule looks at one),
- rename the values between nodes to v0, v1, ... (the exporter's '/features/denseblock1/.../Conv_output_0'
  names are most of a graph's bytes), check the model with onnx.checker,
- strip those initializers' data (name, data type and dims stay; raw_data empty) and save the graph alone as
  zoo_<name>.onnx (1 KB for LeNet-5 to 116 KB for DenseNet-121, whose 606 initializer names are most of it).
  Initializers that are not state_dict keys (constants the exporter made) would keep their data and be listed
  under `kept`; with these exports there are none: the exporter's own constants are Constant nodes (e.g. the
  LSTM export's gate reordering is Slice/Concat nodes over the state_dict weights, folded by wasmzoo at load).

zoo_goldens.json: {meta, models: {<name>: {file, seed, input: {name, dims}, output, classes, ops, hashed (count),
kept: [names], rows: [{head, top5, gap5, sum, sumsq}]}}}: PyTorch's outputs on hash_tensor(seed, 'input', dims)
for a batch of 2: per row the first 32 logits, the top-5 indices (gap5: 5th minus 6th logit, so a reader sees
the top-5 is not a near tie), and the sum and sum of squares of the whole row (float32 values written as the
doubles they are exactly). Images are 96x96 where the model allows (AlexNet's adaptive pool exports only when its
6x6 input is static: 224x224).
"""
import io
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torchvision

TOOLS = os.path.join(os.path.dirname(__file__), '..')
sys.path.insert(0, TOOLS)
import hashweights  # noqa: E402
from lenet import LeNet5  # noqa: E402

OUT = os.path.join(TOOLS, '..', 'test', 'fixtures', 'onnx')
SEED = 1
OPSET = 13
HEAD = 32
META = {'format': 'wasmzoo-golden', 'version': '1', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'onnx': onnx.__version__, 'generator': 'tools/goldens/onnx_zoo.py', 'opset': OPSET, 'seed': SEED}


class LSTMClassifier(nn.Module):
    """A 2-layer LSTM over a (batch, time, features) sequence, classified from the last step's output."""

    def __init__(self, features=16, hidden=32, classes=10):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


tv = torchvision.models
# name: (constructor, batch-2 input dims)
MODELS = {
    'resnet18': (lambda: tv.resnet18(), [2, 3, 96, 96]),
    'googlenet': (lambda: tv.googlenet(aux_logits=False, init_weights=False, transform_input=False), [2, 3, 96, 96]),
    'squeezenet1_1': (lambda: tv.squeezenet1_1(), [2, 3, 96, 96]),
    'mobilenet_v2': (lambda: tv.mobilenet_v2(), [2, 3, 96, 96]),
    'densenet121': (lambda: tv.densenet121(), [2, 3, 96, 96]),
    'shufflenet_v2_x0_5': (lambda: tv.shufflenet_v2_x0_5(), [2, 3, 96, 96]),
    'alexnet': (lambda: tv.alexnet(), [2, 3, 224, 224]),
    'lenet5': (lambda: LeNet5(), [2, 1, 28, 28]),
    'lstm2': (lambda: LSTMClassifier(), [2, 7, 16]),
}


def export(model, x):
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=OPSET, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    return onnx.load_from_string(f.getvalue())


def strip(m, sd, name):
    """Check the initializers against the hash and empty the data of those named by state_dict keys."""
    inits = {t.name: t for t in m.graph.initializer}
    wanted = {k for k in sd if not k.endswith('num_batches_tracked')}
    missing = wanted - set(inits)
    if missing:
        raise SystemExit(f'{name}: state_dict entries missing from the initializers: {sorted(missing)}')
    keys = {k for k in inits if k in wanted}
    for k in keys:
        have = numpy_helper.to_array(inits[k])
        want = hashweights.hash_tensor(SEED, k, tuple(inits[k].dims), keys)
        if have.dtype != want.dtype or not np.array_equal(have, want):
            raise SystemExit(f'{name}: initializer {k} is not the hashed {k} (the exporter changed it)')
    hashed, kept = [], []
    for t in m.graph.initializer:
        if t.name in keys:
            for field in ('raw_data', 'float_data', 'int32_data', 'int64_data', 'double_data'):
                t.ClearField(field)
            hashed.append(t.name)
        else:
            kept.append(t.name)
    return hashed, kept


def shorten(m):
    """Rename the values between nodes (the exporter's '/layer/Op_output_0') to v0, v1, ...: a third of the size,
    no change in meaning. Graph inputs, outputs, initializers and node names stay."""
    g = m.graph
    keep = {v.name for v in g.input} | {v.name for v in g.output} | {t.name for t in g.initializer} | {''}
    names = {}
    for n in g.node:
        for i, y in enumerate(n.output):
            if y not in keep:
                names.setdefault(y, f'v{len(names)}')
                n.output[i] = names[y]
        for i, x in enumerate(n.input):
            if x in names:
                n.input[i] = names[x]
    del g.value_info[:]


def main(names):
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(False)
    path = os.path.join(OUT, 'zoo_goldens.json')
    goldens = {'meta': META, 'models': {}}
    if os.path.exists(path) and set(names) != set(MODELS):
        with open(path) as fh:
            goldens['models'] = json.load(fh)['models']
    for name in names:
        make, dims = MODELS[name]
        model = hashweights.hash_state_dict(make(), SEED).eval()
        x = torch.from_numpy(hashweights.hash_tensor(SEED, 'input', tuple(dims)))
        y = model(x)
        m = export(model, x)
        shorten(m)
        onnx.checker.check_model(m)  # before stripping: the checker wants every initializer's data
        hashed, kept = strip(m, model.state_dict(), name)
        file = f'zoo_{name}.onnx'
        data = m.SerializeToString()
        with open(os.path.join(OUT, file), 'wb') as fh:
            fh.write(data)
        rows = []
        for r in y.reshape(dims[0], -1):
            order = r.argsort(descending=True)
            r64 = r.double()
            rows.append({'head': [float(v) for v in r[:HEAD].tolist()], 'top5': order[:5].tolist(),
                         'gap5': float(r[order[4]] - r[order[5]]), 'sum': float(r64.sum()), 'sumsq': float((r64 * r64).sum())})
        ops = sorted({n.op_type for n in m.graph.node})
        goldens['models'][name] = {'file': file, 'seed': SEED, 'input': {'name': 'input', 'dims': dims},
                                   'output': 'logits', 'classes': int(y.shape[1]), 'ops': ops,
                                   'hashed': len(hashed), 'kept': kept, 'rows': rows}
        print(f'{file}: {len(data)} bytes, {len(hashed)} hashed + {len(kept)} kept initializers, '
              f'{len(m.graph.node)} nodes, ops {ops}, top-5 gaps {[round(r["gap5"], 4) for r in rows]}', flush=True)
    with open(path, 'w') as fh:
        json.dump(goldens, fh, separators=(',', ':'))
        fh.write('\n')


if __name__ == '__main__':
    main(sys.argv[1:] or list(MODELS))
