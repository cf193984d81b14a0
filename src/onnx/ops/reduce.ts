/**
 * ONNX ops that reduce along axes: Reduce* (axes an attribute until ReduceSum-13 / the others-18, an
 * optional int64 input after; keepdims; noop_with_empty_axes), ArgMax/ArgMin (keepdims, select_last_index)
 * and the row-wise Softmax, LogSoftmax, Hardmax (before opset 13 the input is flattened to 2-D at `axis`,
 * default 1; from 13 they act on the single axis `axis`, default -1).
 * Semantics: https://onnx.ai/onnx/operators/. Accumulation is in double (BigInt for int64/uint64), rounded
 * once into the output dtype.
 */
import { numel, type OnnxDType, type OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpSpec, type OpTable } from './types.js';
import { broadcastIndex, finish, kindOf, outValues, values } from './broadcast.js';
import { need, normAxis } from './tensor-util.js';
import { softmaxF32 } from './fast-f32.js';

type Acc = number | bigint;

/** One reduction: start value, the step folding in one element, and the finish given the element count. */
interface Reducer {
  init: (dtype: OnnxDType) => Acc;
  step: (acc: Acc, x: Acc) => Acc;
  done?: (acc: Acc, count: number) => Acc;
  /** Only through Numbers (64-bit ints converted; fine for the log/sqrt reductions). */
  numberOnly?: boolean;
}

const nan = (v: Acc) => v !== v;
/** dtype's [min, max] for the empty Max/Min (floats: -inf/+inf, as ONNX 18). */
function limits(dtype: OnnxDType): [Acc, Acc] {
  switch (dtype) {
    case 'int8': return [-128, 127];
    case 'uint8': case 'bool': return [0, dtype === 'bool' ? 1 : 255];
    case 'int16': return [-32768, 32767];
    case 'uint16': return [0, 65535];
    case 'int32': return [-(2 ** 31), 2 ** 31 - 1];
    case 'uint32': return [0, 2 ** 32 - 1];
    case 'int64': return [-(2n ** 63n), 2n ** 63n - 1n];
    case 'uint64': return [0n, 2n ** 64n - 1n];
    default: return [-Infinity, Infinity];
  }
}
/** 0 or 0n, 1 or 1n as the dtype computes. */
const zero = (d: OnnxDType): Acc => (kindOf(d) === 'big' ? 0n : 0);
const one = (d: OnnxDType): Acc => (kindOf(d) === 'big' ? 1n : 1);
const abs = (x: Acc) => (x < 0 ? -x : x);
const div = (a: Acc, n: number): Acc => (typeof a === 'bigint' ? (n ? a / BigInt(n) : 0n) : a / n);

// `any`: each step is the same expression for number and bigint accumulators
const REDUCERS: Record<string, Reducer> = {
  ReduceSum: { init: zero, step: (a: any, x: any) => a + x },
  ReduceSumSquare: { init: zero, step: (a: any, x: any) => a + x * x },
  ReduceL1: { init: zero, step: (a: any, x: any) => a + abs(x) },
  ReduceL2: { init: zero, step: (a: any, x: any) => a + x * x, done: (a) => Math.sqrt(a as number), numberOnly: true },
  ReduceMean: { init: zero, step: (a: any, x: any) => a + x, done: div },
  ReduceProd: { init: one, step: (a: any, x: any) => a * x },
  ReduceMax: { init: (d) => limits(d)[0], step: (a, x) => (x > a || nan(x) ? x : a) },
  ReduceMin: { init: (d) => limits(d)[1], step: (a, x) => (x < a || nan(x) ? x : a) },
  ReduceLogSum: { init: zero, step: (a: any, x: any) => a + x, done: (a) => Math.log(a as number), numberOnly: true },
};

