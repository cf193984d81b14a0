/**
 * Mutation fuzzing of every reader of outside bytes: safetensors (read, convert, and load into LeNet-5),
 * IDX, gzip (readIdxGz), PyTorch checkpoints (readPth: zip, pickle, storages; then load into LeNet-5). Shared by the short runs in `npm test` (test/io/fuzz.test.ts, over src/) and the
 * long run `npm run fuzz` (tools/fuzz.mjs, over dist/), so both exercise the same mutations.
 *
 * Every input is derived from (seed, index) alone, so any input can be rebuilt from its index (the long run
 * does that for a hang it had to kill). Outcomes per input:
 *   - accepted: the reader returned something that satisfies the format's invariants;
 *   - refused:  it threw a WasmzooError (for safetensors, `loadRefused` counts the files that parsed and
 *               were then refused by loadStateDict: the ones where a half-done load could change the model);
 *   - crash:    it threw anything else, or returned something inconsistent;
 *   - changed:  (safetensors) a load into the model threw, yet the model's stateDict differs afterwards;
 *   - slow:     it took longer than HANG_MS (counted as a hang).
 * Nothing here is Node-only except node:zlib for making gzip seeds.
 */
import { gzipSync } from 'node:zlib';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DTYPE_SIZE as PTH_SIZE, contiguousStride, writePth, zipStored } from '../test/io/pth-writer.mjs';

export const HANG_MS = 2000;

// ---- deterministic randomness -------------------------------------------------------------------------

/** mulberry32 seeded by a 32-bit mix of (seed, index). */
export function rngFor(seed, index) {
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const int = (r, n) => Math.floor(r() * n);
const pick = (r, xs) => xs[int(r, xs.length)];

// ---- generic byte mutations -----------------------------------------------------------------------------

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x39, 0x3a, 0x5b, 0x5c, 0x5d, 0x65, 0x7b, 0x7d, 0xc0, 0xed, 0xf4];
const INTERESTING_U32 = [0, 1, 2, 0x7f, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One random edit of `b` (a copy when the length changes, else in place), positions biased into [lo, hi). */
function byteMutation(b, r, lo, hi) {
  const pos = () => (hi > lo && r() < 0.85 ? lo + int(r, hi - lo) : int(r, Math.max(1, b.length)));
  switch (int(r, 10)) {
    case 0: if (b.length) b[pos() % b.length] ^= 1 << int(r, 8); return b;
    case 1: if (b.length) b[pos() % b.length] = int(r, 256); return b;
    case 2: if (b.length) b[pos() % b.length] = pick(r, INTERESTING_BYTES); return b;
    case 3: {
      if (b.length < 4) return b;
      const at = Math.min(pos(), b.length - 4);
      new DataView(b.buffer, b.byteOffset).setUint32(at, pick(r, INTERESTING_U32), r() < 0.5);
      return b;
    }
    case 4: { const at = Math.min(pos(), b.length); const n = 1 + int(r, 16); return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n))); }
    case 5: { const at = Math.min(pos(), b.length); const ins = Uint8Array.from({ length: 1 + int(r, 8) }, () => (r() < 0.5 ? pick(r, INTERESTING_BYTES) : int(r, 256))); return concat(b.subarray(0, at), ins, b.subarray(at)); }
    case 6: { const at = Math.min(pos(), b.length); const from = int(r, Math.max(1, b.length)); return concat(b.subarray(0, at), b.subarray(from, from + 1 + int(r, 32)), b.subarray(at)); }
    case 7: return b.slice(0, r() < 0.5 ? pos() : int(r, b.length + 1));
    case 8: return concat(b, Uint8Array.from({ length: 1 + int(r, 64) }, () => int(r, 256)));
    default: { // repeat one byte many times (nesting, long numbers)
      const at = Math.min(pos(), b.length);
      return concat(b.subarray(0, at), new Uint8Array(1 + int(r, 300)).fill(pick(r, INTERESTING_BYTES)), b.subarray(at));
    }
  }
}

