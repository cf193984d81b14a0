/**
 * Test helper: write a PyTorch checkpoint the way `torch.save(state_dict, 'x.pth')` of torch 1.13 does, byte
 * for byte, so tests can make big checkpoints (a whole ResNet-18) without Python or committed files.
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
import { crc32 } from '../../src/io/zip.js';

export type PthDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const STORAGE_TYPE: Record<PthDtype, string> = {
  F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', F64: 'DoubleStorage', I64: 'LongStorage',
  I32: 'IntStorage', I16: 'ShortStorage', I8: 'CharStorage', U8: 'ByteStorage', BOOL: 'BoolStorage',
};
const SIZE: Record<PthDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** A storage: little-endian elements. Tensors given the same object share it (as views in torch). */
export interface PthStorage {
  dtype: PthDtype;
  bytes: Uint8Array;
}

export interface PthTensorSpec {
  storage: PthStorage;
  shape: number[];
  /** Default: contiguous. */
  stride?: number[];
  /** In elements; default 0. */
  offset?: number;
}

export interface WritePthOptions {
  /** The archive's top folder (torch uses the file name's stem); default "archive". */
  archive?: string;
  /** Add a `byteorder` record (torch >= 2.1 writes "little"); the storages' bytes must then be in that order. */
  byteorder?: 'little' | 'big';
}

/** A storage from a typed array (its bytes, copied; the host is little-endian). */
export function storage(dtype: PthDtype, data: ArrayBufferView): PthStorage {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (bytes.length % SIZE[dtype] !== 0) throw new Error(`storage: ${bytes.length} bytes is not a whole number of ${dtype}`);
  return { dtype, bytes };
}

/** A contiguous tensor over its own storage. */
export function tensor(dtype: PthDtype, data: ArrayBufferView, shape: number[]): PthTensorSpec {
  return { storage: storage(dtype, data), shape };
}

export function contiguousStride(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** torch.save(OrderedDict(entries)) as bytes. */
export function writePth(entries: Iterable<[string, PthTensorSpec]> | Record<string, PthTensorSpec>, opts: WritePthOptions = {}): Uint8Array {
  const list = Symbol.iterator in entries ? [...(entries as Iterable<[string, PthTensorSpec]>)] : Object.entries(entries);
  const archive = opts.archive ?? 'archive';
  const keys = new Map<PthStorage, string>();
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
  const records: [string, Uint8Array][] = [[`${archive}/data.pkl`, p.bytes()]];
  const byKey = [...keys].map(([s, k]) => [k, s] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [k, s] of byKey) records.push([`${archive}/data/${k}`, s.bytes]);
  records.push([`${archive}/version`, enc.encode('3\n')]);
  if (opts.byteorder) records.push([`${archive}/byteorder`, enc.encode(opts.byteorder)]);
  return zipStored(records);
}

/** The subset of Python's pickler (protocol 2) torch.save uses, with its memo. */
class Pickler {
  private buf = new Uint8Array(1024);
  private len = 0;
  private readonly memo = new Map<string, number>();
  private memoSize = 0;

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  raw(b: ArrayLike<number>): void {
    if (this.len + b.length > this.buf.length) {
      const n = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length));
      n.set(this.buf.subarray(0, this.len));
      this.buf = n;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  op(code: number, ...args: number[]): void {
    this.raw([code, ...args]);
  }

  /** BINPUT / LONG_BINPUT of the next memo index; `key` makes the value reusable by BINGET. */
  put(key?: string): void {
    const i = this.memoSize++;
    if (key !== undefined) this.memo.set(key, i);
    if (i < 256) this.op(0x71, i);
    else this.op(0x72, ...u32(i));
  }

  /** BINGET of a memoized value; false if it was never stored. */
  get(key: string): boolean {
    const i = this.memo.get(key);
    if (i === undefined) return false;
    if (i < 256) this.op(0x68, i);
    else this.op(0x6a, ...u32(i));
    return true;
  }

  global(module: string, name: string): void {
    const key = `global:${module}.${name}`;
    if (this.get(key)) return;
    this.op(0x63);
    this.raw(new TextEncoder().encode(`${module}\n${name}\n`));
    this.put(key);
  }

  /** A str; memoized by value (torch's repeated strs are one object each: 'storage', 'cpu', a storage key). */
  str(s: string): void {
    const key = `str:${s}`;
    if (this.get(key)) return;
    const b = new TextEncoder().encode(s);
    this.op(0x58, ...u32(b.length)); // BINUNICODE
    this.raw(b);
    this.put(key);
  }

  int(v: number): void {
    if (!Number.isInteger(v)) throw new Error(`int: ${v}`);
    if (v >= 0 && v <= 0xff) this.op(0x4b, v);
    else if (v >= 0 && v <= 0xffff) this.op(0x4d, v & 0xff, v >> 8);
    else if (v >= -(2 ** 31) && v < 2 ** 31) this.op(0x4a, ...u32(v >>> 0));
    else throw new Error(`int ${v}: LONG1 is not needed by these tests`);
  }

  /** A tuple of ints, as save_tuple: EMPTY_TUPLE (not memoized), TUPLE1-3, or MARK ... TUPLE. */
  ints(xs: number[]): void {
    if (xs.length === 0) return this.op(0x29);
    if (xs.length > 3) this.op(0x28);
    for (const x of xs) this.int(x);
    this.op(xs.length > 3 ? 0x74 : 0x84 + xs.length);
    this.put();
  }

  tensor(t: PthTensorSpec, keys: Map<PthStorage, string>): void {
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
    this.int(s.bytes.length / SIZE[s.dtype]);
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

function u16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function u64(v: number): number[] {
  return [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];
}

/** A zip of stored records laid out as torch's PyTorchStreamWriter (see the file header). */
function zipStored(records: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let at = 0;
  const emit = (b: ArrayLike<number>): void => {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    parts.push(u);
    at += u.length;
  };
  const central: number[] = [];
  for (const [name, data] of records) {
    const nb = enc.encode(name);
    const offset = at;
    const start = offset + 30 + nb.length + 4;
    const pad = (64 - (start % 64)) % 64;
    const crc = crc32(data);
    emit([0x50, 0x4b, 3, 4, ...u16(0), ...u16(0x0808), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(0), ...u32(0), ...u16(nb.length), ...u16(pad + 4)]);
    emit(nb);
    emit([0x46, 0x42, ...u16(pad), ...new Array<number>(pad).fill(0x5a)]);
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