/** The reduced axes (sorted, normalised), or 'noop', from the attribute or the input as the opset has it. */
function reducedAxes(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>, rank: number): number[] | 'noop' {
  const fromInput = node.opset >= (node.opType === 'ReduceSum' ? 13 : 18);
  let axes: number[] | undefined;
  if (fromInput) {
    const t = inputs[1];
    if (t) {
      if (t.dtype !== 'int64' || t.dims.length > 1) throw opError(node, `axes must be a 1-D int64 tensor, got ${t.dtype} [${t.dims.join(', ')}]`);
      axes = Array.from(t.data as BigInt64Array, Number);
    }
    if (!axes?.length) {
      if (node.attrs.int('noop_with_empty_axes', 0)) return 'noop';
      axes = undefined;
    }
  } else axes = node.attrs.ints('axes');
  const all = Array.from({ length: rank }, (_, i) => i);
  if (!axes) return all;
  const norm = axes.map((a) => normAxis(node, a, rank, 'axes entry'));
  if (new Set(norm).size !== norm.length) throw opError(node, `axes [${axes.join(', ')}] repeat an axis`);
  return norm.sort((a, b) => a - b);
}

function reduceSpec(r: Reducer, logSumExp = false): OpSpec {
  return {
    check(node) {
      const fromInput = node.opset >= (node.opType === 'ReduceSum' ? 13 : 18);
      if (fromInput && node.attrs.has('axes')) return `opset ${node.opset} takes axes as an input, not an attribute`;
      if (!fromInput && node.inputs.length > 1) return `opset ${node.opset} takes axes as an attribute, not an input`;
      return undefined;
    },
    run(node, inputs) {
      const x = need(node, inputs, 0);
      const kind = kindOf(x.dtype);
      if (kind === 'string') throw opError(node, 'does not take string tensors');
      const axes = reducedAxes(node, inputs, x.dims.length);
      if (axes === 'noop') return [{ dtype: x.dtype, dims: [...x.dims], data: x.data.slice() as OnnxTensor['data'] }];
      const keep = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
      const nOut = numel(keep), n = x.data.length, count = nOut ? n / nOut : 0;
      const big = kind === 'big' && !r.numberOnly && !logSumExp;
      const src = values(x), map = broadcastIndex(keep, x.dims);
      // accumulators: BigInts for exact 64-bit integer sums, doubles otherwise
      const init = logSumExp ? 0 : r.init(x.dtype);
      const acc: { [o: number]: Acc } = big ? new Array<Acc>(nOut).fill(init) : new Float64Array(nOut).fill(Number(init));
      let shift: Float64Array | undefined;
      if (logSumExp) {
        // log(sum(exp(x - max))) + max: exp of large inputs cannot overflow
        shift = new Float64Array(nOut).fill(-Infinity);
        for (let i = 0; i < n; i++) {
          const o = map ? map[i] : i, v = Number(src[i]);
          if (v > shift[o] || v !== v) shift[o] = v;
        }
        for (let i = 0; i < n; i++) {
          const o = map ? map[i] : i;
          acc[o] = (acc[o] as number) + Math.exp(Number(src[i]) - shift[o]);
        }
      } else {
        const step = r.step;
        for (let i = 0; i < n; i++) {
          const o = map ? map[i] : i;
          acc[o] = step(acc[o], big ? (src[i] as Acc) : Number(src[i]));
        }
      }
      const out = outValues(node, x.dtype, nOut);
      for (let o = 0; o < nOut; o++) {
        let v = acc[o];
        if (logSumExp) {
          const m = shift![o];
          v = Number.isFinite(m) ? Math.log(v as number) + m : m;
        } else if (r.done) v = r.done(v, count);
        out[o] = kind === 'big' ? (typeof v === 'bigint' ? v : (Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n)) : kind === 'float' ? v : Math.trunc(Number(v));
      }
      const dims = node.attrs.int('keepdims', 1) ? keep : x.dims.filter((_, i) => !axes.includes(i));
      return [finish(x.dtype, dims, out)];
    },
  };
}