function mutateBytes(seed, r, lo, hi, rounds) {
  let b = seed.slice();
  for (let i = 0; i < rounds; i++) b = byteMutation(b, r, Math.min(lo, b.length), Math.min(hi, b.length));
  return b;
}

// ---- safetensors ----------------------------------------------------------------------------------------

const enc = new TextEncoder();
const dec = new TextDecoder();
const DTYPE_NAMES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];
const DTYPE_SIZE = { BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8 };

function headerLength(b) {
  return b.length >= 8 ? Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true) & 0xffffffffn) : 0;
}

/** Token-level edits of the JSON header, then a consistent (usually) length field: semantic mutations. */
function mutateHeaderJson(b, r) {
  const n = Math.min(headerLength(b), b.length - 8);
  let text = dec.decode(b.subarray(8, 8 + n));
  const data = b.subarray(8 + n);
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const tokens = [...text.matchAll(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
    if (!tokens.length) break;
    const t = pick(r, tokens);
    let rep;
    if (t[0].startsWith('"')) {
      const names = [...text.matchAll(/"([^"\\]*)":\{"dtype"/g)].map((m) => m[1]);
      rep = JSON.stringify(pick(r, [...DTYPE_NAMES, 'dtype', 'shape', 'data_offsets', '__metadata__', '', 'x', '__proto__', ...names, `${pick(r, names.length ? names : ['w'])}.x`]));
    } else {
      const v = Number(t[0]);
      rep = String(pick(r, [0, 1, 2, -1, v + 1, v - 1, v * 2, Math.floor(v / 2), v + 4, 2 ** 31, 2 ** 32, 2 ** 53, '18446744073709551615', '1e3', '1.5', '-0', '00', `${v}${v}`]));
    }
    text = text.slice(0, t.index) + rep + text.slice(t.index + t[0].length);
    if (r() < 0.1) {
      // duplicate or drop a whole entry
      const entries = [...text.matchAll(/"(?:[^"\\]|\\.)*":\{[^{}]*\}/g)];
      if (entries.length) {
        const e = pick(r, entries);
        text = r() < 0.5
          ? text.slice(0, e.index) + e[0] + ',' + text.slice(e.index)
          : text.slice(0, e.index) + text.slice(e.index + e[0].length).replace(/^,/, '');
      }
    }
  }
  const h = enc.encode(text);
  const out = concat(new Uint8Array(8), h, r() < 0.2 ? data.subarray(0, int(r, data.length + 1)) : data);
  new DataView(out.buffer).setBigUint64(0, BigInt(r() < 0.9 ? h.length : n), true);
  return out;
}

function mutateSafetensors(seed, r) {
  if (r() < 0.35) return mutateHeaderJson(seed, r);
  const n = headerLength(seed);
  return mutateBytes(seed, r, 0, Math.min(seed.length, 8 + n), 1 + int(r, 3));
}

/** Every tensor of a parsed file is consistent, and every conversion either works or refuses cleanly. */
function checkSafetensors(f, input, api) {
  let at = 0;
  for (const t of f.entries()) {
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (t.dataOffsets[0] !== at || t.bytes.length !== t.dataOffsets[1] - t.dataOffsets[0]) return `${t.name}: offsets`;
    if (t.bytes.length !== numel * DTYPE_SIZE[t.dtype]) return `${t.name}: size`;
    at = t.dataOffsets[1];
    for (const conv of ['toFloat32', 'toNumbers', 'toBigInt64']) {
      try {
        if (f[conv](t).length !== numel) return `${t.name}: ${conv} length`;
      } catch (e) {
        if (!(e instanceof api.WasmzooError)) throw e;
      }
    }
  }
  if (f.dataStart + at !== input.length) return 'tensors do not end at the end of the file';
  return undefined;
}

function sameState(a, b) {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const x = a[k].data, y = b[k]?.data;
    if (!y || x.length !== y.length) return false;
    const xu = new Uint32Array(x.buffer, x.byteOffset, x.length), yu = new Uint32Array(y.buffer, y.byteOffset, y.length);
    for (let i = 0; i < xu.length; i++) if (xu[i] !== yu[i]) return false;
  }
  return true;
}

