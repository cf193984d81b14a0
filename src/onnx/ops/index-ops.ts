/**
 * ONNX ops driven by index or condition tensors (https://onnx.ai/onnx/operators/): Gather, GatherElements,
 * GatherND, ScatterElements (and the deprecated Scatter), ScatterND, NonZero, TopK, CumSum, OneHot,
 * Compress, Unique. Every index is read from a stranger's tensor: it is checked against its axis (negative
 * counts from the end, as the spec allows) before anything is read or written, and an out-of-range index
 * is an E_ONNX error naming the node.
 */
import { halfToFloat, type OnnxDType, type OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpTable } from './types.js';
import {
  checkDims, copyAs, copyRange, floatToHalf, fromFloat64, gatherAxes, intValues, need, normAxis, output, rangeMap,
  scalarValue, strides, toFloat64, type Elements,
} from './tensor-util.js';

type Inputs = ReadonlyArray<OnnxTensor | undefined>;

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Every index of `t` checked against [-dim, dim) and made non-negative. */
function indices(node: OpNode, t: OnnxTensor, dim: number, what: string): Int32Array {
  const v = intValues(node, t, what);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!(x >= -dim && x < dim)) throw opError(node, `${what} ${x} is out of range for a dim of ${dim}`);
    out[i] = x < 0 ? x + dim : x;
  }
  return out;
}

function gather(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data'), it = need(node, inputs, 1, 'indices');
  const axis = normAxis(node, node.attrs.int('axis', 0), x.dims.length);
  const d = x.dims[axis];
  const ind = indices(node, it, d, 'index');
  const dims = [...x.dims.slice(0, axis), ...it.dims, ...x.dims.slice(axis + 1)];
  const out = output(node, x.dtype, dims);
  const outer = prod(x.dims.slice(0, axis)), inner = prod(x.dims.slice(axis + 1)), ni = ind.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < ni; j++) copyRange(out.data, (o * ni + j) * inner, x.data, (o * d + ind[j]) * inner, inner);
  }
  return out;
}

/**
 * Visit every position of `idxDims` (same rank as `dims`): `f(p, base)` gets the flat position p in the index
 * tensor and the flat offset in `dims` of the same coordinates with the `axis` coordinate set to 0.
 */
function forEachElement(node: OpNode, dims: readonly number[], idxDims: readonly number[], axis: number, f: (p: number, base: number) => void): void {
  const r = dims.length;
  if (idxDims.length !== r) throw opError(node, `indices of rank ${idxDims.length} for data of rank ${r}`);
  for (let k = 0; k < r; k++) {
    if (k !== axis && idxDims[k] > dims[k]) throw opError(node, `indices shape [${idxDims.join(', ')}] exceeds data shape [${dims.join(', ')}] on axis ${k}`);
  }
  const st = strides(dims), n = prod(idxDims);
  const c = new Array<number>(r).fill(0);
  for (let p = 0; p < n; p++) {
    let base = 0;
    for (let k = 0; k < r; k++) if (k !== axis) base += c[k] * st[k];
    f(p, base);
    for (let k = r - 1; k >= 0; k--) {
      if (++c[k] < idxDims[k]) break;
      c[k] = 0;
    }
  }
}

function gatherElements(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data'), it = need(node, inputs, 1, 'indices');
  const axis = normAxis(node, node.attrs.int('axis', 0), x.dims.length);
  const ind = indices(node, it, x.dims[axis], 'index');
  const out = output(node, x.dtype, it.dims);
  const s = x.data as Elements, o = out.data as Elements, st = strides(x.dims)[axis];
  forEachElement(node, x.dims, it.dims, axis, (p, base) => { o[p] = s[base + ind[p] * st]; });
  return out;
}

type Combine = (a: unknown, b: unknown) => unknown;
const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'];

