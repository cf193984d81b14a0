/**
 * PyTorch checkpoints (`torch.save(model.state_dict(), 'x.pth')`) read without Python and without running
 * the pickle inside (see src/io/pickle.ts).
 *
 * Formats, told apart by their first bytes (never by the file name):
 *   - zip (torch >= 1.6, the default): `<archive>/data.pkl` (the pickled state dict, whose tensors name their
 *     storage by a persistent id), `<archive>/data/<key>` (each storage's raw elements), `<archive>/version`,
 *     and since torch 2.1 `<archive>/byteorder` ("little" or "big"; absent means little);
 *   - legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles back to back (magic
 *     number, protocol version 1001, system info, the state dict, the list of storage keys), then each storage
 *     as a u64 element count and its elements;
 *   - the older tar format (torch < 0.4) is refused with E_PICKLE: load it in torch and save it again.
 *
 * What is read: a dict (OrderedDict or plain) of name -> tensor, or a dict holding one under 'state_dict' or
 * 'model' (a training checkpoint; its other entries, e.g. the epoch, may be any plain values). Values of the
 * state dict that are not tensors (e.g. `_extra_state`) are listed in `skipped`. Tensors: any storage offset,
 * size and stride (non-contiguous views are copied out by strides; views of one storage share it), dtypes
 * F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL (safetensors' names, src/io/dtype.ts). The pickle globals
 * allowed are collections.OrderedDict, torch._utils._rebuild_tensor(_v2/_v3), _rebuild_parameter(_with_state),
 * torch.Size, the storage types below and the torch dtypes; anything else (a pickled nn.Module, numpy
 * scalars, os.system) is refused with E_PICKLE naming it.
 *
 * Nothing is copied until asked: `bytes(name)` is a view of the file for a contiguous tensor, and storages'
 * CRC-32 is checked on their first read. Every malformed input is a WasmzooError('E_PICKLE').
 * Callers: src/io/weights.ts (loadStateDict and every `weights:` option), the CLI's inspect.
 */
import { WasmzooError } from '../errors.js';
import { DTYPE_SIZE, type Dtype } from './dtype.js';
import { PyDict, PyFloat, PyGlobal, PyList, PyTuple, typeName, unpickle, type HostValue, type PickleHost, type PyValue } from './pickle.js';
import { tensorToFloat32, type SafetensorsTensor } from './safetensors.js';
import { readZip, type ZipArchive } from './zip.js';

/** torch's storage classes (the persistent id's storage type) and their element type. */
const STORAGE_DTYPES: Readonly<Record<string, Dtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UntypedStorage: 'U8', // torch 2 (its tensors come through _rebuild_tensor_v3 with their dtype)
};

/** torch dtypes as globals (`torch.float32` pickles as the global torch.float32). */
const TORCH_DTYPES: Readonly<Record<string, Dtype>> = {
  float32: 'F32', float: 'F32', float16: 'F16', half: 'F16', bfloat16: 'BF16', float64: 'F64', double: 'F64',
  int64: 'I64', long: 'I64', int32: 'I32', int: 'I32', int16: 'I16', short: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};

/** The legacy format's first pickle: this magic number (torch/serialization.py MAGIC_NUMBER). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;
/** Dims and elements a tensor may have (a file's numbers are never trusted to size an allocation). */
const MAX_NDIM = 64;
const MAX_NUMEL = 2 ** 31;
/** Elements a view may have beyond its storage's (stride 0 repeats), 64 MB of float32. */
const MAX_BROADCAST = 2 ** 24;

export type PthFormat = 'zip' | 'legacy';

/** One tensor of a checkpoint, as its pickle describes it. */
export interface PthTensor {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** In elements, as torch's `stride()`. */
  readonly stride: readonly number[];
  /** In elements, as torch's `storage_offset()`. */
  readonly storageOffset: number;
  /** The storage's key (tensors with the same key are views of one storage). */
  readonly storage: string;
}