/** Seeds: LeNet-5 weights as shipped (F32) and re-encoded (F16/BF16/F64, one BOOL, with metadata), small multi-dtype files. */
function safetensorsSeeds(api) {
  const file = api.readSafetensors(api.lenetBytes);
  const sd = Object.fromEntries(file.names.map((n) => [n, { shape: [...file.get(n).shape], data: file.toFloat32(n) }]));
  const as = (dtypes) => api.writeSafetensors(Object.fromEntries(Object.entries(sd).map(([k, t], i) => {
    const dtype = dtypes[i % dtypes.length];
    return [k, dtype === 'I64' ? { shape: t.shape, data: BigInt64Array.from(t.data, (v) => BigInt(Math.round(v * 1000))) } : { ...t, dtype }];
  })), { model: 'lenet5' });
  const withBool = { ...sd, 'fc3.bias': { dtype: 'BOOL', shape: [10], data: new Uint8Array(10).fill(1) } };
  const small = {};
  DTYPE_NAMES.forEach((d, i) => {
    const shape = [i % 3, 2].slice(0, 1 + (i % 2));
    small[`t${i}`] = { dtype: d, shape, bytes: new Uint8Array(shape.reduce((a, x) => a * x, 1) * DTYPE_SIZE[d]).map((_, j) => (j * 37 + i) & (d === 'BOOL' ? 1 : 255)) };
  });
  return [api.lenetBytes, as(['F16']), as(['BF16', 'F64']), as(['F32', 'I64', 'F16']), api.writeSafetensors(withBool), api.writeSafetensors(small, { a: 'b' })];
}

// ---- IDX ------------------------------------------------------------------------------------------------

const IDX_TYPES = [[0x08, 1], [0x09, 1], [0x0b, 2], [0x0c, 4], [0x0d, 4], [0x0e, 8]];