/** How a scatter reduction merges an update into an element of `dtype`. */
function combiner(node: OpNode, dtype: OnnxDType, reduction: string): Combine {
  if (reduction === 'none') return (_a, b) => b;
  if (dtype === 'string') throw opError(node, `reduction '${reduction}' on strings`);
  if (dtype === 'int64' || dtype === 'uint64') {
    const f: Record<string, (a: bigint, b: bigint) => bigint> = {
      add: (a, b) => a + b, mul: (a, b) => a * b, max: (a, b) => (a > b ? a : b), min: (a, b) => (a < b ? a : b),
    };
    return f[reduction] as Combine;
  }
  const f: Record<string, (a: number, b: number) => number> = {
    add: (a, b) => a + b, mul: (a, b) => a * b, max: (a, b) => (a >= b || Number.isNaN(a) ? a : b), min: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  };
  const g = f[reduction];
  if (dtype === 'bool') return ((a: number, b: number) => (reduction === 'add' || reduction === 'max' ? a | b : a & b)) as Combine;
  if (dtype === 'float16') return ((a: number, b: number) => floatToHalf(g(halfToFloat(a), halfToFloat(b)))) as Combine;
  if (dtype === 'bfloat16') throw opError(node, `reduction '${reduction}' on bfloat16`);
  return g as Combine;
}

function reductionOf(node: OpNode): string {
  return node.opType === 'Scatter' || node.opset < 16 ? 'none' : node.attrs.string('reduction', 'none');
}

function scatterElements(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data'), it = need(node, inputs, 1, 'indices'), u = need(node, inputs, 2, 'updates');
  if (u.dtype !== x.dtype) throw opError(node, `updates are ${u.dtype}, data is ${x.dtype}`);
  if (u.dims.length !== it.dims.length || u.dims.some((d, k) => d !== it.dims[k])) throw opError(node, `updates shape [${u.dims.join(', ')}] differs from indices shape [${it.dims.join(', ')}]`);
  const axis = normAxis(node, node.attrs.int('axis', 0), x.dims.length);
  const ind = indices(node, it, x.dims[axis], 'index');
  const out = copyAs(x);
  const o = out.data as Elements, up = u.data as Elements, st = strides(x.dims)[axis];
  const f = combiner(node, x.dtype, reductionOf(node));
  forEachElement(node, x.dims, it.dims, axis, (p, base) => {
    const q = base + ind[p] * st;
    o[q] = f(o[q], up[p]);
  });
  return out;
}

/** For GatherND/ScatterND: the flat data offset of every index tuple (last dim of `it`), checked. */
function tupleOffsets(node: OpNode, x: OnnxTensor, it: OnnxTensor, b: number): { offsets: Int32Array; k: number } {
  const q = it.dims.length, k = it.dims[q - 1];
  if (q < 1 || k === undefined) throw opError(node, 'indices must have rank >= 1');
  if (b < 0 || b >= q || b > x.dims.length) throw opError(node, `batch_dims ${b} for indices of rank ${q} and data of rank ${x.dims.length}`);
  if (k > x.dims.length - b) throw opError(node, `index tuples of length ${k} for data of rank ${x.dims.length} with batch_dims ${b}`);
  for (let i = 0; i < b; i++) if (it.dims[i] !== x.dims[i]) throw opError(node, `batch dims of indices [${it.dims.join(', ')}] and data [${x.dims.join(', ')}] differ`);
  const v = intValues(node, it, 'indices');
  const st = strides(x.dims);
  const tuples = k === 0 ? prod(it.dims.slice(0, -1)) : v.length / k;
  const perBatch = tuples / Math.max(1, prod(it.dims.slice(0, b)));
  const offsets = new Int32Array(tuples);
  for (let t = 0; t < tuples; t++) {
    const batch = Math.floor(t / perBatch);
    let off = batch * (b > 0 ? st[b - 1] : 0);
    for (let j = 0; j < k; j++) {
      const dim = x.dims[b + j];
      let i = v[t * k + j];
      if (!(i >= -dim && i < dim)) throw opError(node, `index ${i} is out of range for axis ${b + j} of size ${dim}`);
      if (i < 0) i += dim;
      off += i * st[b + j];
    }
    offsets[t] = off;
  }
  return { offsets, k };
}

