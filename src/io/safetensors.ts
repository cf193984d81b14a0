/**
 * Safetensors reader and writer, checked like the reference (huggingface/safetensors, `tensor.rs`).
 *
 * Layout: bytes [0, 8) a little-endian u64 N; [8, 8 + N) a UTF-8 JSON object (the header); the rest is the
 * data buffer. The header maps tensor names to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative
 * to the data buffer) plus an optional `__metadata__` object of string -> string. Elements are little-endian,
 * C order. Offsets need not be aligned: the reader never makes a multi-byte typed view of the file.
 *
 * Platform neutral: Uint8Array, DataView, TextDecoder/TextEncoder only. Callers: src/io/weights.ts (binding
 * by state_dict key), src/nn/module.ts (saving).
 *
 * Every malformed input throws WasmzooError('E_SAFETENSORS') whose message names the tensor or header part
 * at fault; conversions a dtype cannot support throw 'E_DTYPE'. No other exception escapes the reader.
 */
import { WasmzooError } from '../errors.js';
import {
  DTYPE_SIZE,
  HOST_LITTLE_ENDIAN,
  bf16BitsToF32Bits,
  bigToF32,
  dtypeRank,
  f16ToF32BitsTable,
  f8e4m3ToF32,
  f8e5m2ToF32,
  isDtype,
  isFloatDtype,
  isIntegerDtype,
  f32ToBf16,
  f32ToF16,
  type Dtype,
} from './dtype.js';

export { DTYPES, DTYPE_SIZE, type Dtype } from './dtype.js';

/** The reference's cap on the header length N (100 MB): larger values are refused before reading. */
export const MAX_HEADER_SIZE = 100_000_000;

/**
 * Deepest JSON nesting a header may have (the reference's serde_json refuses deeper input). A valid header
 * nests 3 deep; the limit is checked on the raw bytes before decoding or JSON.parse, so a 100 MB header of
 * `[` is refused after 129 bytes instead of seconds of parsing and gigabytes of arrays.
 */
export const MAX_HEADER_DEPTH = 128;

const METADATA_KEY = '__metadata__';
const U64_MAX = (1n << 64n) - 1n;

/** One tensor of a parsed file. `bytes` is a view into the caller's buffer (no copy; may be unaligned). */
export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Raw little-endian element bytes: a view of the file, `numel * DTYPE_SIZE[dtype]` long. */
  readonly bytes: Uint8Array;
  /** [begin, end) relative to the data buffer, as in the header. */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed, fully validated safetensors file. Made by {@link readSafetensors}. */
export class SafetensorsFile {
  /** `__metadata__` (empty when absent); a frozen object without prototype, so any key is safe. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor names in data-buffer order (by data_offsets), as the reference's `offset_keys`. */
  readonly names: readonly string[];
  /** Header length N as stored (includes any trailing space padding). */
  readonly headerLength: number;
  /** Byte offset of the data buffer in the file: 8 + N. */
  readonly dataStart: number;
  readonly #entries: ReadonlyMap<string, SafetensorsTensor>;

  /** @internal use {@link readSafetensors} */
  constructor(
    metadata: Record<string, string>,
    entries: ReadonlyMap<string, SafetensorsTensor>,
    names: string[],
    headerLength: number,
  ) {
    this.metadata = Object.freeze(metadata);
    this.#entries = entries;
    this.names = Object.freeze(names);
    this.headerLength = headerLength;
    this.dataStart = 8 + headerLength;
  }