function idxFile(type, dims, r) {
  const size = IDX_TYPES.find(([t]) => t === type)[1];
  const n = dims.reduce((a, d) => a * d, 1);
  const b = new Uint8Array(4 + 4 * dims.length + n * size);
  b[2] = type;
  b[3] = dims.length;
  const dv = new DataView(b.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  for (let i = 4 + 4 * dims.length; i < b.length; i++) b[i] = int(r, 256);
  return b;
}

function idxSeeds() {
  const r = rngFor(1, 0);
  const seeds = [];
  for (const [t] of IDX_TYPES) for (const dims of [[5], [3, 4], [2, 3, 4], [0, 7], []]) seeds.push(idxFile(t, dims, r));
  seeds.push(idxFile(0x08, [4, 28, 28], r)); // an MNIST-like image file
  return seeds;
}

function mutateIdx(seed, r) {
  if (r() < 0.3) { // structural: type, ndim or one dimension
    const b = seed.slice();
    const dv = new DataView(b.buffer);
    const ndim = b[3];
    switch (int(r, 3)) {
      case 0: b[2] = r() < 0.8 ? pick(r, IDX_TYPES)[0] : int(r, 256); break;
      case 1: b[3] = pick(r, [0, 1, ndim - 1, ndim + 1, 255, int(r, 256)]) & 255; break;
      default: if (ndim && 8 + 4 * ndim <= b.length) { const i = int(r, ndim); const d = dv.getUint32(4 + 4 * i, false); dv.setUint32(4 + 4 * i, pick(r, [0, 1, d + 1, d - 1 >>> 0, d * 2, 0xffffffff, 0x80000000, 65536]) >>> 0, false); }
    }
    return r() < 0.3 ? byteMutation(b, r, 0, b.length) : b;
  }
  const b3 = seed[3] ?? 0;
  return mutateBytes(seed, r, 0, Math.min(seed.length, 4 + 4 * b3), 1 + int(r, 3));
}

function checkIdx(a) {
  const n = a.dims.reduce((x, d) => x * d, 1);
  return a.data.length === n ? undefined : `dims [${a.dims}] but ${a.data.length} values`;
}

// ---- gzip -----------------------------------------------------------------------------------------------

function gzipSeeds() {
  const raw = idxSeeds();
  const seeds = raw.filter((_, i) => i % 3 === 0).map((b) => new Uint8Array(gzipSync(b)));
  // header fields a decoder must skip: FEXTRA, FNAME, FCOMMENT, FHCRC (gzipSync writes none)
  const g = new Uint8Array(gzipSync(raw[1]));
  const withName = concat(g.subarray(0, 3), Uint8Array.of(g[3] | 0x08), g.subarray(4, 10), enc.encode('train-images\0'), g.subarray(10));
  seeds.push(withName, concat(new Uint8Array(gzipSync(raw[0])), new Uint8Array(gzipSync(raw[0])))); // two members
  return seeds;
}

function mutateGzip(seed, r) {
  // header (10 bytes), the deflate stream, and the CRC32/ISIZE trailer (last 8) all get hit
  const zone = int(r, 3);
  const [lo, hi] = zone === 0 ? [0, 10] : zone === 1 ? [10, seed.length - 8] : [seed.length - 8, seed.length];
  return mutateBytes(seed, r, Math.max(0, lo), Math.max(0, hi), 1 + int(r, 2));
}

// ---- ONNX -----------------------------------------------------------------------------------------------

/**
 * Protobuf-aware edits: varints (lengths, tags, dims) set to interesting values, besides byte edits, so
 * lengths that run past their message and huge dims are reached, not only garbage.
 */
function mutateOnnx(seed, r) {
  if (r() < 0.5 || seed.length < 4) return mutateBytes(seed, r, 0, seed.length, 1 + int(r, 3));
  const b = Array.from(seed);
  for (let k = 1 + int(r, 2); k > 0; k--) {
    const at = int(r, b.length);
    let end = at;
    while (end < b.length && b[end] & 0x80 && end - at < 9) end++;
    const v = pick(r, [0, 1, 2, 7, 8, 0x7f, 0x80, 0x3fff, 0xffffffff, 2 ** 31, 2 ** 53, int(r, 1 << 20)]);
    const enc = [];
    let x = v;
    do { let byte = x % 128; x = Math.floor(x / 128); if (x > 0) byte |= 0x80; enc.push(byte); } while (x > 0);
    b.splice(at, end - at + 1, ...enc);
  }
  return Uint8Array.from(b);
}

/** An inspectOnnx report that contradicts itself, or undefined. */
function checkOnnxReport(r) {
  if (!r || typeof r.nodes !== 'number' || !Array.isArray(r.inputs) || !Array.isArray(r.unsupported)) return 'malformed report';
  if (!Number.isFinite(r.parameters) || r.parameters < 0) return `parameters ${r.parameters}`;
  const ops = Object.values(r.ops).reduce((a, b) => a + b, 0);
  if (ops !== r.nodes) return `op counts ${ops} != nodes ${r.nodes}`;
  return undefined;
}

/** Seed models for the ONNX reader: small real models of the conformance suite (not in the repository). */
export function onnxSeeds(root = '/usr/share/libonnx-testdata/data') {
  const pick = ['node/test_conv_with_strides_padding', 'node/test_lstm_defaults', 'node/test_reshape_reordered_all_dims', 'node/test_slice',
    'node/test_gemm_default_no_bias', 'pytorch-converted/test_Conv2d', 'simple/test_single_relu_model', 'node/test_constant', 'node/test_resize_downsample_scales_linear'];
  return pick.map((c) => join(root, c, 'model.onnx')).filter((f) => existsSync(f)).map((f) => new Uint8Array(readFileSync(f)));
}

// ---- PyTorch checkpoints --------------------------------------------------------------------------------

/** Seed checkpoints: the files torch wrote (test/fixtures/pth, committed; tools/goldens/pth_fixtures.py). */
export function pthSeeds(root = fileURLToPath(new URL('../test/fixtures/pth/', import.meta.url))) {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((f) => f.endsWith('.pth')).sort().map((f) => new Uint8Array(readFileSync(join(root, f))));
}

/** LeNet-5's weights as torch-layout checkpoints: a storage per tensor, and one shared storage of transposed views. */
function lenetPthSeeds(api) {
  const file = api.readSafetensors(api.lenetBytes);
  const sd = file.names.map((n) => [n, { shape: [...file.get(n).shape], data: file.toFloat32(n) }]);
  const own = writePth(sd.map(([k, t]) => [k, { storage: { dtype: 'F32', bytes: new Uint8Array(t.data.slice().buffer) }, shape: t.shape }]), { archive: 'lenet5' });
  const all = new Float32Array(sd.reduce((n, [, t]) => n + t.data.length, 0));
  const shared = { dtype: 'F32', bytes: new Uint8Array(all.buffer) };
  let at = 0;
  const views = sd.map(([k, t]) => {
    const spec = { storage: shared, shape: t.shape, offset: at, stride: contiguousStride(t.shape) };
    if (t.shape.length === 2) {
      const [rows, cols] = t.shape;
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) all[at + j * rows + i] = t.data[i * cols + j];
      spec.stride = [1, rows];
    } else all.set(t.data, at);
    at += t.data.length;
    return [k, spec];
  });
  return [own, writePth(views)];
}

