/**
 * Test helper: write a PyTorch checkpoint the way `torch.save(state_dict, 'x.pth')` of torch 1.13 does, byte
 * for byte, so tests can make big checkpoints (a whole ResNet-18) without Python or committed files. Plain
 * JavaScript (types in pth-writer.d.mts) because the long fuzz run (tools/fuzz.mjs, plain Node) uses it too:
 * to make LeNet-5 seeds and to re-zip mutated records with valid CRCs.
 *
 * Checked against torch: test/fixtures/pth/writer_check.pth is torch.save's own file of an OrderedDict that
 * pth.test.ts rebuilds with this writer; the bytes must be identical (they are: dev-time check
 * tools/goldens/pth_fixtures.py, torch 1.13.0a0, Debian python3-torch; the test keeps checking it).
 *
 * What torch writes (torch/serialization.py `_save`, caffe2/serialize/inline_container.cc):
 *   - data.pkl: pickle protocol 2 of `OrderedDict(...)`: GLOBAL collections.OrderedDict, EMPTY_TUPLE, REDUCE,
 *     then SETITEMS in batches of 1000; each tensor as REDUCE of torch._utils._rebuild_tensor_v2 over
 *     (storage, offset, size, stride, requires_grad=False, OrderedDict()), the storage a BINPERSID of
 *     ('storage', torch.<T>Storage, key, 'cpu', numel). Python's pickler memoizes every str, global, non-empty
 *     tuple and reduced object (BINPUT n, n counting up) and repeats one by BINGET: the same str object
 *     ('storage', 'cpu', a storage's key), the same global.
 *   - records: <archive>/data.pkl, <archive>/data/<key> in sorted (string) key order, <archive>/version "3\n".
 *     Keys are "0", "1", ... in order of first use. Each local header has flags 0x0808 (data descriptor,
 *     UTF-8), zero CRC and sizes, an extra field "FB" + u16 n + n x 'Z' that puts the data on a 64-byte
 *     boundary, and is followed by a descriptor (PK 07 08, CRC, sizes). Then the central directory, a zip64
 *     end record (always), its locator and the end record. No timestamps: the file is deterministic.
 */

const STORAGE_TYPE = {
  F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage', I64: 'LongStorage',
  I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
};
export const DTYPE_SIZE = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** A storage from a typed array (its bytes, copied; the host is little-endian). */
export function storage(dtype, data) {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (bytes.length % DTYPE_SIZE[dtype] !== 0) throw new Error(`storage: ${bytes.length} bytes is not a whole number of ${dtype}`);
  return { dtype, bytes };
}

/** A contiguous tensor over its own storage. */
export function tensor(dtype, data, shape) {
  return { storage: storage(dtype, data), shape };
}

