/**
 * Normalise every accepted weight source to one view: name -> { shape, toFloat32() }, converting lazily so
 * that keys and shapes are checked before any data is widened or copied.
 *
 * Accepted: safetensors bytes or a PyTorch checkpoint (.pth/.pt, told apart by magic bytes; src/io/pth.ts) as
 * Uint8Array / ArrayBuffer, a Map or plain object of name -> Tensor or { data, shape } (e.g. another model's
 * stateDict()).
 *
 * Both paths are checked alike, entry by entry, without converting anything: an entry that cannot feed a
 * float parameter carries a `problem` (its toFloat32 throws it) instead of throwing at once, so that
 * loadStateDict reports it together with missing and unexpected keys. Problems: a BOOL tensor; data that is
 * not a typed array or an array of numbers (strings, booleans, objects, a DataView: Float32Array.from would
 * silently make NaN of them); a shape that is not an array of non-negative integers; a data length that is
 * not the shape's product; an entry that is not a tensor. BigInt64Array / BigUint64Array data (and bigints in
 * a plain array) round to float32 as I64/U64 bytes do.
 */
import { WasmzooError, type ErrorCode } from '../errors.js';
import { Tensor, numel, shapeProblem, shapeStr, type Shape } from '../tensor.js';
import { bigToF32 } from './dtype.js';
import { isPth, readPth } from './pth.js';
import { readSafetensors } from './safetensors.js';

export interface TensorLike {
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
  shape: Shape;
}

export type WeightSource =
  | Uint8Array
  | ArrayBuffer
  | Map<string, Tensor | TensorLike>
  | Record<string, Tensor | TensorLike>;

/** Why an entry cannot be loaded: E_DTYPE (what the data holds) or E_SHAPE / E_ARGUMENT (what it is). */
export interface WeightProblem {
  readonly code: ErrorCode;
  /** Without the entry's name, e.g. "dtype BOOL cannot feed a float parameter". */
  readonly message: string;
}

export interface WeightEntry {
  readonly shape: Shape;
  /** Set when the entry cannot feed a float parameter; toFloat32 then throws it. */
  readonly problem?: WeightProblem;
  toFloat32(): Float32Array;
}

export function readWeights(src: WeightSource): Map<string, WeightEntry> {
  const out = new Map<string, WeightEntry>();
  if (src instanceof Uint8Array || src instanceof ArrayBuffer) {
    const u8 = src instanceof Uint8Array ? src : new Uint8Array(src);
    if (isPth(u8)) {
      const pth = readPth(u8);
      for (const name of pth.names) {
        const info = pth.get(name);
        if (info.dtype === 'BOOL') out.set(name, refused(name, info.shape, 'E_DTYPE', 'dtype BOOL cannot feed a float parameter (a mask is not a weight)'));
        else out.set(name, { shape: info.shape, toFloat32: () => pth.toFloat32(name) });
      }
      return out;
    }
    const file = readSafetensors(src);
    for (const name of file.names) {
      const info = file.get(name);
      if (info.dtype === 'BOOL') out.set(name, refused(name, info.shape, 'E_DTYPE', 'dtype BOOL cannot feed a float parameter (a mask is not a weight)'));
      else out.set(name, { shape: info.shape, toFloat32: () => file.toFloat32(name) });
    }
    return out;
  }
  if (src === null || typeof src !== 'object') {
    throw new WasmzooError('E_ARGUMENT', `weights must be safetensors or PyTorch checkpoint bytes (Uint8Array/ArrayBuffer) or a map of name -> tensor, got ${src === null ? 'null' : typeof src}`);
  }
  const entries = src instanceof Map ? [...src] : Object.entries(src);
  for (const [name, t] of entries) out.set(name, objectEntry(String(name), t));
  return out;
}

function refused(name: string, shape: Shape, code: ErrorCode, message: string): WeightEntry {
  const problem = { code, message };
  return {
    shape,
    problem,
    toFloat32: () => {
      throw new WasmzooError(code, `weights[${JSON.stringify(name)}]: ${message}`);
    },
  };
}

function objectEntry(name: string, t: unknown): WeightEntry {
  if (!t || typeof t !== 'object' || !('data' in t) || !('shape' in t)) {
    return refused(name, [], 'E_ARGUMENT', `must be a Tensor or { data, shape }, got ${describe(t)}`);
  }
  const { data, shape: rawShape } = t as { data: unknown; shape: unknown };
  const bad = shapeProblem(rawShape);
  if (bad) return refused(name, [], 'E_SHAPE', bad);
  const shape = [...(rawShape as number[])];
  const notNumbers = dataProblem(data);
  if (notNumbers) return refused(name, shape, 'E_DTYPE', notNumbers);
  const values = data as ArrayLike<number | bigint>;
  if (numel(shape) !== values.length) {
    return refused(name, shape, 'E_SHAPE', `shape ${shapeStr(shape)} holds ${numel(shape)} values but data has ${values.length}`);
  }
  const toFloat32 = (): Float32Array => {
    if (values instanceof Float32Array) return values;
    if (ArrayBuffer.isView(values) && !(values instanceof BigInt64Array || values instanceof BigUint64Array)) return Float32Array.from(values as ArrayLike<number>);
    const f = new Float32Array(values.length);
    for (let i = 0; i < f.length; i++) {
      const v = values[i]!;
      f[i] = typeof v === 'bigint' ? bigToF32(v) : v;
    }
    return f;
  };
  return { shape, toFloat32 };
}

/** Why `data` is not numbers, or undefined: typed arrays (not DataView) pass; plain arrays are scanned. */
function dataProblem(data: unknown): string | undefined {
  if (ArrayBuffer.isView(data)) return data instanceof DataView ? 'data must be a typed array or an array of numbers, got a DataView' : undefined;
  if (!Array.isArray(data)) return `data must be a typed array or an array of numbers, got ${describe(data)}`;
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' && typeof v !== 'bigint') {
      return `data[${i}] is ${v === null ? 'null' : `a ${typeof v}`}${typeof v === 'string' || typeof v === 'boolean' ? ` (${JSON.stringify(v).slice(0, 40)})` : ''}, expected numbers`;
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v === 'string' ? `a string (${JSON.stringify(v.slice(0, 40))})` : typeof v;
}