/** The stored records of a well-formed zip (a seed): [name, bytes][], or undefined. */
function unzipStored(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = b.length - 22;
  if (eocd < 0 || dv.getUint32(eocd, true) !== 0x06054b50) return undefined;
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out = [];
  for (let i = 0; i < count; i++) {
    const nameLen = dv.getUint16(p + 28, true);
    const size = dv.getUint32(p + 24, true);
    const local = dv.getUint32(p + 42, true);
    const name = dec.decode(b.subarray(p + 46, p + 46 + nameLen));
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    out.push([name, b.subarray(start, start + size)]);
    p += 46 + nameLen + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
  return out;
}

const byteChars = new TextDecoder('latin1');
const PICKLE_GLOBALS = ['os\nsystem', 'builtins\neval', 'torch\nHalfStorage', 'torch\nLongStorage', 'torch\nBoolStorage', 'torch\nDoubleStorage',
  'torch\nUntypedStorage', 'torch\nComplexFloatStorage', 'collections\nOrderedDict', 'torch._utils\n_rebuild_parameter', 'torch._utils\n_rebuild_tensor',
  'torch._utils\n_rebuild_tensor_v3', 'torch\nSize', 'torch\nfloat16', 'torch\nbfloat16'];
const PICKLE_OPS = [0x28, 0x29, 0x5d, 0x7d, 0x74, 0x85, 0x86, 0x87, 0x73, 0x75, 0x61, 0x65, 0x52, 0x62, 0x51, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x2e, 0x94, 0x81];

/** Opcode-aware edits of a pickle: ints (sizes, strides, offsets, memo indexes), globals, inserted opcodes. */
function mutatePickle(pkl, r) {
  let b = pkl.slice();
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const choice = int(r, 5);
    if (choice === 0) {
      // an int argument or memo index: BININT1 / BINGET / BINPUT get an interesting byte, or BININT1 becomes BININT
      const at = [...b.keys()].filter((i) => b[i] === 0x4b || b[i] === 0x68 || b[i] === 0x71);
      if (!at.length) continue;
      const i = pick(r, at);
      if (b[i] === 0x4b && r() < 0.4) {
        const v = pick(r, INTERESTING_U32);
        b = concat(b.subarray(0, i), Uint8Array.of(0x4a, v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24), b.subarray(i + 2));
      } else if (i + 1 < b.length) b[i + 1] = pick(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x7f, 0xff, int(r, 256)]);
    } else if (choice === 1) {
      // swap a GLOBAL's names
      const text = byteChars.decode(b); // one char per byte: string offsets are byte offsets
      const globals = [...text.matchAll(/c([A-Za-z_.]+\n[A-Za-z_0-9]+\n)/g)];
      if (!globals.length) continue;
      const g = pick(r, globals);
      const from = g.index + 1;
      b = concat(b.subarray(0, from), enc.encode(`${pick(r, PICKLE_GLOBALS)}\n`), b.subarray(from + g[1].length));
    } else if (choice === 2) {
      const at = int(r, b.length + 1);
      b = concat(b.subarray(0, at), Uint8Array.of(pick(r, PICKLE_OPS)), b.subarray(at));
    } else if (choice === 3) {
      // drop a run of bytes (whole opcodes or parts of them)
      const at = int(r, b.length);
      b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 12))));
    } else b = byteMutation(b, r, 0, b.length);
  }
  return b;
}