/** ArgMax/ArgMin along `axis` (int64 indices); NaN counts as the extreme, as numpy's argmax. */
function argSpec(max: boolean): OpSpec {
  return {
    run(node, inputs) {
      const x = need(node, inputs, 0);
      if (kindOf(x.dtype) === 'string') throw opError(node, 'does not take string tensors');
      const rank = x.dims.length;
      if (rank === 0) throw opError(node, 'needs an input of rank 1 or more, got a scalar');
      const axis = normAxis(node, node.attrs.int('axis', 0), rank);
      const last = node.attrs.int('select_last_index', 0) !== 0;
      const len = x.dims[axis], inner = numel(x.dims.slice(axis + 1)), outer = numel(x.dims.slice(0, axis));
      if (len === 0) throw opError(node, `axis ${axis} has length 0: there is no ${max ? 'largest' : 'smallest'} element`);
      const src = values(x) as ArrayLike<Acc>;
      const beats = (v: Acc, b: Acc) => (nan(b) ? last && nan(v) : nan(v) || (max ? (last ? v >= b : v > b) : (last ? v <= b : v < b)));
      const out = new BigInt64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < inner; k++) {
          const base = o * len * inner + k;
          let best = 0, bv = src[base];
          for (let j = 1; j < len; j++) {
            const v = src[base + j * inner];
            if (beats(v, bv)) { best = j; bv = v; }
          }
          out[o * inner + k] = BigInt(best);
        }
      }
      const dims = node.attrs.int('keepdims', 1) ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
      return [{ dtype: 'int64', dims, data: out }];
    },
  };
}

type RowFn = (src: ArrayLike<number>, out: { [i: number]: number }, base: number, len: number, stride: number) => void;

const softmaxRow = (log: boolean): RowFn => (src, out, base, len, stride) => {
  let m = -Infinity;
  for (let j = 0; j < len; j++) m = Math.max(m, src[base + j * stride]);
  let s = 0;
  for (let j = 0; j < len; j++) s += Math.exp(src[base + j * stride] - m);
  const ls = Math.log(s), inv = 1 / s;
  for (let j = 0; j < len; j++) {
    const p = base + j * stride, d = src[p] - m;
    out[p] = log ? d - ls : Math.exp(d) * inv;
  }
};

const hardmaxRow: RowFn = (src, out, base, len, stride) => {
  let best = 0;
  for (let j = 1; j < len; j++) if (src[base + j * stride] > src[base + best * stride]) best = j;
  out[base + best * stride] = 1; // the rest stays 0
};

/** Softmax-style ops over rows: before opset 13 rows are the input flattened to 2-D at `axis`, from 13 the one axis. */
function rowSpec(row: RowFn, kernel?: 'softmax' | 'log_softmax'): OpSpec {
  return {
    run(node, inputs, ctx) {
      const x = need(node, inputs, 0);
      if (kindOf(x.dtype) !== 'float') throw opError(node, `does not take ${x.dtype} tensors (float types only)`);
      const v13 = node.opset >= 13, rank = x.dims.length;
      const axis = normAxis(node, node.attrs.int('axis', v13 ? -1 : 1), rank);
      const outer = numel(x.dims.slice(0, axis));
      const len = v13 ? x.dims[axis] : numel(x.dims.slice(axis)), inner = v13 ? numel(x.dims.slice(axis + 1)) : 1;
      const fast = kernel && inner === 1 ? softmaxF32(x, len, kernel === 'log_softmax', ctx) : undefined;
      if (fast) return [fast];
      const src = values(x) as ArrayLike<number>, out = outValues(node, x.dtype, src.length) as { [i: number]: number };
      for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) row(src, out, o * len * inner + k, len, inner);
      return [finish(x.dtype, [...x.dims], out as Float32Array)];
    },
  };
}

export const REDUCE_OPS: OpTable = {
  ...Object.fromEntries(Object.entries(REDUCERS).map(([k, r]) => [k, reduceSpec(r)])),
  ReduceLogSumExp: reduceSpec(REDUCERS.ReduceSum, true),
  ArgMax: argSpec(true),
  ArgMin: argSpec(false),
  Softmax: rowSpec(softmaxRow(false), 'softmax'),
  LogSoftmax: rowSpec(softmaxRow(true), 'log_softmax'),
  Hardmax: rowSpec(hardmaxRow),
};
