/**
 * Helpers shared by the data-movement ops (tensor.ts, layout.ts, index-ops.ts, resize.ts): reading index and
 * size inputs that come from a stranger's file (validated before anything is allocated or indexed), axis
 * normalisation, element-generic copies over every dtype's array (typed arrays and string[] alike), and the
 * per-axis gather that Slice, Pad, Tile, Expand, Transpose and nearest resizing all reduce to.
 */
import { WasmzooError } from '../../index.js';
import { allocData, floatToBfloat16, floatToHalf, halfToFloat, numel, roundHalfEven, type OnnxData, type OnnxDType, type OnnxTensor } from '../value.js';

export { floatToHalf, roundHalfEven } from '../value.js';
import { opError, type OpNode } from './types.js';

/** Elements above which an output is refused (the wasm memory could not hold more anyway). */
export const MAX_ELEMENTS = 2 ** 31;

/** Any dtype's element array seen as plain indexable slots: data-movement ops copy elements without reading them. */
export type Elements = { [i: number]: unknown; length: number };

const INT_DTYPES = new Set<OnnxDType>(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

/** The input at `i`, or an E_ONNX error naming the node when a required input is missing. */
export function need(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, i: number, what?: string): OnnxTensor {
  const t = inputs[i];
  if (!t) throw opError(node, `input ${i}${what ? ` (${what})` : ''} is required`);
  return t;
}

/** Validated output dims: integers >= 0 whose product is at most 2^31. */
export function checkDims(node: OpNode, dims: readonly number[], what = 'output'): number[] {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw opError(node, `${what} dim ${d} in [${dims.join(', ')}] is not a size`);
    n *= d;
  }
  for (const d of dims) {
    if (d > MAX_ELEMENTS) n = Infinity; // a zero elsewhere must not hide an absurd dim
  }
  if (n > MAX_ELEMENTS) throw opError(node, `${what} of shape [${dims.join(', ')}] has more than 2^31 elements`);
  return [...dims];
}

/** A zero-filled output of validated dims. */
export function output(node: OpNode, dtype: OnnxDType, dims: readonly number[]): OnnxTensor {
  const d = checkDims(node, dims);
  return { dtype, dims: d, data: allocData(dtype, numel(d)) };
}

