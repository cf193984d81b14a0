"""Write the PyTorch checkpoint fixtures of test/io/pth.test.ts (dev time only; tests never run Python).

    /usr/bin/python3 tools/goldens/pth_fixtures.py      # Debian's python3-torch (1.13)

Each fixture is a real torch.save file of a few KB under test/fixtures/pth/. expected.safetensors holds what
torch itself reads back: for every fixture tensor '<fixture>/<key>' its values as `t.float()` (F32, C order,
so torch's own f16/bf16/f64/int64 -> float32 rounding is the reference), and for integer tensors also
'<fixture>/<key>#i64' (exact values); metadata 'order.<fixture>' lists the keys in state-dict order.
Seeded: the same torch writes the same bytes, except legacy.pth (its storage keys are memory addresses).
"""
import collections
import io
import json
import os
import sys
import zipfile

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
import safetensors_py  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'pth')
expected = {}
order = {}  # fixture -> its tensors' keys in state-dict order (expected.safetensors sorts by name)


class TinyNet(torch.nn.Module):
    """Conv, batch norm (running stats, an int64 num_batches_tracked) and linear: a state_dict with _metadata."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)
        self.bn = torch.nn.BatchNorm2d(3)
        self.fc = torch.nn.Linear(12, 4)


def tiny_state_dict():
    torch.manual_seed(0)
    net = TinyNet()
    net.train()
    net.bn(net.conv(torch.randn(4, 2, 4, 4)))  # non-trivial running statistics
    net.bn.num_batches_tracked.fill_(7)
    return net


def record(fixture, sd):
    order[fixture] = [k for k, v in sd.items() if torch.is_tensor(v)]
    for k, v in sd.items():
        if not torch.is_tensor(v):
            continue
        expected[f'{fixture}/{k}'] = v.detach().float().contiguous().numpy()
        if not v.is_floating_point():
            expected[f'{fixture}/{k}#i64'] = v.detach().to(torch.int64).contiguous().numpy()


def save(name, obj, sd=None, **kw):
    path = os.path.join(OUT, f'{name}.pth')
    torch.save(obj, path, **kw)
    if sd is not None:
        record(name, sd)
    # the reference read: torch.load must give back what was saved
    if sd is not None:
        back = torch.load(path)
        if isinstance(back, dict) and 'state_dict' in back:
            back = back['state_dict']
        elif isinstance(back, dict) and 'model' in back:
            back = back['model']
        for k, v in sd.items():
            assert torch.equal(back[k], v), (name, k)
    print(f'{path}: {os.path.getsize(path)} bytes')


class Evil:
    """What a hostile checkpoint does: unpickling it in Python runs os.system."""

    def __reduce__(self):
        return (os.system, ('echo this checkpoint ran code',))


def main():
    os.makedirs(OUT, exist_ok=True)
    net = tiny_state_dict()
    sd = net.state_dict()
    assert hasattr(sd, '_metadata')

    save('f32', sd, sd)
    for name, dtype in [('f16', torch.float16), ('bf16', torch.bfloat16), ('f64', torch.float64)]:
        d = TinyNet()
        d.load_state_dict(sd)
        d = d.to(dtype)  # num_batches_tracked stays int64
        s = d.state_dict()
        assert s['conv.weight'].dtype == dtype and s['bn.num_batches_tracked'].dtype == torch.int64
        save(name, s, s)

    ints = collections.OrderedDict([
        ('i64', torch.tensor([-3, 0, 7, 2**40 + 1, 2**62 + 2**38 + 1, -(2**63)], dtype=torch.int64)),  # past 2^24: rounding
        ('count', torch.tensor(5)),
        ('i32', torch.tensor([[-2**31, 1], [2, 2**31 - 1]], dtype=torch.int32)),
        ('i16', torch.tensor([-32768, 5, 32767], dtype=torch.int16)),
        ('i8', torch.tensor([-128, 0, 127], dtype=torch.int8)),
        ('u8', torch.tensor([0, 200, 255], dtype=torch.uint8)),
        ('mask', torch.tensor([True, False, True])),
    ])
    save('ints', ints, ints)

    torch.manual_seed(1)
    x = torch.randn(5, 3)
    y = torch.randn(4, 6)
    z = torch.randn(1, 4)
    views = collections.OrderedDict([
        ('t', x.t()),  # stride (1, 3)
        ('s', y[1:, ::2]),  # offset 6, stride (6, 2)
        ('e', z.expand(3, 4)),  # stride (0, 1)
        ('c', x),  # the transpose's storage again, contiguous
    ])
    assert not views['t'].is_contiguous() and views['s'].storage_offset() == 6
    save('noncontig', views, views)

    base = torch.arange(12, dtype=torch.float32) * 0.5
    shared = collections.OrderedDict([('a', base[:4]), ('b', base[4:].view(2, 4)), ('c', base.view(3, 4))])
    save('shared', shared, shared)

    # a training checkpoint: the optimizer's state has int keys and momentum tensors (outside the state dict)
    other = TinyNet()
    other.load_state_dict(sd)
    opt = torch.optim.SGD(other.parameters(), lr=0.1, momentum=0.9)
    other.fc(torch.flatten(other.bn(other.conv(torch.randn(2, 2, 4, 4))), 1)).sum().backward()
    opt.step()
    checkpoint = {'epoch': 3, 'state_dict': sd, 'optimizer': opt.state_dict(), 'best_acc': 0.5, 'args': {'lr': 0.1, 'name': 'tiny', 'flags': [True, None]}}
    save('nested', checkpoint, sd)
    save('model_key', {'model': sd, 'step': 10}, sd)

    save('legacy', sd, sd, _use_new_zipfile_serialization=False)
    save('proto4', sd, sd, pickle_protocol=4)

    params = collections.OrderedDict([('p', torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.5])))])
    save('param', params, params)

    save('malicious', {'weight': torch.zeros(2), 'x': Evil()})
    torch.manual_seed(2)
    save('module', torch.nn.Linear(2, 2))  # a whole pickled module: its class is not a whitelisted global

    # A checkpoint another zip tool re-compressed (torch itself never deflates)
    raw = open(os.path.join(OUT, 'f32.pth'), 'rb').read()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), src.read(info.filename), zipfile.ZIP_DEFLATED)
    with open(os.path.join(OUT, 'deflated.pth'), 'wb') as f:
        f.write(buf.getvalue())

    # The reference for test/io/pth-writer.ts: torch.save of a plain OrderedDict the test rebuilds in JS
    # (11 storages, so the records' sorted order '0', '1', '10', '2', ... shows; one shared; numels over 255).
    wc = collections.OrderedDict()
    wc['conv.weight'] = (torch.arange(54, dtype=torch.float32) / 10 - 2).reshape(2, 3, 3, 3)
    wc['conv.bias'] = torch.tensor([0.25, -0.5])
    wc['bn.num_batches_tracked'] = torch.tensor(7)
    wc['half'] = torch.tensor([1.0, -2.5, 65504.0], dtype=torch.float16)
    wc['long'] = torch.arange(300, dtype=torch.float32)
    for i in range(6):
        wc[f'fc{i}.weight'] = torch.full((2, i + 1), float(i))
    big = torch.arange(10, dtype=torch.float32)
    wc['view.a'] = big[:4]
    wc['view.b'] = big[4:].view(2, 3)
    save('writer_check', wc, wc)

    meta = {'torch': torch.__version__, **{f'order.{k}': json.dumps(v) for k, v in order.items()}}
    safetensors_py.save(os.path.join(OUT, 'expected.safetensors'), expected, meta)
    print(f'{len(expected)} expected tensors')


if __name__ == '__main__':
    main()