  /** Number of tensors. */
  get size(): number {
    return this.#entries.size;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The tensor called `name`; throws E_ARGUMENT for a name the file does not hold. */
  get(name: string): SafetensorsTensor {
    const t = this.#entries.get(name);
    if (!t) {
      const some = this.names.slice(0, 8).map(quote).join(', ');
      throw new WasmzooError(
        'E_ARGUMENT',
        `safetensors: no tensor named ${quote(name)} (the file holds ${this.names.length}${this.names.length ? `: ${some}${this.names.length > 8 ? ', ...' : ''}` : ''})`,
      );
    }
    return t;
  }

  /** All tensors in data-buffer order. */
  entries(): SafetensorsTensor[] {
    return this.names.map((n) => this.#entries.get(n)!);
  }

  /** {@link tensorToFloat32} of a tensor of this file, by name or entry. */
  toFloat32(t: string | SafetensorsTensor): Float32Array {
    return tensorToFloat32(typeof t === 'string' ? this.get(t) : t);
  }

  /** {@link tensorToNumbers} of a tensor of this file, by name or entry. */
  toNumbers(t: string | SafetensorsTensor): Float64Array {
    return tensorToNumbers(typeof t === 'string' ? this.get(t) : t);
  }

  /** {@link tensorToBigInt64} of a tensor of this file, by name or entry. */
  toBigInt64(t: string | SafetensorsTensor): BigInt64Array {
    return tensorToBigInt64(typeof t === 'string' ? this.get(t) : t);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reader

/**
 * Parse and validate a safetensors file. Nothing is copied: tensors are views of `bytes`.
 *
 * Checks, in the reference's order: at least 8 bytes; N <= 100_000_000 ({@link MAX_HEADER_SIZE}, refused
 * before anything is allocated); 8 + N <= file length; JSON nesting at most {@link MAX_HEADER_DEPTH} deep
 * (scanned on the bytes before anything is decoded or parsed); the header is valid UTF-8 (a BOM is not skipped) and
 * valid JSON (leading/trailing JSON whitespace, e.g. the writer's space padding, is fine) of an object;
 * no duplicate key at any level (JSON.parse would silently keep the last); every number literal is a plain
 * non-negative integer (the reference's usize: no sign, fraction or exponent) and a safe integer;
 * `__metadata__`, when present, an object of string -> string; every other entry an object with exactly
 * `dtype` (a reference name), `shape` (array of integers) and `data_offsets` ([begin, end], begin <= end);
 * shape product x dtype size == end - begin, in u64 arithmetic with overflow refused like the reference;
 * sorted by offsets the tensors tile the data buffer: the first begins at 0, each begins where the previous
 * ended (no hole, no overlap) and the last ends at the file's end. Strings (names, metadata) must be well
 * formed Unicode (no lone surrogate escapes, which the reference's JSON parser refuses).
 *
 * Differences from the reference, all stricter: unknown keys in an entry are refused (the reference ignores
 * them); integers above 2^53 - 1 are refused (no JS file can hold such offsets); `__metadata__: null` is
 * refused (the reference reads it as absent).
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  let u8: Uint8Array;
  // NOTE: a plain Uint8Array view even of a Node Buffer (a subclass whose slice() is a view, not a copy:
  // toFloat32's `b.slice().buffer` would then be the whole pooled ArrayBuffer).
  if (bytes instanceof Uint8Array) u8 = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  else if (bytes instanceof ArrayBuffer) u8 = new Uint8Array(bytes);
  else throw new WasmzooError('E_ARGUMENT', `readSafetensors: expected a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  const fileLen = u8.length;
  if (fileLen < 8) fail(`file is ${fileLen} bytes, shorter than the 8-byte header length field`);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) {
    fail(`header length ${n64} exceeds the ${MAX_HEADER_SIZE}-byte limit (file is ${fileLen} bytes)`);
  }
  const n = Number(n64);
  if (n > fileLen - 8) fail(`header length ${n} exceeds the file size ${fileLen} minus the 8-byte length field`);

  checkDepth(u8, 8, 8 + n);
  const text = decodeHeader(u8.subarray(8, 8 + n));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header (${n} bytes) is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(`header must be a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  scanHeader(text);

  const dataStart = 8 + n;
  const bufferLen = fileLen - dataStart;
  const metadata: Record<string, string> = Object.create(null);
  type Pending = { name: string; dtype: Dtype; shape: number[]; begin: number; end: number };
  const pending: Pending[] = [];

  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        fail(`__metadata__ must be an object of string -> string, got ${describeJson(value)}`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__[${quote(k)}] must be a string, got ${describeJson(v)}`);
        if (!wellFormed(k) || !wellFormed(v)) fail(`__metadata__[${quote(k)}] holds a lone UTF-16 surrogate`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor ${quote(name)}`;
    if (!wellFormed(name)) fail(`${where}: name holds a lone UTF-16 surrogate`);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      fail(`${where}: entry must be an object {dtype, shape, data_offsets}, got ${describeJson(value)}`);
    }
    const entry = value as Record<string, unknown>;
    for (const k of Object.keys(entry)) {
      if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') fail(`${where}: unknown key ${quote(k)} (expected dtype, shape, data_offsets)`);
    }
    for (const k of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.prototype.hasOwnProperty.call(entry, k)) fail(`${where}: missing "${k}"`);
    }
    const dtype = entry.dtype;
    if (typeof dtype !== 'string') fail(`${where}: dtype must be a string, got ${describeJson(dtype)}`);
    if (!isDtype(dtype)) fail(`${where}: unknown dtype ${quote(dtype)}`);
    const shape = entry.shape;
    if (!Array.isArray(shape)) fail(`${where}: shape must be an array of non-negative integers, got ${describeJson(shape)}`);
    for (let i = 0; i < shape.length; i++) {
      if (!isIndex(shape[i])) fail(`${where}: shape[${i}] must be a non-negative safe integer, got ${describeJson(shape[i])}`);
    }
    const offs = entry.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2) {
      fail(`${where}: data_offsets must be [begin, end], got ${describeJson(offs)}`);
    }
    const [begin, end] = offs as unknown[];
    if (!isIndex(begin) || !isIndex(end)) fail(`${where}: data_offsets must be two non-negative safe integers, got ${describeJson(offs)}`);
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);

    // Element and byte counts in u64, refusing overflow like the reference's checked_mul.
    let count = 1n;
    for (const d of shape as number[]) {
      count *= BigInt(d);
      if (count > U64_MAX) fail(`${where}: shape ${shapeText(shape)} overflows a u64 element count`);
    }
    const nbytes = count * BigInt(DTYPE_SIZE[dtype]);
    if (nbytes > U64_MAX) fail(`${where}: shape ${shapeText(shape)} x ${dtype} overflows a u64 byte count`);
    if (nbytes !== BigInt(end - begin)) {
      fail(`${where}: shape ${shapeText(shape)} x ${dtype} needs ${nbytes} bytes but data_offsets span ${end - begin}`);
    }
    pending.push({ name, dtype, shape: (shape as number[]).map((d) => d + 0), begin: begin + 0, end: end + 0 });
  }

  // Tile the data buffer: the reference sorts by (begin, end); ties (empty tensors) by name for determinism.
  pending.sort((a, b) => a.begin - b.begin || a.end - b.end || cmpCodePoints(a.name, b.name));
  let at = 0;
  let prev: string | undefined;
  for (const p of pending) {
    if (p.begin !== at) {
      const after = prev === undefined ? 'the data buffer starts at 0' : `the previous tensor ${quote(prev)} ends at ${at}`;
      const kind = p.begin > at ? `a hole of ${p.begin - at} bytes` : `an overlap of ${at - p.begin} bytes`;
      fail(`tensor ${quote(p.name)}: data_offsets [${p.begin}, ${p.end}] begin at ${p.begin} but ${after} (${kind})`);
    }
    at = p.end;
    prev = p.name;
  }
  if (at !== bufferLen) {
    const last = prev === undefined ? 'no tensors' : `the last tensor ${quote(prev)} ends at ${at}`;
    fail(`data buffer is ${bufferLen} bytes (file ${fileLen} - 8 - header ${n}) but ${last}${at < bufferLen ? ` (${bufferLen - at} trailing bytes)` : ''}`);
  }

  const entries = new Map<string, SafetensorsTensor>();
  for (const p of pending) {
    entries.set(p.name, Object.freeze({
      name: p.name,
      dtype: p.dtype,
      shape: Object.freeze(p.shape),
      bytes: u8.subarray(dataStart + p.begin, dataStart + p.end),
      dataOffsets: Object.freeze([p.begin, p.end] as [number, number]),
    }));
  }
  return new SafetensorsFile(metadata, entries, pending.map((p) => p.name), n);
}

/**
 * One pass over the header bytes: refuse nesting deeper than MAX_HEADER_DEPTH. Brackets inside strings do
 * not count; `"` and `\` are ASCII, so they never occur inside a multi-byte UTF-8 sequence and the scan is
 * exact on bytes. Unbalanced or malformed text is left to JSON.parse.
 */
function checkDepth(u8: Uint8Array, from: number, to: number): void {
  let depth = 0;
  for (let i = from; i < to; i++) {
    const c = u8[i]!;
    if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MAX_HEADER_DEPTH) fail(`header nests deeper than ${MAX_HEADER_DEPTH} levels (at file offset ${i}), like the reference refuses`);
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
    else if (c === 0x22 /* " */) {
      for (i++; i < to && u8[i] !== 0x22; i++) if (u8[i] === 0x5c /* backslash */) i++;
    }
  }
}

function decodeHeader(h: Uint8Array): string {
  // NOTE: ignoreBOM keeps a leading U+FEFF in the text so JSON.parse refuses it, as the reference does;
  // the default would silently drop it. A view of a SharedArrayBuffer is copied: decode() refuses those.
  const src = h.buffer instanceof ArrayBuffer ? h : h.slice();
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(src);
  } catch {
    fail(`header (${h.length} bytes) is not valid UTF-8 (bad sequence at file offset ${8 + firstBadUtf8(h)})`);
  }
}

/** Index of the first byte of the first ill-formed UTF-8 sequence (for the message; linear, no decoding). */
function firstBadUtf8(h: Uint8Array): number {
  const n = h.length;
  let i = 0;
  while (i < n) {
    const c = h[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (need === 0 || i + need >= n) return i;
    // Second-byte limits exclude overlongs (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (h[i + 1]! < lo || h[i + 1]! > hi) return i;
    for (let k = 2; k <= need; k++) if ((h[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return n;
}

/**
 * Second pass over header text that JSON.parse accepted: refuses duplicate keys (at any depth) and number
 * literals that are not plain non-negative integers. Iterative, so nesting depth cannot blow the stack.
 */
function scanHeader(text: string): void {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  let topKey: string | undefined;
  const len = text.length;
  const context = (): string =>
    topKey === undefined ? 'header' : topKey === METADATA_KEY ? '__metadata__' : `tensor ${quote(topKey)}`;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
      i++;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
      i++;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
        } else if (d === 0x22) break;
        else j++;
      }
      if (expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) {
          if (stack.length === 1) fail(key === METADATA_KEY ? 'duplicate "__metadata__" in header' : `duplicate tensor name ${quote(key)} in header`);
          fail(`${context()}: duplicate key ${quote(key)}${stack.length > 2 ? ' in a nested object' : ''}`);
        }
        keys.add(key);
        if (stack.length === 1) topKey = key;
        expectKey = false;
      }
      i = j + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < len && isNumberChar(text.charCodeAt(j))) j++;
      const lit = text.slice(i, j);
      if (!/^(?:0|[1-9][0-9]*)$/.test(lit)) {
        fail(`${context()}: number ${lit.length > 40 ? `${lit.slice(0, 40)}...` : lit} is not a non-negative integer`);
      }
      i = j;
    } else {
      i++; // whitespace, ':', letters of true/false/null
    }
  }
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// ---------------------------------------------------------------------------------------------------------
// Conversions

/**
 * The tensor's elements widened to a new Float32Array (always a copy, whatever the alignment).
 *
 * F32 exact; F16, BF16, F8_E4M3 (fn), F8_E5M2 exact (NaN payloads of F16/BF16 kept); F64 rounded to nearest
 * float32 (overflow to +-Inf); integer dtypes (U8..U64, I8..I64) rounded to nearest float32, as PyTorch's
 * `load_state_dict` copy_ converts (so an I64 `num_batches_tracked` loads). BOOL is refused with E_DTYPE: a
 * mask is not a float parameter; read it with {@link tensorToNumbers}.
 */
export function tensorToFloat32(t: SafetensorsTensor): Float32Array {
  const n = numelOf(t);
  const out = new Float32Array(n);
  const b = t.bytes;
  switch (t.dtype) {
    case 'F32':
      if (HOST_LITTLE_ENDIAN) return new Float32Array(b.slice().buffer);
      break;
    case 'F16': {
      const table = f16ToF32BitsTable();
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = table[b[2 * i]! | (b[2 * i + 1]! << 8)]!;
      return out;
    }
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = bf16BitsToF32Bits(b[2 * i]! | (b[2 * i + 1]! << 8));
      return out;
    }
    case 'BOOL':
      throw new WasmzooError('E_DTYPE', `safetensors: tensor ${quote(t.name)} is BOOL, which cannot feed a float parameter (use toNumbers)`);
    case 'I64':
    case 'U64':
      fillFromBig(t, (i, v) => (out[i] = bigToF32(v)));
      return out;
  }
  fillNumbers(t, out);
  return out;
}

/**
 * The tensor's elements as exact float64 values in a new Float64Array: every dtype, BOOL as 0/1 (any
 * non-zero byte is true). I64/U64 elements beyond +-(2^53 - 1) cannot be exact and are refused (E_DTYPE,
 * naming the index); use {@link tensorToBigInt64} for those.
 */
export function tensorToNumbers(t: SafetensorsTensor): Float64Array {
  const out = new Float64Array(numelOf(t));
  if (t.dtype === 'I64' || t.dtype === 'U64') {
    fillFromBig(t, (i, v) => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new WasmzooError('E_DTYPE', `safetensors: tensor ${quote(t.name)} (${t.dtype}) element ${i} = ${v} is not exactly representable as a number (use toBigInt64)`);
      }
      out[i] = Number(v);
    });
    return out;
  }
  if (t.dtype === 'F16' || t.dtype === 'BF16') {
    const f = tensorToFloat32(t);
    out.set(f);
    return out;
  }
  fillNumbers(t, out);
  return out;
}