/** The integer values of an index/shape tensor (int32 or int64; int64 as Numbers, exact within 2^53, INT64_MAX stays huge). */
export function intValues(node: OpNode, t: OnnxTensor, what: string): number[] {
  if (!INT_DTYPES.has(t.dtype)) throw opError(node, `${what} must be an integer tensor, got ${t.dtype}`);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** A scalar (or one-element) input as a Number. */
export function scalarValue(node: OpNode, t: OnnxTensor, what: string): number {
  if (t.data.length !== 1) throw opError(node, `${what} must have one element, got shape [${t.dims.join(', ')}]`);
  if (typeof t.data[0] === 'string') throw opError(node, `${what} must be numeric, got ${t.dtype}`);
  return toFloat64(t)[0];
}

/** `axis` in [-rank, rank - 1] as a non-negative axis, or an E_ONNX error. */
export function normAxis(node: OpNode, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw opError(node, `${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Distinct normalised axes, or an E_ONNX error on a repeat. */
export function normAxes(node: OpNode, axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => normAxis(node, a, rank, what));
  if (new Set(out).size !== out.length) throw opError(node, `${what} [${axes.join(', ')}] repeat an axis`);
  return out;
}

/** Row-major strides (in elements). */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** A new tensor holding a copy of `t`'s data under `dims` (outputs never alias an input: it may be an initializer). */
export function copyAs(t: OnnxTensor, dims: number[] = t.dims): OnnxTensor {
  return { dtype: t.dtype, dims: [...dims], data: t.data.slice() as OnnxData };
}

/** Copy `n` elements src[s..] -> dst[d..] (typed arrays by block copy). */
export function copyRange(dst: OnnxData, d: number, src: OnnxData, s: number, n: number): void {
  if (n <= 0) return;
  // short runs (Gather of single elements) are faster as a loop than as a subarray + set
  if (n < 16 || Array.isArray(dst) || Array.isArray(src)) {
    for (let i = 0; i < n; i++) (dst as Elements)[d + i] = (src as Elements)[s + i];
  } else (dst as Uint8Array).set((src as Uint8Array).subarray(s, s + n), d);
}

/**
 * out[o_0, ..., o_r-1] = src[sum_k maps[k][o_k]] where maps[k] holds source offsets (already times the
 * source stride) per output coordinate of axis k; a negative entry means "outside the source": `fill`.
 * Transpose, Slice, Pad, Tile, Expand and nearest resizing are all such per-axis maps.
 */
export function gatherAxes(src: OnnxData, dst: OnnxData, outDims: readonly number[], maps: readonly Int32Array[], fill?: unknown): void {
  const r = outDims.length, n = dst.length;
  const s = src as Elements, o = dst as Elements;
  if (n === 0) return;
  if (r === 0) {
    o[0] = s[0];
    return;
  }
  const inner = maps[r - 1], w = outDims[r - 1];
  const idx = new Array<number>(r - 1).fill(0);
  for (let row = 0; row < n; row += w) {
    let base = 0, outside = false;
    for (let k = 0; k < r - 1; k++) {
      const m = maps[k][idx[k]];
      if (m < 0) outside = true;
      base += m;
    }
    if (outside) for (let j = 0; j < w; j++) o[row + j] = fill;
    else for (let j = 0; j < w; j++) {
      const m = inner[j];
      o[row + j] = m < 0 ? fill : s[base + m];
    }
    for (let k = r - 2; k >= 0; k--) {
      if (++idx[k] < outDims[k]) break;
      idx[k] = 0;
    }
  }
}

/** The identity map of an axis: coordinate j reads offset j * stride. */
export function rangeMap(n: number, stride: number, start = 0, step = 1): Int32Array {
  const m = new Int32Array(n);
  for (let j = 0; j < n; j++) m[j] = (start + j * step) * stride;
  return m;
}

/** `x` with its axes permuted: out dims[k] = x.dims[perm[k]]. */
export function transposeData(node: OpNode, x: OnnxTensor, perm: readonly number[]): OnnxTensor {
  const st = strides(x.dims);
  const dims = perm.map((p) => x.dims[p]);
  const out = output(node, x.dtype, dims);
  gatherAxes(x.data, out.data, dims, perm.map((p, k) => rangeMap(dims[k], st[p])));
  return out;
}

/** The zero of a dtype as stored in its array. */
export function zeroOf(dtype: OnnxDType): unknown {
  return dtype === 'string' ? '' : dtype === 'int64' || dtype === 'uint64' ? 0n : 0;
}

/** A Number as the stored element of `dtype` (ints truncated and wrapped by the typed array, float16 as bits). */
export function elementOf(dtype: OnnxDType, v: number): unknown {
  switch (dtype) {
    case 'int64': case 'uint64': return BigInt(Number.isFinite(v) ? Math.trunc(v) : 0);
    case 'float16': return floatToHalf(v);
    case 'bfloat16': return floatToBfloat16(v);
    case 'bool': return v !== 0 ? 1 : 0;
    case 'string': return String(v);
    default: return v;
  }
}

/** The elements as float64 (float16/bfloat16 decoded, int64 converted). */
export function toFloat64(t: OnnxTensor): Float64Array {
  const d = t.data;
  if (Array.isArray(d)) throw new WasmzooError('E_ONNX', `onnx: expected a numeric tensor, got ${t.dtype}`);
  if (t.dtype === 'float64') return d as Float64Array;
  const out = new Float64Array(d.length);
  if (t.dtype === 'float16') for (let i = 0; i < d.length; i++) out[i] = halfToFloat((d as Uint16Array)[i]);
  else if (t.dtype === 'bfloat16') for (let i = 0; i < d.length; i++) out[i] = bfloatToFloat((d as Uint16Array)[i]);
  else for (let i = 0; i < d.length; i++) out[i] = Number((d as ArrayLike<number | bigint>)[i]);
  return out;
}

/** float64 values stored as `dtype`: integers rounded half to even and saturated, as numpy's saturate_cast. */
export function fromFloat64(dtype: OnnxDType, v: Float64Array): OnnxData {
  const out = allocData(dtype, v.length);
  if (dtype === 'float64' || dtype === 'float32') (out as Float64Array).set(v);
  else if (dtype === 'float16') for (let i = 0; i < v.length; i++) (out as Uint16Array)[i] = floatToHalf(v[i]);
  else if (dtype === 'bfloat16') for (let i = 0; i < v.length; i++) (out as Uint16Array)[i] = floatToBfloat16(v[i]);
  else if (dtype === 'bool') for (let i = 0; i < v.length; i++) (out as Uint8Array)[i] = v[i] !== 0 ? 1 : 0;
  else if (dtype === 'string') throw new WasmzooError('E_ONNX', 'onnx: cannot store numbers as strings');
  else {
    const [lo, hi] = INT_RANGE[dtype];
    const big = dtype === 'int64' || dtype === 'uint64';
    for (let i = 0; i < v.length; i++) {
      const x = Number.isNaN(v[i]) ? 0 : Math.min(hi, Math.max(lo, roundHalfEven(v[i])));
      (out as Elements)[i] = big ? BigInt(x) : x;
    }
  }
  return out;
}

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1], // the largest doubles below 2^63 and 2^64, so BigInt() of a saturated value stays in range
  int64: [-(2 ** 63), 2 ** 63 - 1024], uint64: [0, 2 ** 64 - 2048],
};

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

function bfloatToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

/** int8..uint64 (not bool). */
export function isIntDtype(dtype: OnnxDType): boolean {
  return INT_DTYPES.has(dtype);
}