class Storage implements HostValue {
  readonly pyType = 'torch.Storage';
  constructor(
    readonly key: string,
    readonly dtype: Dtype,
    /** Elements of `dtype` (for a legacy view: of the view). */
    readonly numel: number,
    /** Byte offset into the root storage (a legacy storage view; else 0). */
    readonly byteOffset: number,
  ) {}
}

class TensorRef implements HostValue {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: Storage,
    readonly dtype: Dtype,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** A parsed checkpoint: names and shapes without touching the data; bytes and floats on demand. */
export class PthFile {
  readonly format: PthFormat;
  /** State-dict keys in the file's order (tensors only). */
  readonly names: readonly string[];
  /** Where the state dict was: '' (the file is one), or the key holding it ('state_dict' or 'model'). */
  readonly container: string;
  /** Keys of the state dict whose values are not tensors (skipped), e.g. `_extra_state`. */
  readonly skipped: readonly string[];
  /** Elements are big-endian (a `byteorder` record of "big", or a legacy file from a big-endian host). */
  readonly bigEndian: boolean;
  private readonly tensors: ReadonlyMap<string, TensorRef>;
  private readonly storageBytes: (key: string) => Uint8Array;

  /** @internal use {@link readPth} */
  constructor(format: PthFormat, tensors: Map<string, TensorRef>, container: string, skipped: string[], bigEndian: boolean, storageBytes: (key: string) => Uint8Array) {
    this.format = format;
    this.tensors = tensors;
    this.names = Object.freeze([...tensors.keys()]);
    this.container = container;
    this.skipped = Object.freeze(skipped);
    this.bigEndian = bigEndian;
    this.storageBytes = storageBytes;
  }

  get size(): number {
    return this.tensors.size;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  get(name: string): PthTensor {
    const t = this.ref(name);
    return { name, dtype: t.dtype, shape: [...t.shape], stride: [...t.stride], storageOffset: t.offset, storage: t.storage.key };
  }

  /**
   * The tensor's elements, C order, little-endian: a view of the file when the tensor is contiguous (and the
   * file little-endian), else a copy gathered by strides.
   */
  bytes(name: string): Uint8Array {
    const t = this.ref(name);
    const size = DTYPE_SIZE[t.dtype];
    const root = this.storageBytes(t.storage.key);
    const base = t.storage.byteOffset + t.offset * size;
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n === 0) return new Uint8Array(0);
    if (isContiguous(t.shape, t.stride) && !this.bigEndian) return root.subarray(base, base + n * size);
    const out = new Uint8Array(n * size);
    const rank = t.shape.length;
    const idx = new Array<number>(rank).fill(0);
    let src = base; // byte offset of element idx
    const swap = this.bigEndian && size > 1;
    for (let i = 0; i < n; i++) {
      const o = i * size;
      if (swap) for (let k = 0; k < size; k++) out[o + k] = root[src + size - 1 - k]!;
      else for (let k = 0; k < size; k++) out[o + k] = root[src + k]!;
      // odometer over the shape, last dim fastest
      for (let d = rank - 1; d >= 0; d--) {
        src += t.stride[d]! * size;
        if (++idx[d]! < t.shape[d]!) break;
        src -= t.stride[d]! * size * t.shape[d]!;
        idx[d] = 0;
      }
    }
    return out;
  }

  /** The tensor as float32, converted as the safetensors reader converts (src/io/safetensors.ts). */
  toFloat32(name: string): Float32Array {
    return tensorToFloat32(this.view(name));
  }

  /** The tensor as a safetensors-style entry (contiguous little-endian bytes), for its other conversions. */
  view(name: string): SafetensorsTensor {
    const t = this.ref(name);
    const bytes = this.bytes(name);
    return { name, dtype: t.dtype, shape: [...t.shape], bytes, dataOffsets: [0, bytes.length] };
  }