/**
 * The tensor's elements as a new BigInt64Array: integer dtypes and BOOL (0/1), exact. U64 elements above
 * 2^63 - 1 and float dtypes are refused with E_DTYPE.
 */
export function tensorToBigInt64(t: SafetensorsTensor): BigInt64Array {
  const out = new BigInt64Array(numelOf(t));
  if (t.dtype === 'I64' || t.dtype === 'U64') {
    fillFromBig(t, (i, v) => {
      if (v > 0x7fffffffffffffffn) {
        throw new WasmzooError('E_DTYPE', `safetensors: tensor ${quote(t.name)} (U64) element ${i} = ${v} does not fit an int64`);
      }
      out[i] = v;
    });
    return out;
  }
  if (!isIntegerDtype(t.dtype) && t.dtype !== 'BOOL') {
    throw new WasmzooError('E_DTYPE', `safetensors: tensor ${quote(t.name)} is ${t.dtype}, not an integer dtype (use toFloat32)`);
  }
  const tmp = new Float64Array(out.length);
  fillNumbers(t, tmp);
  for (let i = 0; i < tmp.length; i++) out[i] = BigInt(tmp[i]!);
  return out;
}

function numelOf(t: SafetensorsTensor): number {
  const size = DTYPE_SIZE[t.dtype];
  if (t.bytes.length % size !== 0) {
    throw new WasmzooError('E_SAFETENSORS', `safetensors: tensor ${quote(t.name)}: ${t.bytes.length} bytes is not a whole number of ${t.dtype} elements`);
  }
  return t.bytes.length / size;
}