export function contiguousStride(shape) {
  const s = new Array(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** torch.save(OrderedDict(entries)) as bytes. */
export function writePth(entries, opts = {}) {
  const list = Symbol.iterator in entries ? [...entries] : Object.entries(entries);
  const archive = opts.archive ?? 'archive';
  const keys = new Map(); // storage -> key
  const p = new Pickler();
  p.op(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict');
  p.op(0x29); // EMPTY_TUPLE
  p.op(0x52); // REDUCE
  p.put();
  for (let i = 0; i < list.length; i += 1000) {
    const batch = list.slice(i, i + 1000);
    if (batch.length > 1) p.op(0x28); // MARK
    for (const [name, t] of batch) {
      p.str(name);
      p.tensor(t, keys);
    }
    p.op(batch.length > 1 ? 0x75 : 0x73); // SETITEMS / SETITEM
  }
  p.op(0x2e); // STOP
  const enc = new TextEncoder();
  const records = [[`${archive}/data.pkl`, p.bytes()]];
  const byKey = [...keys].map(([s, k]) => [k, s]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, s] of byKey) records.push([`${archive}/data/${k}`, s.bytes]);
  records.push([`${archive}/version`, enc.encode('3\n')]);
  if (opts.byteorder) records.push([`${archive}/byteorder`, enc.encode(opts.byteorder)]);
  return zipStored(records);
}

/** The subset of Python's pickler (protocol 2) torch.save uses, with its memo. */
class Pickler {
  buf = new Uint8Array(1024);
  len = 0;
  memo = new Map(); // value key -> memo index
  memoSize = 0;

  bytes() {
    return this.buf.slice(0, this.len);
  }

  raw(b) {
    if (this.len + b.length > this.buf.length) {
      const n = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length));
      n.set(this.buf.subarray(0, this.len));
      this.buf = n;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  op(code, ...args) {
    this.raw([code, ...args]);
  }

  /** BINPUT / LONG_BINPUT of the next memo index; `key` makes the value reusable by BINGET. */
  put(key) {
    const i = this.memoSize++;
    if (key !== undefined) this.memo.set(key, i);
    if (i < 256) this.op(0x71, i);
    else this.op(0x72, ...u32(i));
  }

  /** BINGET of a memoized value; false if it was never stored. */
  get(key) {
    const i = this.memo.get(key);
    if (i === undefined) return false;
    if (i < 256) this.op(0x68, i);
    else this.op(0x6a, ...u32(i));
    return true;
  }

  global(module, name) {
    const key = `global:${module}.${name}`;
    if (this.get(key)) return;
    this.op(0x63);
    this.raw(new TextEncoder().encode(`${module}\n${name}\n`));
    this.put(key);
  }

  /** A str; memoized by value (torch's repeated strs are one object each: 'storage', 'cpu', a storage key). */
  str(s) {
    const key = `str:${s}`;
    if (this.get(key)) return;
    const b = new TextEncoder().encode(s);
    this.op(0x58, ...u32(b.length)); // BINUNICODE
    this.raw(b);
    this.put(key);
  }

  int(v) {
    if (!Number.isInteger(v)) throw new Error(`int: ${v}`);
    if (v >= 0 && v <= 0xff) this.op(0x4b, v);
    else if (v >= 0 && v <= 0xffff) this.op(0x4d, v & 0xff, v >> 8);
    else if (v >= -(2 ** 31) && v < 2 ** 31) this.op(0x4a, ...u32(v >>> 0));
    else throw new Error(`int ${v}: LONG1 is not needed by these tests`);
  }

  /** A tuple of ints, as save_tuple: EMPTY_TUPLE (not memoized), TUPLE1-3, or MARK ... TUPLE. */
  ints(xs) {
    if (xs.length === 0) return this.op(0x29);
    if (xs.length > 3) this.op(0x28);
    for (const x of xs) this.int(x);
    this.op(xs.length > 3 ? 0x74 : 0x84 + xs.length);
    this.put();
  }

  tensor(t, keys) {
    const s = t.storage;
    let key = keys.get(s);
    if (key === undefined) {
      key = String(keys.size);
      keys.set(s, key);
    }
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28); // MARK: the arguments
    this.op(0x28); // MARK: the persistent id
    this.str('storage');
    this.global('torch', STORAGE_TYPE[s.dtype]);
    this.str(key);
    this.str('cpu');
    this.int(s.bytes.length / DTYPE_SIZE[s.dtype]);
    this.op(0x74); // TUPLE
    this.put();
    this.op(0x51); // BINPERSID
    this.int(t.offset ?? 0);
    this.ints(t.shape);
    this.ints(t.stride ?? contiguousStride(t.shape));
    this.op(0x89); // NEWFALSE: requires_grad
    this.global('collections', 'OrderedDict'); // backward_hooks = OrderedDict()
    this.op(0x29);
    this.op(0x52);
    this.put();
    this.op(0x74); // TUPLE
    this.put();
    this.op(0x52); // REDUCE
    this.put();
  }
}

function u16(v) {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function u32(v) {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function u64(v) {
  return [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];
}

/** A zip of stored records [name, bytes] laid out as torch's PyTorchStreamWriter (see the file header). */
export function zipStored(records) {
  const enc = new TextEncoder();
  const parts = [];
  let at = 0;
  const emit = (b) => {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    parts.push(u);
    at += u.length;
  };
  const central = [];
  for (const [name, data] of records) {
    const nb = enc.encode(name);
    const offset = at;
    const start = offset + 30 + nb.length + 4;
    const pad = (64 - (start % 64)) % 64;
    const crc = crc32(data);
    emit([0x50, 0x4b, 3, 4, ...u16(0), ...u16(0x0808), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(0), ...u32(0), ...u16(nb.length), ...u16(pad + 4)]);
    emit(nb);
    emit([0x46, 0x42, ...u16(pad), ...new Array(pad).fill(0x5a)]);
    emit(data);
    emit([0x50, 0x4b, 7, 8, ...u32(crc), ...u32(data.length), ...u32(data.length)]);
    central.push(0x50, 0x4b, 1, 2, ...u16(0), ...u16(0), ...u16(0x0808), ...u16(0), ...u16(0), ...u16(0), ...u32(crc), ...u32(data.length), ...u32(data.length),
      ...u16(nb.length), ...u16(0), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(offset), ...nb);
  }
  const cdOffset = at;
  emit(central);
  const cdSize = central.length;
  const eocd64 = at;
  const n = records.length;
  emit([0x50, 0x4b, 6, 6, ...u64(44), ...u16(0x031e), ...u16(0x002d), ...u32(0), ...u32(0), ...u64(n), ...u64(n), ...u64(cdSize), ...u64(cdOffset)]);
  emit([0x50, 0x4b, 6, 7, ...u32(0), ...u64(eocd64), ...u32(1)]);
  emit([0x50, 0x4b, 5, 6, ...u16(0), ...u16(0), ...u16(n), ...u16(n), ...u32(cdSize), ...u32(cdOffset), ...u16(0)]);
  const out = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

let crcTable;
/** CRC-32 (IEEE, reflected, as zip). */
export function crc32(data) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