  ref(name: string): TensorRef {
    const t = this.tensors.get(name);
    if (!t) {
      const some = this.names.slice(0, 8).map((n) => JSON.stringify(n)).join(', ');
      throw new WasmzooError('E_ARGUMENT', `pth: no tensor named ${JSON.stringify(name)} (the file holds ${this.names.length}${this.names.length ? `: ${some}${this.names.length > 8 ? ', ...' : ''}` : ''})`);
    }
    return t;
  }
}

/** True when the bytes look like a PyTorch checkpoint (zip, legacy pickle or the old tar), by magic bytes. */
export function isPth(b: Uint8Array): boolean {
  return isZip(b) || isLegacy(b) || isTar(b);
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

/** PROTO n, LONG1 of 10 bytes: the legacy magic number. */
function isLegacy(b: Uint8Array): boolean {
  if (b.length < 14 || b[0] !== 0x80 || b[2] !== 0x8a || b[3] !== 10) return false;
  let v = 0n;
  for (let i = 13; i >= 4; i--) v = (v << 8n) | BigInt(b[i]!);
  return v === LEGACY_MAGIC;
}

function isTar(b: Uint8Array): boolean {
  return b.length >= 262 && b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72; // "ustar"
}

/** Parse a checkpoint's structure and check every tensor against its storage. The data is read lazily. */
export function readPth(bytes: Uint8Array | ArrayBuffer): PthFile {
  let u8: Uint8Array;
  if (bytes instanceof Uint8Array) u8 = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  else if (bytes instanceof ArrayBuffer) u8 = new Uint8Array(bytes);
  else throw new WasmzooError('E_ARGUMENT', `readPth: expected a Uint8Array or ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
  if (isZip(u8)) return readZipCheckpoint(u8);
  if (isLegacy(u8)) return readLegacyCheckpoint(u8);
  if (isTar(u8)) fail('pth: this is the tar checkpoint format of torch < 0.4, which wasmzoo does not read: load it with torch and save it again (torch >= 1.6 writes the zip format)');
  return fail(`pth: not a PyTorch checkpoint (no zip or legacy pickle magic in the first bytes; ${u8.length} bytes)`);
}

function readZipCheckpoint(u8: Uint8Array): PthFile {
  const zip = readZip(u8, 'pth');
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) fail(`pth: expected one <archive>/data.pkl record, found ${pkls.length} (records: ${[...zip.entries.keys()].slice(0, 6).join(', ')})`);
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  let bigEndian = false;
  if (zip.has(`${prefix}byteorder`)) {
    const order = String.fromCharCode(...zip.read(`${prefix}byteorder`).subarray(0, 16));
    if (order !== 'little' && order !== 'big') fail(`pth: ${prefix}byteorder is ${JSON.stringify(order)} (expected "little" or "big")`);
    bigEndian = order === 'big';
  }
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    const [kind, type, key, , numel] = pidItems(pid, 5);
    const dtype = storageDtype(kind, type);
    if (typeof key !== 'string') return fail(`storage key must be a str, got ${typeName(key)}`);
    const n = count(numel, 'storage size');
    const record = `${prefix}data/${key}`;
    const entry = zip.entries.get(record);
    if (!entry) return fail(`storage ${JSON.stringify(key)} has no record ${record}`);
    if (entry.size !== n * DTYPE_SIZE[dtype]) fail(`storage ${JSON.stringify(key)} holds ${n} ${dtype} elements (${n * DTYPE_SIZE[dtype]} bytes) but its record has ${entry.size} bytes`);
    return sharedStorage(storages, new Storage(key, dtype, n, 0));
  };
  const where = `pth ${pkls[0]}`;
  const { value } = unpickle(zip.read(pkls[0]!), host(persistentLoad), where);
  const [tensors, container, skipped] = stateDict(value, where);
  return new PthFile('zip', tensors, container, skipped, bigEndian, (key) => zip.read(`${prefix}data/${key}`));
}

function readLegacyCheckpoint(u8: Uint8Array): PthFile {
  const noPids = host();
  let at = 0;
  const next = (h: PickleHost, what: string): PyValue => {
    const r = unpickle(u8, h, `pth (legacy) ${what}`, at);
    at = r.end;
    return r.value;
  };
  if (next(noPids, 'magic number') !== LEGACY_MAGIC) fail('pth (legacy): wrong magic number');
  const version = next(noPids, 'protocol version');
  if (version !== LEGACY_PROTOCOL_VERSION) fail(`pth (legacy): protocol version ${String(version)} (expected ${LEGACY_PROTOCOL_VERSION})`);
  const info = next(noPids, 'system info');
  const little = info instanceof PyDict ? info.map.get('little_endian') : undefined;
  if (typeof little !== 'boolean') fail('pth (legacy): system info has no little_endian flag');
  // Roots by key (their type and size, from the pids), and every storage the tensors use (roots or views).
  const roots = new Map<string, Storage>();
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    const [kind, type, key, , numel, view] = pidItems(pid, 6);
    const dtype = storageDtype(kind, type);
    if (typeof key !== 'string') return fail(`storage key must be a str, got ${typeName(key)}`);
    const root = sharedStorage(roots, new Storage(key, dtype, count(numel, 'storage size'), 0));
    if (view === null) return sharedStorage(storages, root);
    // (view_key, offset, view_size): a slice of the root storage, in elements
    if (!(view instanceof PyTuple) || view.items.length !== 3 || typeof view.items[0] !== 'string') return fail('storage view metadata must be (key, offset, size)');
    const [viewKey, off, len] = view.items;
    const o = count(off, 'view offset');
    const m = count(len, 'view size');
    if (o + m > root.numel) fail(`storage view ${JSON.stringify(viewKey)} [${o}, ${o + m}) runs past storage ${JSON.stringify(key)} of ${root.numel} elements`);
    return sharedStorage(storages, new Storage(key, dtype, m, o * DTYPE_SIZE[dtype]), viewKey as string);
  };
  const value = next(host(persistentLoad), 'state dict');
  const keys = next(noPids, 'storage keys');
  if (!(keys instanceof PyList)) return fail(`pth (legacy): storage keys must be a list, got ${typeName(keys)}`);
  const data = new Map<string, Uint8Array>();
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  for (const key of keys.items) {
    if (typeof key !== 'string') return fail(`pth (legacy): storage key must be a str, got ${typeName(key)}`);
    const root = roots.get(key);
    if (!root) return fail(`pth (legacy): storage ${JSON.stringify(key)} is listed but no tensor uses it`);
    if (data.has(key)) fail(`pth (legacy): storage ${JSON.stringify(key)} is listed twice`);
    if (at > u8.length - 8) fail(`pth (legacy): truncated before the size of storage ${JSON.stringify(key)}`);
    const n = dv.getBigUint64(at, little);
    if (n !== BigInt(root.numel)) fail(`pth (legacy): storage ${JSON.stringify(key)} has ${n} elements, its tensors say ${root.numel}`);
    const nbytes = root.numel * DTYPE_SIZE[root.dtype];
    at += 8;
    if (nbytes > u8.length - at) fail(`pth (legacy): storage ${JSON.stringify(key)} (${nbytes} bytes) runs past the end of the file`);
    data.set(key, u8.subarray(at, at + nbytes));
    at += nbytes;
  }
  for (const key of roots.keys()) if (!data.has(key)) fail(`pth (legacy): storage ${JSON.stringify(key)} is used but not in the file`);
  const [tensors, container, skipped] = stateDict(value, 'pth (legacy)');
  return new PthFile('legacy', tensors, container, skipped, !little, (key) => data.get(key)!);
}

/** The pickle host: the whitelist of globals, and the format's persistent-id loader. */
function host(persistentLoad?: (pid: PyValue) => PyValue): PickleHost {
  return { global: (module, name) => lookupGlobal(module, name), persistentLoad };
}

function lookupGlobal(module: string, name: string): PyGlobal | undefined {
  const q = `${module}.${name}`;
  if (q === 'collections.OrderedDict') return new PyGlobal(module, name, orderedDict);
  if (module === 'torch._utils') {
    if (name === '_rebuild_tensor') return new PyGlobal(module, name, (a) => rebuildTensor(a, 4, 4));
    if (name === '_rebuild_tensor_v2') return new PyGlobal(module, name, (a) => rebuildTensor(a, 6, 7));
    if (name === '_rebuild_tensor_v3') return new PyGlobal(module, name, (a) => rebuildTensor(a, 7, 8, a[6]));
    if (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state') {
      return new PyGlobal(module, name, (a) => {
        if (a.length !== (name === '_rebuild_parameter' ? 3 : 4) || !(a[0] instanceof TensorRef)) fail(`expected (tensor, requires_grad, hooks${name === '_rebuild_parameter' ? '' : ', state'})`);
        return a[0]!;
      });
    }
  }
  if (module === 'torch') {
    if (name === 'Size') {
      return new PyGlobal(module, name, (a) => {
        if (a.length !== 1 || !(a[0] instanceof PyTuple)) fail('expected one tuple');
        return a[0]!;
      });
    }
    if (Object.hasOwn(STORAGE_DTYPES, name) || Object.hasOwn(TORCH_DTYPES, name)) return new PyGlobal(module, name); // values, not callable
  }
  return undefined;
}

function orderedDict(args: readonly PyValue[]): PyValue {
  const d = new PyDict();
  if (args.length === 0) return d;
  const items = args[0];
  if (args.length !== 1 || !(items instanceof PyList || items instanceof PyTuple)) return fail('expected no arguments or a list of (key, value) pairs');
  for (const kv of items.items) {
    if (!(kv instanceof PyTuple) || kv.items.length !== 2) return fail('expected (key, value) pairs');
    d.map.set(kv.items[0]!, kv.items[1]!);
  }
  return d;
}

/**
 * _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) (and
 * v1 without the last three, v3 with a dtype before metadata): check the view against its storage.
 */
function rebuildTensor(a: readonly PyValue[], min: number, max: number, dtypeArg?: PyValue): PyValue {
  if (a.length < min || a.length > max) return fail(`expected ${min === max ? min : `${min} to ${max}`} arguments, got ${a.length}`);
  const [storage, off, size, stride] = a;
  if (!(storage instanceof Storage)) return fail(`storage must be a persistent storage, got ${typeName(storage!)}`);
  let dtype = storage.dtype;
  if (dtypeArg !== undefined) {
    if (!(dtypeArg instanceof PyGlobal) || dtypeArg.module !== 'torch' || !Object.hasOwn(TORCH_DTYPES, dtypeArg.name)) return fail(`dtype must be a torch dtype, got ${typeName(dtypeArg)}`);
    dtype = TORCH_DTYPES[dtypeArg.name]!;
  }
  const offset = count(off, 'storage offset');
  const shape = dims(size, 'size');
  const strides = dims(stride, 'stride');
  if (strides.length !== shape.length) fail(`size ${fmt(shape)} and stride ${fmt(strides)} differ in length`);
  let numel = 1;
  for (const d of shape) {
    numel *= d;
    if (numel > MAX_NUMEL) fail(`size ${fmt(shape)} has more than 2^31 elements`);
  }
  const elem = DTYPE_SIZE[dtype];
  const storageElems = Math.floor((storage.numel * DTYPE_SIZE[storage.dtype]) / elem);
  if (numel > 0) {
    // the last element a view touches: offset + sum((size - 1) * stride), each term checked before it can overflow
    let last = offset;
    for (let d = 0; d < shape.length; d++) {
      if (strides[d]! > storageElems) {
        if (shape[d]! > 1) fail(`stride ${fmt(strides)} reaches past the storage of ${storageElems} elements`);
        continue;
      }
      last += (shape[d]! - 1) * strides[d]!;
    }
    if (last >= storageElems) fail(`a view of size ${fmt(shape)}, stride ${fmt(strides)} at offset ${offset} reaches element ${last}, past the storage of ${storageElems} ${dtype} elements`);
  } else if (offset > storageElems) fail(`storage offset ${offset} is past the storage of ${storageElems} elements`);
  // A stride-0 view (an expand) can name far more elements than the file holds: copying it out would allocate
  // what no byte of the file pays for.
  if (numel > storageElems && numel > MAX_BROADCAST) fail(`a view of ${numel} elements over a storage of ${storageElems} (stride 0): at most ${MAX_BROADCAST} elements beyond what is stored`);
  return new TensorRef(storage, dtype, offset, shape, strides);
}

/** The state dict: the top-level dict when it holds a tensor, else its 'state_dict' or 'model' entry. */
function stateDict(top: PyValue, where: string): [Map<string, TensorRef>, string, string[]] {
  if (!(top instanceof PyDict)) return fail(`${where}: the checkpoint is a ${typeName(top)}, not a dict of tensors (save model.state_dict())`);
  let dict = top;
  let container = '';
  if (![...top.map.values()].some((v) => v instanceof TensorRef)) {
    const inner = (['state_dict', 'model'] as const).find((k) => top.map.get(k) instanceof PyDict);
    if (!inner) {
      const keys = [...top.map.keys()].slice(0, 8).map((k) => (typeof k === 'string' ? JSON.stringify(k) : typeName(k))).join(', ');
      return fail(`${where}: no tensors: neither a state dict nor a dict holding one under 'state_dict' or 'model' (keys: ${keys || 'none'})`);
    }
    dict = top.map.get(inner) as PyDict;
    container = inner;
  }
  const tensors = new Map<string, TensorRef>();
  const skipped: string[] = [];
  for (const [k, v] of dict.map) {
    if (typeof k === 'string' && v instanceof TensorRef) tensors.set(k, v);
    else skipped.push(typeof k === 'string' ? k : `<${typeName(k)} key>`);
  }
  return [tensors, container, skipped];
}

function pidItems(pid: PyValue, n: number): PyValue[] {
  if (!(pid instanceof PyTuple) || pid.items.length !== n) return fail(`persistent id must be a tuple of ${n} items, got ${pid instanceof PyTuple ? `${pid.items.length} items` : `a ${typeName(pid)}`}`);
  return [...pid.items];
}

function storageDtype(kind: PyValue | undefined, type: PyValue | undefined): Dtype {
  if (kind !== 'storage') return fail(`persistent id of kind ${kind === undefined ? 'none' : typeName(kind)} (expected 'storage')`);
  if (!(type instanceof PyGlobal) || type.module !== 'torch' || !Object.hasOwn(STORAGE_DTYPES, type.name)) {
    return fail(`storage type must be one of torch.${Object.keys(STORAGE_DTYPES).join('/')}, got ${typeName(type ?? null)}`);
  }
  return STORAGE_DTYPES[type.name]!;
}

/** One Storage object per key: the first made wins, and a later use must agree with it. */
function sharedStorage(map: Map<string, Storage>, s: Storage, key = s.key): Storage {
  const old = map.get(key);
  if (!old) {
    map.set(key, s);
    return s;
  }
  if (old.dtype !== s.dtype || old.numel !== s.numel || old.byteOffset !== s.byteOffset) {
    fail(`storage ${JSON.stringify(key)} is described twice, differently (${old.dtype} x ${old.numel} vs ${s.dtype} x ${s.numel})`);
  }
  return old;
}

/** A non-negative int that fits a safe integer (a size, offset or count). */
function count(v: PyValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    return fail(`${what} must be a non-negative int, got ${v === undefined ? 'nothing' : v instanceof PyFloat ? `float ${v.value}` : typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeName(v)}`);
  }
  return v;
}

function dims(v: PyValue | undefined, what: string): number[] {
  if (!(v instanceof PyTuple)) return fail(`${what} must be a tuple, got ${v === undefined ? 'nothing' : typeName(v)}`);
  if (v.items.length > MAX_NDIM) fail(`${what} has ${v.items.length} dims (at most ${MAX_NDIM})`);
  return v.items.map((d, i) => count(d, `${what}[${i}]`));
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

function fmt(xs: readonly number[]): string {
  return `(${xs.join(', ')}${xs.length === 1 ? ',' : ''})`;
}

function fail(msg: string): never {
  throw new WasmzooError('E_PICKLE', msg);
}