function gatherND(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data'), it = need(node, inputs, 1, 'indices');
  const b = node.opset >= 12 ? node.attrs.int('batch_dims', 0) : 0;
  const { offsets, k } = tupleOffsets(node, x, it, b);
  const rest = x.dims.slice(b + k), inner = prod(rest);
  const out = output(node, x.dtype, [...it.dims.slice(0, -1), ...rest]);
  offsets.forEach((off, t) => copyRange(out.data, t * inner, x.data, off, inner));
  return out;
}

function scatterND(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data'), it = need(node, inputs, 1, 'indices'), u = need(node, inputs, 2, 'updates');
  if (u.dtype !== x.dtype) throw opError(node, `updates are ${u.dtype}, data is ${x.dtype}`);
  const { offsets, k } = tupleOffsets(node, x, it, 0);
  const rest = x.dims.slice(k), inner = prod(rest);
  const want = [...it.dims.slice(0, -1), ...rest];
  if (u.dims.length !== want.length || u.dims.some((d, i) => d !== want[i])) throw opError(node, `updates shape [${u.dims.join(', ')}], expected [${want.join(', ')}]`);
  const out = copyAs(x);
  const o = out.data as Elements, up = u.data as Elements;
  const f = combiner(node, x.dtype, reductionOf(node));
  offsets.forEach((off, t) => {
    for (let i = 0; i < inner; i++) o[off + i] = f(o[off + i], up[t * inner + i]);
  });
  return out;
}

const truthy = (v: unknown) => (typeof v === 'string' ? v !== '' : typeof v === 'bigint' ? v !== 0n : v !== 0);

function nonZero(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'X');
  const s = x.dtype === 'float16' || x.dtype === 'bfloat16' ? toFloat64(x) : (x.data as Elements);
  const hits: number[] = [];
  for (let i = 0; i < s.length; i++) if (truthy(s[i])) hits.push(i);
  const r = x.dims.length, st = strides(x.dims), n = hits.length;
  const out = new BigInt64Array(r * n);
  hits.forEach((p, j) => {
    for (let k = 0; k < r; k++) out[k * n + j] = BigInt(Math.floor(p / st[k]) % x.dims[k]);
  });
  return { dtype: 'int64', dims: [r, n], data: out };
}

/** Numbers or BigInts compared (-1, 0, 1); NaN sorts above everything, as numpy sorts it last. */
function compare(a: number | bigint, b: number | bigint): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function topK(node: OpNode, inputs: Inputs): OnnxTensor[] {
  const x = need(node, inputs, 0, 'X');
  if (x.dtype === 'string') throw opError(node, 'strings are not sortable here');
  const axis = normAxis(node, node.attrs.int('axis', -1), x.dims.length);
  const k = node.opset < 10 ? node.attrs.int('k', -1) : intValues(node, need(node, inputs, 1, 'K'), 'K')[0];
  const d = x.dims[axis];
  if (!(k >= 0 && k <= d)) throw opError(node, `k ${k} is outside [0, ${d}] for axis ${axis}`);
  const largest = node.opset >= 11 ? node.attrs.int('largest', 1) !== 0 : true;
  const vals = (x.dtype === 'float16' || x.dtype === 'bfloat16' ? toFloat64(x) : x.data) as ArrayLike<number | bigint>;
  const dims = x.dims.map((v, i) => (i === axis ? k : v));
  const values = output(node, x.dtype, dims), idx = output(node, 'int64', dims);
  const outer = prod(x.dims.slice(0, axis)), inner = prod(x.dims.slice(axis + 1));
  const s = x.data as Elements, ov = values.data as Elements, oi = idx.data as BigInt64Array;
  const order = new Array<number>(d);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * d * inner + i;
      for (let j = 0; j < d; j++) order[j] = j;
      // ties keep the lower index first (the spec's rule)
      order.sort((a, b) => (largest ? compare(vals[base + b * inner], vals[base + a * inner]) : compare(vals[base + a * inner], vals[base + b * inner])) || a - b);
      for (let j = 0; j < k; j++) {
        const q = o * k * inner + j * inner + i;
        ov[q] = s[base + order[j] * inner];
        oi[q] = BigInt(order[j]);
      }
    }
  }
  return [values, idx];
}

