"""Write small safetensors fixtures from real PyTorch tensors, by hand (no `safetensors` package).

An independent implementation of the format, so the TS reader/writer is checked against something other
than itself. Dev-time only:  /usr/bin/python3 tools/gen_safetensors_fixtures.py

Outputs in test/golden/safetensors/:
  torch_mixed.safetensors   every dtype PyTorch 1.13 has (F32 F64 F16 BF16 I8 U8 I16 I32 I64 BOOL), special
                            values (+-0, subnormals, max, +-inf, nan), a 0-d I64 `num_batches_tracked`, an
                            empty tensor; laid out in *name* order with a 3-byte I8 tensor first so the
                            following data is NOT aligned; header written with json.dumps' default ", "
                            separators and padded with spaces.
  torch_mixed.expected.json per tensor: dtype, shape, and the values as PyTorch widens them to float64
                            (nan/inf as strings; bools/ints exact).
  torch_reference_order.safetensors  the same tensors as the reference serializer lays them out: sorted by
                            dtype alignment descending then name, compact JSON, metadata first, padded to 8.
                            The TS writer must reproduce it byte for byte.
"""
import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "golden", "safetensors")

DTYPE = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int8: "I8", torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL",
}
# The reference's Dtype enum order (increasing alignment).
ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]


def raw(t):
    """Little-endian C-order bytes of a tensor (numpy has no bfloat16: go through int16 bits)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<")).tobytes()


def enc(v):
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
    return v


def widened(t):
    if t.dtype == torch.bool or not t.dtype.is_floating_point:
        flat = [int(v) for v in t.reshape(-1).tolist()]
    else:
        flat = [enc(v) for v in t.to(torch.float64).reshape(-1).tolist()]
    return flat


SPECIAL = [0.0, -0.0, 1.0, -2.5, 1 / 3, 65504.0, 6.1035156e-05, 5.9604645e-08, 2.9802322e-08,
           1e-8, 70000.0, float("inf"), float("-inf"), float("nan"), 3.14159, -1e-3]
# bfloat16 ties: 1 + 2^-8 (rounds to even 1.0) and 1 + 3 * 2^-8 (rounds to even 1 + 2^-6).
SPECIAL_BF16 = SPECIAL + [1.00390625, 1.01171875]


def tensors():
    g = torch.Generator().manual_seed(1234)
    return {
        "a.tiny_i8": torch.tensor([-128, 7, 127], dtype=torch.int8),
        "bn.num_batches_tracked": torch.tensor(7, dtype=torch.int64),
        "bn.running_mean": torch.randn(4, generator=g),
        "conv1.weight": torch.randn(2, 1, 3, 3, generator=g),
        "empty": torch.zeros(0, 3),
        "h16": torch.tensor(SPECIAL, dtype=torch.float32).to(torch.float16),
        "b16": torch.tensor(SPECIAL_BF16, dtype=torch.float32).to(torch.bfloat16),
        "f64": torch.tensor([1 / 3, -1e300, 1e-310, 2.0 ** 60 + 1], dtype=torch.float64),
        "i16": torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16),
        "i32": torch.tensor([-(2 ** 31), 16777217, 2 ** 31 - 1], dtype=torch.int32),
        "i64": torch.tensor([-(2 ** 63), -1, 2 ** 53 + 1, 2 ** 63 - 1], dtype=torch.int64),
        "mask": torch.tensor([True, False, True]),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
    }


def write(path, entries, metadata, separators, order):
    """entries: name -> tensor; order: list of names in data order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name in order:
        t = entries[name]
        b = raw(t)
        header[name] = {"dtype": DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header, separators=separators, ensure_ascii=False).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    return len(h), len(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    ts = tensors()
    meta = {"format": "pt", "source": "tools/gen_safetensors_fixtures.py"}
    # Name order puts the 3-byte I8 first: everything after it is unaligned.
    write(os.path.join(OUT, "torch_mixed.safetensors"), ts, meta, (", ", ": "), sorted(ts))
    ref_order = sorted(ts, key=lambda n: (-ORDER.index(DTYPE[ts[n].dtype]), n.encode("utf-8")))
    write(os.path.join(OUT, "torch_reference_order.safetensors"), ts, meta, (",", ":"), ref_order)
    expected = {n: {"dtype": DTYPE[t.dtype], "shape": list(t.shape), "values": widened(t)} for n, t in ts.items()}
    # The float32 inputs PyTorch rounded to h16 / b16 (`.to(torch.float16)` / `.to(torch.bfloat16)`).
    inputs = {
        "h16": [enc(v) for v in torch.tensor(SPECIAL, dtype=torch.float32).to(torch.float64).tolist()],
        "b16": [enc(v) for v in torch.tensor(SPECIAL_BF16, dtype=torch.float32).to(torch.float64).tolist()],
    }
    with open(os.path.join(OUT, "torch_mixed.expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "metadata": meta, "f32_inputs": inputs, "tensors": expected}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
