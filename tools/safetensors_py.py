"""Minimal safetensors writer/reader for development-time scripts (no PyPI here, so no `safetensors`
package): 8-byte little-endian header length, JSON header padded with spaces to a multiple of 8, raw
little-endian data. Used by the golden-file generators in tools/."""
import json
import struct

import numpy as np

_DT = {np.dtype('float32'): 'F32', np.dtype('int64'): 'I64', np.dtype('float16'): 'F16', np.dtype('uint8'): 'U8'}


def save(path, tensors, metadata=None):
    header = {}
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        a = a.copy(order="C") if a.ndim == 0 else np.ascontiguousarray(a)  # ascontiguousarray turns 0-d into 1-d
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': _DT[a.dtype], 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    inv = {v: k for k, v in _DT.items()}
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        s, t = e['data_offsets']
        out[name] = np.frombuffer(data[s:t], dtype=inv[e['dtype']]).reshape(e['shape'])
    return out