function cumSum(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'x');
  const axis = normAxis(node, scalarValue(node, need(node, inputs, 1, 'axis'), 'axis'), x.dims.length);
  const exclusive = node.attrs.int('exclusive', 0) !== 0, reverse = node.attrs.int('reverse', 0) !== 0;
  if (x.dtype === 'string' || x.dtype === 'bool') throw opError(node, `CumSum of ${x.dtype}`);
  const half = x.dtype === 'float16' || x.dtype === 'bfloat16';
  const src = (half ? toFloat64(x) : x.data) as Elements;
  const dst = (half ? new Float64Array(src.length) : output(node, x.dtype, x.dims).data) as Elements;
  const big = x.dtype === 'int64' || x.dtype === 'uint64';
  const zero = big ? 0n : 0;
  const d = x.dims[axis], outer = prod(x.dims.slice(0, axis)), inner = prod(x.dims.slice(axis + 1));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let prev: number = -1;
      for (let step = 0; step < d; step++) {
        const j = reverse ? d - 1 - step : step;
        const q = o * d * inner + j * inner + i;
        // the running sum is stored at each step, so it rounds (or wraps) in the tensor's own type as numpy does
        const acc = prev < 0 ? zero : dst[prev];
        const add = exclusive ? (prev < 0 ? zero : src[prev]) : src[q];
        dst[q] = (acc as number) + (add as number);
        prev = q;
      }
    }
  }
  return { dtype: x.dtype, dims: [...x.dims], data: half ? fromFloat64(x.dtype, dst as Float64Array) : (dst as OnnxTensor['data']) };
}

function oneHot(node: OpNode, inputs: Inputs): OnnxTensor {
  const it = need(node, inputs, 0, 'indices'), dt = need(node, inputs, 1, 'depth'), vt = need(node, inputs, 2, 'values');
  if (vt.data.length !== 2) throw opError(node, `values must hold [off, on], got ${vt.data.length} elements`);
  const depth = Math.trunc(scalarValue(node, dt, 'depth'));
  if (!(depth >= 1)) throw opError(node, `depth ${depth} must be at least 1`);
  const r = it.dims.length;
  const axis = normAxis(node, node.attrs.int('axis', -1), r + 1);
  const dims = checkDims(node, [...it.dims.slice(0, axis), depth, ...it.dims.slice(axis)]);
  const out = output(node, vt.dtype, dims);
  const o = out.data as Elements & { fill(v: unknown): void };
  o.fill(vt.data[0]);
  const ind = toFloat64(it), inner = prod(it.dims.slice(axis));
  for (let p = 0; p < ind.length; p++) {
    let v = Math.trunc(ind[p]);
    if (v < 0) v += depth;
    // indices outside [-depth, depth) leave their row all 'off', as the spec says
    if (v >= 0 && v < depth) o[Math.floor(p / inner) * depth * inner + v * inner + (p % inner)] = vt.data[1];
  }
  return out;
}

function compress(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input'), c = need(node, inputs, 1, 'condition');
  if (c.dims.length !== 1) throw opError(node, `condition must be 1-D, got [${c.dims.join(', ')}]`);
  const a = node.attrs.int('axis');
  const cond = c.data as Elements;
  const pick = (n: number) => {
    const p: number[] = [];
    for (let i = 0; i < Math.min(n, cond.length); i++) if (truthy(cond[i])) p.push(i);
    return p;
  };
  if (a === undefined) {
    const p = pick(x.data.length), s = x.data as Elements;
    const out = output(node, x.dtype, [p.length]);
    p.forEach((i, j) => { (out.data as Elements)[j] = s[i]; });
    return out;
  }
  const axis = normAxis(node, a, x.dims.length);
  const p = pick(x.dims[axis]), st = strides(x.dims);
  const dims = x.dims.map((d, k) => (k === axis ? p.length : d));
  const maps = dims.map((d, k) => (k === axis ? Int32Array.from(p, (i) => i * st[k]) : rangeMap(d, st[k])));
  const out = output(node, x.dtype, dims);
  gatherAxes(x.data, out.data, dims, maps);
  return out;
}