function mutatePth(seed, r) {
  const records = r() < 0.7 ? unzipStored(seed) : undefined;
  if (!records) return mutateBytes(seed, r, 0, seed.length, 1 + int(r, 3));
  const recs = records.map(([n, d]) => [n, d]);
  const choice = r();
  if (choice < 0.7) {
    const i = recs.findIndex(([n]) => n.endsWith('/data.pkl'));
    if (i >= 0) recs[i] = [recs[i][0], mutatePickle(recs[i][1], r)];
  } else if (choice < 0.9) {
    // a storage (or version/byteorder) record: shorter, longer, or other bytes
    const i = int(r, recs.length);
    const d = recs[i][1];
    recs[i] = [recs[i][0], r() < 0.4 ? d.slice(0, int(r, d.length + 1)) : r() < 0.5 ? concat(d, new Uint8Array(1 + int(r, 16))) : byteMutation(d.slice(), r, 0, d.length)];
  } else if (choice < 0.95) {
    const i = int(r, recs.length);
    if (r() < 0.5) recs.splice(i, 1);
    else recs.push([pick(r, [recs[i][0], `${recs[0][0].split('/')[0]}/byteorder`, `${recs[0][0].split('/')[0]}/data/99`, 'other/data.pkl']), pick(r, [recs[i][1], enc.encode('big'), enc.encode('little')])]);
  } else {
    return mutateBytes(zipStored(recs), r, 0, seed.length, 1 + int(r, 2)); // zip structure itself, CRCs then wrong
  }
  return zipStored(recs);
}

/** Every tensor of a parsed checkpoint is consistent; every copy-out either works or refuses cleanly. */
function checkPth(f, api) {
  for (const name of f.names) {
    const t = f.get(name);
    if (t.stride.length !== t.shape.length) return `${name}: stride rank`;
    const numel = t.shape.reduce((a, d) => a * d, 1);
    try {
      if (f.bytes(name).length !== numel * PTH_SIZE[t.dtype]) return `${name}: bytes length`;
      if (t.dtype !== 'BOOL' && f.toFloat32(name).length !== numel) return `${name}: toFloat32 length`;
    } catch (e) {
      if (!(e instanceof api.WasmzooError)) throw e;
    }
  }
  return undefined;
}

// ---- the readers ----------------------------------------------------------------------------------------

/**
 * The fuzzed readers over an API (src/ in tests, dist/ in the long run): { readSafetensors, writeSafetensors,
 * readIdx, readIdxGz, WasmzooError, LeNet5, lenetBytes }, and, when given, { inspectOnnx, onnxSeeds } for the
 * ONNX reader and { readPth, pthSeeds } for PyTorch checkpoints.
 */