/** Every dtype but I64/U64 into a number array, little-endian through a DataView (any alignment). */
function fillNumbers(t: SafetensorsTensor, out: Float32Array | Float64Array): void {
  const b = t.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = out.length;
  switch (t.dtype) {
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = b[i] !== 0 ? 1 : 0;
      return;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = b[i]!;
      return;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return;
    case 'F8_E4M3':
      for (let i = 0; i < n; i++) out[i] = f8e4m3ToF32(b[i]!);
      return;
    case 'F8_E5M2':
      for (let i = 0; i < n; i++) out[i] = f8e5m2ToF32(b[i]!);
      return;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      return;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      return;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return;
    case 'U32':
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true);
      return;
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return;
    case 'F16':
    case 'BF16':
    case 'I64':
    case 'U64':
      throw new Error('unreachable: handled by the caller');
  }
}

function fillFromBig(t: SafetensorsTensor, put: (i: number, v: bigint) => void): void {
  const b = t.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.length / 8;
  const signed = t.dtype === 'I64';
  for (let i = 0; i < n; i++) put(i, signed ? dv.getBigInt64(8 * i, true) : dv.getBigUint64(8 * i, true));
}

// ---------------------------------------------------------------------------------------------------------
// Writer

/** Typed arrays the writer accepts as `data`. */
export type SafetensorsData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * One tensor to write: `shape` plus either `data` (element values) or `bytes` (raw little-endian element
 * bytes with an explicit `dtype`; a reader entry can be passed back as is).
 *
 * `data` without `dtype` is written in its own type (Float32Array -> F32, Float64Array -> F64, Int8Array ->
 * I8, Uint8Array -> U8, Int16Array -> I16, Uint16Array -> U16, Int32Array -> I32, Uint32Array -> U32,
 * BigInt64Array -> I64, BigUint64Array -> U64). With `dtype`: the same type, or Float32Array/Float64Array as
 * F16/BF16/F32/F64 (round to nearest even), or Uint16Array as raw F16/BF16 bits, or Uint8Array as raw
 * F8_E4M3/F8_E5M2 bits or as BOOL (values 0/1). Anything else is refused with E_DTYPE: no silent integer
 * casts.
 */