function unique(node: OpNode, inputs: Inputs): OnnxTensor[] {
  const x = need(node, inputs, 0, 'X');
  const sorted = node.attrs.int('sorted', 1) !== 0;
  const a = node.attrs.int('axis');
  const axis = a === undefined ? undefined : normAxis(node, a, x.dims.length);
  const dims = axis === undefined ? [x.data.length] : x.dims;
  const ax = axis ?? 0;
  const d = dims[ax], outer = prod(dims.slice(0, ax)), inner = prod(dims.slice(ax + 1));
  const vals = (x.dtype === 'float16' || x.dtype === 'bfloat16' ? toFloat64(x) : x.data) as Elements;
  const slice = (i: number) => {
    const e: unknown[] = [];
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) e.push(vals[(o * d + i) * inner + j]);
    return e;
  };
  const keyOf = (e: unknown[]) => (x.dtype === 'string' ? JSON.stringify(e) : e.map(String).join(','));
  const seen = new Map<string, number>();
  const first: number[] = [], counts: number[] = [], inverse = new Array<number>(d);
  for (let i = 0; i < d; i++) {
    const key = keyOf(slice(i));
    let u = seen.get(key);
    if (u === undefined) {
      u = first.length;
      seen.set(key, u);
      first.push(i);
      counts.push(0);
    }
    counts[u]++;
    inverse[i] = u;
  }
  const order = first.map((_, u) => u);
  if (sorted) {
    const cmp = (p: unknown, q: unknown) => (typeof p === 'string' ? (p < (q as string) ? -1 : p > (q as string) ? 1 : 0) : compare(p as number, q as number));
    const sl = first.map(slice);
    order.sort((u, v) => {
      for (let j = 0; j < sl[u].length; j++) {
        const c = cmp(sl[u][j], sl[v][j]);
        if (c) return c;
      }
      return 0;
    });
  }
  const rank = new Array<number>(order.length);
  order.forEach((u, r) => { rank[u] = r; });
  const n = order.length;
  const y = output(node, x.dtype, dims.map((v, k) => (k === ax ? n : v)));
  order.forEach((u, r) => {
    for (let o = 0; o < outer; o++) copyRange(y.data, (o * n + r) * inner, x.data, (o * d + first[u]) * inner, inner);
  });
  const i64 = (v: number[]): OnnxTensor => ({ dtype: 'int64', dims: [v.length], data: BigInt64Array.from(v, BigInt) });
  return [y, i64(order.map((u) => first[u])), i64(inverse.map((u) => rank[u])), i64(order.map((u) => counts[u]))];
}

function checkReduction(node: OpNode): string | undefined {
  const r = node.attrs.string('reduction', 'none');
  if (!REDUCTIONS.includes(r)) return `reduction '${r}' is not one of ${REDUCTIONS.join(', ')}`;
  if (r !== 'none' && node.opset < 16) return `reduction '${r}' needs opset 16 (the model imports ${node.opset})`;
  if ((r === 'max' || r === 'min') && node.opset < 18) return `reduction '${r}' needs opset 18 (the model imports ${node.opset})`;
  return undefined;
}

export const INDEX_OPS: OpTable = {
  Gather: { run: (node, inputs) => [gather(node, inputs)] },
  GatherElements: { run: (node, inputs) => [gatherElements(node, inputs)] },
  GatherND: { run: (node, inputs) => [gatherND(node, inputs)] },
  ScatterElements: { check: checkReduction, run: (node, inputs) => [scatterElements(node, inputs)] },
  // Scatter (opsets 9, 10) is ScatterElements without reduction, renamed at 11
  Scatter: { run: (node, inputs) => [scatterElements(node, inputs)] },
  ScatterND: { check: checkReduction, run: (node, inputs) => [scatterND(node, inputs)] },
  NonZero: { run: (node, inputs) => [nonZero(node, inputs)] },
  TopK: { run: topK },
  CumSum: { run: (node, inputs) => [cumSum(node, inputs)] },
  OneHot: { run: (node, inputs) => [oneHot(node, inputs)] },
  Compress: { run: (node, inputs) => [compress(node, inputs)] },
  Unique: { run: unique },
};
