/**
 * Shared machinery of the elementwise and reduction ops (math.ts, reduce.ts): numpy-style multidirectional
 * broadcasting (https://onnx.ai/onnx/repo-docs/Broadcasting.html), and the compute representation of each
 * dtype: float16/bfloat16 are decoded to a Float64Array (so a double -> half cast rounds once, as numpy),
 * every other dtype computes on its own typed array (int64/uint64 as BigInt, bool as 0/1 bytes).
 */
import { WasmzooError } from '../../index.js';
import { allocData, floatToBfloat16, floatToHalf, halfToFloat, numel, type OnnxData, type OnnxDType, type OnnxTensor } from '../value.js';
import { opError, type OpNode } from './types.js';
import { need } from './tensor-util.js';

/** Largest tensor an op allocates (elements): sizes come from files and feeds, so cap them. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** How a dtype computes: floats as Numbers, small ints as Numbers, 64-bit ints as BigInts. */
export type Kind = 'float' | 'int' | 'big' | 'bool' | 'string';

export function kindOf(dtype: OnnxDType): Kind {
  switch (dtype) {
    case 'float32': case 'float64': case 'float16': case 'bfloat16': return 'float';
    case 'int64': case 'uint64': return 'big';
    case 'bool': return 'bool';
    case 'string': return 'string';
    default: return 'int';
  }
}

const isHalf = (dtype: OnnxDType) => dtype === 'float16' || dtype === 'bfloat16';

/** Elements readable by index in the compute representation. */
export type Values = ArrayLike<number> | ArrayLike<bigint> | ArrayLike<string>;
/** A writable array in the compute representation (what `outValues` returns, `finish` takes). */
export type OutValues = { [i: number]: number | bigint | string | boolean; length: number };

/** The elements of `t` in its compute representation (halves decoded; everything else is the data itself). */
export function values(t: OnnxTensor): Values {
  if (t.dtype === 'float16') return Float64Array.from(t.data as Uint16Array, halfToFloat);
  if (t.dtype === 'bfloat16') {
    const bits = new Uint32Array(Array.from(t.data as Uint16Array, (b) => b << 16));
    return Float64Array.from(new Float32Array(bits.buffer));
  }
  return t.data as Values;
}

/** A zeroed output array of `n` elements of `dtype` in compute representation (refuses absurd sizes). */
export function outValues(node: OpNode, dtype: OnnxDType, n: number): OutValues {
  if (!(n <= MAX_ELEMENTS)) throw opError(node, `the output would have ${n} elements (more than ${MAX_ELEMENTS})`);
  return (isHalf(dtype) ? new Float64Array(n) : allocData(dtype, n)) as OutValues;
}

/** The tensor of `dtype` holding `out` (computed by outValues' contract): halves are encoded here. */
export function finish(dtype: OnnxDType, dims: number[], out: OutValues): OnnxTensor {
  let data = out as unknown as OnnxData;
  if (dtype === 'float16') data = Uint16Array.from(out as Float64Array, floatToHalf);
  else if (dtype === 'bfloat16') data = Uint16Array.from(out as Float64Array, floatToBfloat16);
  return { dtype, dims, data };
}

// the float16 / bfloat16 conversions live with the dtypes (value.ts); math ops import them from here too
export { floatToHalf, floatToBfloat16 } from '../value.js';

/** The broadcast of several shapes (ONNX multidirectional broadcasting), or E_SHAPE naming the node. */
export function broadcastDims(node: OpNode, shapes: ReadonlyArray<readonly number[]>): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i, d = s[i];
      if (d === out[j] || d === 1) continue;
      if (out[j] !== 1) {
        throw new WasmzooError('E_SHAPE', `onnx: ${node.opType} '${node.name}': shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(', ')} do not broadcast (axis ${j}: ${out[j]} vs ${d})`);
      }
      out[j] = d;
    }
  }
  return out;
}

/**
 * For every element of `outDims` (row-major), the index of the element of a tensor of `inDims` that
 * broadcasts onto it; undefined when the shapes are equal (the index is the position itself). Reductions
 * use it the other way round: inDims = the input shape with the reduced axes at 1, outDims = the input.
 */
export function broadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array | undefined {
  const rank = outDims.length, off = rank - inDims.length;
  if (off === 0 && inDims.every((d, i) => d === outDims[i])) return undefined;
  const n = numel(outDims);
  const map = new Int32Array(n);
  if (n === 0) return map;
  // stride of each output axis in the input (0 where the input is broadcast)
  const stride = new Array<number>(rank).fill(0);
  for (let i = inDims.length - 1, s = 1; i >= 0; i--) {
    stride[i + off] = inDims[i] === 1 ? 0 : s;
    s *= inDims[i];
  }
  const inner = outDims[rank - 1] ?? 1, innerStride = stride[rank - 1] ?? 0;
  const pos = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < n; o += inner) {
    for (let k = 0; k < inner; k++) map[o + k] = base + k * innerStride;
    // odometer over the outer axes
    for (let ax = rank - 2; ax >= 0; ax--) {
      base += stride[ax];
      if (++pos[ax] < outDims[ax]) break;
      base -= stride[ax] * pos[ax];
      pos[ax] = 0;
    }
  }
  return map;
}

/**
 * Elementwise function over the compute values of 1, 2 or 3 inputs. `any`: one expression often serves
 * numbers and BigInts alike (a + b, a < b), and the kind is chosen per tensor, not per element.
 */
export type ElemFn = (...v: any[]) => number | bigint | string | boolean;

/**
 * out[i] = fn(src0[i0], src1[i1], ...) over the broadcast of the inputs' dims: the one loop every
 * elementwise op runs on. `srcs` are compute values (values(t)) or raw data (Where copies bits).
 */
export function mapBroadcast(node: OpNode, dims: ReadonlyArray<readonly number[]>, srcs: Values[], out: (n: number) => OutValues, fn: ElemFn): { dims: number[]; out: OutValues } {
  const od = broadcastDims(node, dims);
  const n = numel(od);
  const o = out(n);
  const ix = dims.map((d) => broadcastIndex(d, od));
  const [a, b, c] = srcs, [ia, ib, ic] = ix;
  if (srcs.length === 1) {
    for (let i = 0; i < n; i++) o[i] = fn(a[i]);
  } else if (srcs.length === 2) {
    for (let i = 0; i < n; i++) o[i] = fn(a[ia ? ia[i] : i], b[ib ? ib[i] : i]);
  } else if (srcs.length === 3) {
    for (let i = 0; i < n; i++) o[i] = fn(a[ia ? ia[i] : i], b[ib ? ib[i] : i], c[ic ? ic[i] : i]);
  } else throw opError(node, `internal: mapBroadcast over ${srcs.length} inputs`);
  return { dims: od, out: o };
}

/** Every input present and of one dtype (ONNX's `T` constraint), else E_ONNX. */
export function sameDtype(node: OpNode, ts: ReadonlyArray<OnnxTensor | undefined>): OnnxTensor[] {
  if (ts.length === 0) throw opError(node, 'needs at least one input');
  const all = ts.map((_, i) => need(node, ts, i));
  for (const t of all) {
    if (t.dtype !== all[0].dtype) throw opError(node, `inputs must share a dtype: got ${all.map((x) => x.dtype).join(', ')}`);
  }
  return all;
}