export function makeReaders(api) {
  /** The reader's result, or REFUSED for a WasmzooError (anything else propagates: a crash). */
  const REFUSED = Symbol('refused');
  const attempt = async (fn) => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof api.WasmzooError) return REFUSED;
      throw e;
    }
  };
  const idxOutcome = async (read) => {
    const a = await attempt(read);
    if (a === REFUSED) return 'refused';
    const bad = checkIdx(a);
    return bad ? `invalid: ${bad}` : 'accepted';
  };
  let model;
  let state;
  let pthModel;
  let pthState;
  return {
    safetensors: {
      seeds: safetensorsSeeds(api),
      mutate: mutateSafetensors,
      async run(input) {
        model ??= new api.LeNet5();
        state ??= model.stateDict();
        const f = await attempt(() => api.readSafetensors(input));
        if (f === REFUSED) return 'refused';
        const bad = checkSafetensors(f, input, api);
        if (bad) return `invalid: ${bad}`;
        if ((await attempt(() => model.loadStateDict(input))) === REFUSED) return sameState(model.stateDict(), state) ? 'refused-load' : 'changed';
        state = model.stateDict();
        return 'accepted';
      },
    },
    idx: { seeds: idxSeeds(), mutate: mutateIdx, run: (input) => idxOutcome(() => api.readIdx(input)) },
    // read (zip, pickle, every tensor's copy-out and conversion), then load into LeNet-5: a failed load changes nothing
    ...(api.readPth ? {
      pth: {
        seeds: [...(api.pthSeeds ?? []), ...lenetPthSeeds(api)],
        mutate: mutatePth,
        async run(input) {
          pthModel ??= new api.LeNet5();
          pthState ??= pthModel.stateDict();
          const f = await attempt(() => api.readPth(input));
          if (f === REFUSED) return 'refused';
          const bad = checkPth(f, api);
          if (bad) return `invalid: ${bad}`;
          if ((await attempt(() => pthModel.loadStateDict(input))) === REFUSED) return sameState(pthModel.stateDict(), pthState) ? 'refused-load' : 'changed';
          pthState = pthModel.stateDict();
          return 'accepted';
        },
      },
    } : {}),
    gzip: { seeds: gzipSeeds(), mutate: mutateGzip, run: (input) => idxOutcome(() => api.readIdxGz(input, { maxBytes: 1 << 24 })) },
    // decode, check every node against the op table and fold the constant subgraphs (wasmzoo/onnx's
    // inspectOnnx, the work loadOnnx does before running): seeds are real models (api.onnxSeeds)
    ...(api.inspectOnnx && api.onnxSeeds?.length ? {
      onnx: {
        seeds: api.onnxSeeds,
        mutate: mutateOnnx,
        async run(input) {
          const rep = await attempt(() => api.inspectOnnx(input));
          if (rep === REFUSED) return 'refused';
          const bad = checkOnnxReport(rep);
          return bad ? `invalid: ${bad}` : 'accepted';
        },
      },
    } : {}),
  };
}

/** Input `index` of a reader's run with `seed`: a seed file, mutated (index 0..seeds-1: the seeds as they are). */
export function inputFor(reader, seed, index) {
  if (index < reader.seeds.length) return reader.seeds[index].slice();
  const r = rngFor(seed, index);
  return reader.mutate(pick(r, reader.seeds), r);
}

/**
 * Run inputs [from, to) of a reader. `onInput(index)` is called before each (the long run's watchdog reads
 * it); `onFinding(kind, index, input, detail)` for every crash, invalid result, changed model or slow input;
 * `onStats(copy)` every 5000 inputs (what survives a worker the watchdog has to kill).
 * Returns the counts.
 */
export async function fuzzRange(reader, { seed, from = 0, to, onInput, onFinding, onStats, now = () => performance.now() }) {
  const stats = { inputs: 0, accepted: 0, refused: 0, loadRefused: 0, crashes: 0, invalid: 0, changed: 0, hangs: 0, maxMs: 0 };
  for (let i = from; i < to; i++) {
    onInput?.(i);
    if (onStats && (i - from) % 5000 === 0) onStats({ ...stats });
    const input = inputFor(reader, seed, i);
    const t0 = now();
    let outcome;
    try {
      outcome = await reader.run(input);
    } catch (e) {
      outcome = 'crash';
      stats.crashes++;
      onFinding?.('crash', i, input, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
    const ms = now() - t0;
    stats.inputs++;
    stats.maxMs = Math.max(stats.maxMs, ms);
    if (ms > HANG_MS) {
      stats.hangs++;
      onFinding?.('hang', i, input, `${ms.toFixed(0)} ms`);
    }
    if (outcome === 'accepted') stats.accepted++;
    else if (outcome === 'refused') stats.refused++;
    else if (outcome === 'refused-load') {
      stats.refused++;
      stats.loadRefused++;
    }
    else if (outcome === 'changed') {
      stats.changed++;
      onFinding?.('changed', i, input, 'a failed load changed the model');
    } else if (typeof outcome === 'string' && outcome.startsWith('invalid')) {
      stats.invalid++;
      onFinding?.('invalid', i, input, outcome);
    }
  }
  return stats;
}