export interface SafetensorsInput {
  readonly dtype?: Dtype;
  readonly shape: readonly number[];
  readonly data?: SafetensorsData;
  readonly bytes?: Uint8Array;
}

const NATIVE: ReadonlyArray<[Function, Dtype]> = [
  [Float32Array, 'F32'],
  [Float64Array, 'F64'],
  [Int8Array, 'I8'],
  [Uint8Array, 'U8'],
  [Int16Array, 'I16'],
  [Uint16Array, 'U16'],
  [Int32Array, 'I32'],
  [Uint32Array, 'U32'],
  [BigInt64Array, 'I64'],
  [BigUint64Array, 'U64'],
];

function nativeDtype(data: unknown): Dtype | undefined {
  for (const [ctor, d] of NATIVE) if (data instanceof ctor) return d;
  return undefined;
}

/**
 * Serialize tensors to safetensors bytes, byte for byte as the reference's `serialize`: header JSON
 * `{"__metadata__":{...},"<name>":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}` with no whitespace,
 * padded with spaces to a multiple of 8 bytes (so the data buffer starts 8-aligned); tensors laid out by
 * dtype alignment descending (the reference's enum order: U64, I64, F64, F32, ... BOOL), then by name in
 * code point (= UTF-8 byte) order. Metadata keys keep their insertion order (the reference's is a hash
 * map's, i.e. unspecified).
 *
 * Throws E_ARGUMENT for a bad name or metadata, E_SHAPE when the element count does not match the shape,
 * E_DTYPE for an unsupported dtype/data pairing.
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, SafetensorsInput>> | ReadonlyMap<string, SafetensorsInput>,
  metadata?: Readonly<Record<string, string>> | ReadonlyMap<string, string>,
): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') {
    throw new WasmzooError('E_ARGUMENT', `writeSafetensors: tensors must be an object or Map of name -> {shape, data}, got ${describe(tensors)}`);
  }
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors as Record<string, SafetensorsInput>);
  type Planned = { name: string; dtype: Dtype; shape: number[]; nbytes: number; input: SafetensorsInput };
  const planned: Planned[] = list.map(([name, input]) => plan(name, input));
  planned.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || cmpCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') {
      throw new WasmzooError('E_ARGUMENT', `writeSafetensors: metadata must be an object of string -> string, got ${describe(metadata)}`);
    }
    const m = metadata instanceof Map ? [...metadata] : Object.entries(metadata as Record<string, string>);
    const items = m.map(([k, v]) => {
      if (typeof v !== 'string') throw new WasmzooError('E_ARGUMENT', `writeSafetensors: metadata[${quote(k)}] must be a string, got ${describe(v)}`);
      if (!wellFormed(k) || !wellFormed(v)) throw new WasmzooError('E_ARGUMENT', `writeSafetensors: metadata[${quote(k)}] holds a lone UTF-16 surrogate`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${items.join(',')}}`);
  }
  let offset = 0;
  for (const p of planned) {
    const end = offset + p.nbytes;
    parts.push(`${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":[${p.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  if (headerLen > MAX_HEADER_SIZE) {
    throw new WasmzooError('E_SAFETENSORS', `writeSafetensors: header would be ${headerLen} bytes, above the ${MAX_HEADER_SIZE}-byte limit readers enforce`);
  }
  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const p of planned) {
    encode(p.name, p.dtype, p.input, out, dv, at);
    at += p.nbytes;
  }
  return out;
}

function plan(name: string, input: SafetensorsInput): { name: string; dtype: Dtype; shape: number[]; nbytes: number; input: SafetensorsInput } {
  const where = `writeSafetensors: tensor ${quote(name)}`;
  if (name === METADATA_KEY) throw new WasmzooError('E_ARGUMENT', `${where}: the name is reserved for the metadata`);
  if (!wellFormed(name)) throw new WasmzooError('E_ARGUMENT', `${where}: name holds a lone UTF-16 surrogate`);
  if (input === null || typeof input !== 'object') throw new WasmzooError('E_ARGUMENT', `${where}: expected {shape, data} or {dtype, shape, bytes}, got ${describe(input)}`);
  const shape = input.shape;
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw new WasmzooError('E_SHAPE', `${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  let numel = 1;
  for (const d of shape) numel *= d;
  if (!Number.isSafeInteger(numel)) throw new WasmzooError('E_SHAPE', `${where}: shape ${shapeText(shape)} has too many elements`);
  if (input.dtype !== undefined && !isDtype(input.dtype)) throw new WasmzooError('E_DTYPE', `${where}: unknown dtype ${quote(String(input.dtype))}`);

  if (input.bytes !== undefined) {
    if (input.data !== undefined) throw new WasmzooError('E_ARGUMENT', `${where}: give data or bytes, not both`);
    if (!(input.bytes instanceof Uint8Array)) throw new WasmzooError('E_ARGUMENT', `${where}: bytes must be a Uint8Array, got ${describe(input.bytes)}`);
    if (input.dtype === undefined) throw new WasmzooError('E_DTYPE', `${where}: raw bytes need an explicit dtype`);
    const nbytes = numel * DTYPE_SIZE[input.dtype];
    if (input.bytes.length !== nbytes) {
      throw new WasmzooError('E_SHAPE', `${where}: shape ${shapeText(shape)} x ${input.dtype} needs ${nbytes} bytes but bytes has ${input.bytes.length}`);
    }
    return { name, dtype: input.dtype, shape: [...shape], nbytes, input };
  }
  const native = nativeDtype(input.data);
  if (native === undefined) throw new WasmzooError('E_ARGUMENT', `${where}: data must be a typed array, got ${describe(input.data)}`);
  const dtype = input.dtype ?? native;
  const isFloatArray = native === 'F32' || native === 'F64';
  const ok =
    dtype === native ||
    (isFloatArray && (dtype === 'F16' || dtype === 'BF16' || dtype === 'F32' || dtype === 'F64')) ||
    (native === 'U16' && (dtype === 'F16' || dtype === 'BF16')) ||
    (native === 'U8' && (dtype === 'BOOL' || dtype === 'F8_E4M3' || dtype === 'F8_E5M2'));
  if (!ok) {
    throw new WasmzooError('E_DTYPE', `${where}: cannot write ${input.data!.constructor.name} as ${dtype}${isFloatDtype(dtype) || isIntegerDtype(dtype) ? ' (convert the data first)' : ''}`);
  }
  if (input.data!.length !== numel) {
    throw new WasmzooError('E_SHAPE', `${where}: shape ${shapeText(shape)} holds ${numel} elements but data has ${input.data!.length}`);
  }
  if (dtype === 'BOOL') {
    const d = input.data as Uint8Array;
    for (let i = 0; i < d.length; i++) {
      if (d[i]! > 1) throw new WasmzooError('E_ARGUMENT', `${where}: BOOL element ${i} is ${d[i]}, expected 0 or 1`);
    }
  }
  return { name, dtype, shape: [...shape], nbytes: numel * DTYPE_SIZE[dtype], input };
}

/** Write one tensor's elements little-endian at out[at...]. */
function encode(name: string, dtype: Dtype, input: SafetensorsInput, out: Uint8Array, dv: DataView, at: number): void {
  if (input.bytes !== undefined) {
    out.set(input.bytes, at);
    return;
  }
  const data = input.data!;
  const native = nativeDtype(data)!;
  const n = data.length;
  if (dtype === native || (native === 'U16' && (dtype === 'F16' || dtype === 'BF16')) || native === 'U8') {
    if (HOST_LITTLE_ENDIAN || DTYPE_SIZE[dtype] === 1) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
      return;
    }
  }
  const big = data as unknown as ArrayLike<bigint>;
  const nums = data as ArrayLike<number>;
  switch (dtype) {
    case 'F16':
      if (native === 'U16') for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, nums[i]!, true);
      else for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, f32ToF16(nums[i]!), true);
      return;
    case 'BF16':
      if (native === 'U16') for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, nums[i]!, true);
      else for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, f32ToBf16(nums[i]!), true);
      return;
    case 'F32':
      for (let i = 0; i < n; i++) dv.setFloat32(at + 4 * i, nums[i]!, true);
      return;
    case 'F64':
      for (let i = 0; i < n; i++) dv.setFloat64(at + 8 * i, nums[i]!, true);
      return;
    case 'I16':
      for (let i = 0; i < n; i++) dv.setInt16(at + 2 * i, nums[i]!, true);
      return;
    case 'U16':
      for (let i = 0; i < n; i++) dv.setUint16(at + 2 * i, nums[i]!, true);
      return;
    case 'I32':
      for (let i = 0; i < n; i++) dv.setInt32(at + 4 * i, nums[i]!, true);
      return;
    case 'U32':
      for (let i = 0; i < n; i++) dv.setUint32(at + 4 * i, nums[i]!, true);
      return;
    case 'I64':
      for (let i = 0; i < n; i++) dv.setBigInt64(at + 8 * i, big[i]!, true);
      return;
    case 'U64':
      for (let i = 0; i < n; i++) dv.setBigUint64(at + 8 * i, big[i]!, true);
      return;
    default:
      throw new WasmzooError('E_DTYPE', `writeSafetensors: tensor ${quote(name)}: cannot encode ${dtype}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function fail(msg: string): never {
  throw new WasmzooError('E_SAFETENSORS', `safetensors: ${msg}`);
}

/** JSON-quoted, shortened for messages (names come from untrusted files). */
function quote(s: string): string {
  const q = JSON.stringify(s);
  return q.length > 120 ? `${q.slice(0, 100)}..." (${s.length} chars)` : q;
}

function shapeText(shape: readonly unknown[]): string {
  const dims = shape.length > 8 ? [...shape.slice(0, 8).map(String), `... ${shape.length} dims`] : shape.map(String);
  return `[${dims.join(',')}]`;
}

function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v);
  } catch {
    // Too deep to stringify (String() of a nested array recurses too).
    return Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested object';
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Compare by Unicode code point, i.e. UTF-8 byte order (Rust's String order), not UTF-16 unit order. */
function cmpCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
