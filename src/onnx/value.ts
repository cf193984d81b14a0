/**
 * ONNX values as the importer and the op implementations see them: a dtype, dims and a typed array in
 * row-major (C) order, NCHW as ONNX has it. int64 stays exact in a BigInt64Array (shape tensors, indices,
 * Slice's INT64_MAX ends); float16 and bfloat16 keep their bits in a Uint16Array.
 */
import { WasmzooError } from '../index.js';

export type OnnxDType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string';

export type OnnxData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | string[];

export interface OnnxTensor {
  dtype: OnnxDType;
  dims: number[];
  data: OnnxData;
  /**
   * Inside a session only: 'nhwc' when a rank-4 float32 value's data is stored [N, H, W, C] (dims still say
   * [N, C, H, W]), as the conv and pool kernels write it. Only ops that read NHWC (src/onnx/fuse.ts lists
   * them) ever see such a tensor; every other op, and the caller, gets NCHW.
   */
  layout?: 'nhwc';
  /**
   * Inside a session only, with layout 'nhwc': the value stays in the runtime's arena, in the block at this
   * byte pointer, between kernels (`data` is then empty); the session releases the block after its last reader.
   */
  ptr?: number;
  /**
   * Inside a session only, with layout 'nhwc': a Conv's output written straight into its channels of the
   * Concat that is its only reader (OpContext.concatBlocks; src/onnx/fuse.ts planConcats). Only that Concat
   * reads it; `data` is empty and there is no block of its own.
   */
  slice?: { key: string; offset: number };
}

/** TensorProto.DataType codes. */
export const DTYPE_BY_CODE: Record<number, OnnxDType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};
export const CODE_BY_DTYPE = Object.fromEntries(Object.entries(DTYPE_BY_CODE).map(([k, v]) => [v, Number(k)])) as Record<OnnxDType, number>;

/** Bytes per element of the fixed-size dtypes (strings: 0). */
export const DTYPE_BYTES: Record<OnnxDType, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int8: 1, int16: 2, int32: 4, int64: 8,
  uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1, string: 0,
};

/** Elements of a shape (1 for a scalar). */
export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A zero-filled array of `n` elements of `dtype`. */
export function allocData(dtype: OnnxDType, n: number): OnnxData {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'float16': case 'bfloat16': case 'uint16': return new Uint16Array(n);
    case 'int8': return new Int8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'string': return new Array<string>(n).fill('');
  }
}

export function tensorOf(dtype: OnnxDType, dims: number[], data?: OnnxData): OnnxTensor {
  const n = numel(dims);
  const d = data ?? allocData(dtype, n);
  if (d.length !== n) throw new WasmzooError('E_ONNX', `onnx: a ${dtype} tensor of shape [${dims.join(', ')}] needs ${n} elements, got ${d.length}`);
  return { dtype, dims, data: d };
}

/** The elements as Numbers (int64 converted; exact within 2^53). */
export function toNumbers(t: OnnxTensor): number[] {
  const d = t.data;
  if (Array.isArray(d)) throw new WasmzooError('E_ONNX', 'onnx: expected a numeric tensor, got strings');
  if (t.dtype === 'float16') return Array.from(d as Uint16Array, halfToFloat);
  if (t.dtype === 'bfloat16') return Array.from(d as Uint16Array, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
  return Array.from(d as ArrayLike<number | bigint>, Number);
}

/** IEEE half bits to a Number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Round to the nearest integer, ties to even (numpy.round, ONNX Round, IEEE conversions). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/** IEEE half bits of a Number, rounded to nearest even in one step (as numpy's double -> half). */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65520 is halfway between the largest half (65504) and 2^16: ties go to inf
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal (a result of 1024 is the smallest normal's bits)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  // a mantissa of 2048 after rounding carries into the exponent through the addition
  return sign | (((e + 15) << 10) + roundHalfEven((a / 2 ** e) * 1024) - 1024);
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
/** bfloat16 bits of a Number: to float32, then round the top 16 bits to nearest even. */
export function floatToBfloat16(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  f32[0] = x;
  const b = u32[0];
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
