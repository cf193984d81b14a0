/**
 * The integer and quantized forms of the compute ops: MatMulInteger, ConvInteger (opset 10), QLinearMatMul,
 * QLinearConv (opset 10) (https://onnx.ai/onnx/operators/onnx__QLinearConv.html and the others).
 *
 * The int8/uint8 operands minus their zero points are exact in f64, and so are the sums of their products
 * (below 2^53), so these run the f64 reference paths of MatMul and Conv and convert: int32 for the Integer
 * ops; for the QLinear ones y = saturate(round_half_even(acc * a_scale * b_scale / y_scale) + y_zero_point).
 * Plain TypeScript: quantized models are not what wasmzoo's float kernels run.
 */
import { opError, type OpNode, type OpSpec, type OpTable, type OpContext } from './types.js';
import { numel, type OnnxTensor } from '../value.js';
import { checkConvLike, CONV_OPS } from './conv.js';
import { MATMUL_OPS } from './matmul.js';

const QTYPES = new Set(['int8', 'uint8']);

function quantized(node: OpNode, t: OnnxTensor | undefined, what: string): OnnxTensor {
  if (!t) throw opError(node, `the input ${what} is missing`);
  if (!QTYPES.has(t.dtype)) throw opError(node, `${what} is ${t.dtype}; expected int8 or uint8`);
  return t;
}

/**
 * `t` minus its zero point as f64. The zero point is a scalar (or one element), or one per `axis` slice
 * (`count` of them: per row of A, per column of B, per output channel of W).
 */
function centered(node: OpNode, t: OnnxTensor, zp: OnnxTensor | undefined, what: string, axis: number): OnnxTensor {
  const d = t.data as Uint8Array | Int8Array, out = new Float64Array(d.length);
  const r = t.dims.length, ax = axis < 0 ? axis + r : axis;
  let z: ArrayLike<number> = [0], inner = 1, count = 1;
  if (zp) {
    const q = quantized(node, zp, `${what}'s zero point`);
    if (q.dtype !== t.dtype) throw opError(node, `${what} is ${t.dtype} but its zero point is ${q.dtype}`);
    z = q.data as Uint8Array | Int8Array;
    if (z.length > 1) {
      count = t.dims[ax];
      if (z.length !== count) throw opError(node, `${what}'s zero point has ${z.length} values; expected 1 or ${count} (dim ${ax} of [${t.dims.join(', ')}])`);
      inner = numel(t.dims.slice(ax + 1));
    }
  }
  for (let i = 0; i < d.length; i++) out[i] = d[i] - z[count > 1 ? Math.floor(i / inner) % count : 0];
  return { dtype: 'float64', dims: t.dims, data: out };
}

function toInt32(y: OnnxTensor): OnnxTensor {
  return { dtype: 'int32', dims: y.dims, data: Int32Array.from(y.data as Float64Array) };
}

function scaleOf(node: OpNode, t: OnnxTensor | undefined, what: string): Float32Array | Float64Array {
  if (!t || (t.dtype !== 'float32' && t.dtype !== 'float64')) throw opError(node, `${what} must be a float32 tensor, got ${t?.dtype ?? 'nothing'}`);
  return t.data as Float32Array | Float64Array;
}

/** round half to even (numpy.rint, what the ONNX reference and onnxruntime round requantized values with). */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Requantize f64 accumulators: channel c (of `channels`, `inner` elements apart) uses multiplier[c]. */
function requantize(node: OpNode, acc: OnnxTensor, multiplier: ArrayLike<number>, inner: number, yzp: OnnxTensor | undefined, like: string): OnnxTensor {
  const dtype = yzp ? quantized(node, yzp, 'y_zero_point').dtype : like;
  const z = yzp ? (yzp.data as Uint8Array | Int8Array)[0] : 0;
  const [lo, hi] = dtype === 'uint8' ? [0, 255] : [-128, 127];
  const a = acc.data as Float64Array, n = a.length, out = dtype === 'uint8' ? new Uint8Array(n) : new Int8Array(n);
  const m = multiplier.length;
  for (let i = 0; i < n; i++) out[i] = Math.min(hi, Math.max(lo, rint(a[i] * multiplier[m > 1 ? Math.floor(i / inner) % m : 0]) + z));
  return { dtype: dtype as 'uint8' | 'int8', dims: acc.dims, data: out };
}

// ---- MatMulInteger / QLinearMatMul ----

const MatMulInteger: OpSpec = {
  check: (node) => (node.inputs.length >= 2 && node.inputs.length <= 4 ? undefined : `needs inputs A, B and optional zero points, got ${node.inputs.length}`),
  run(node, inputs, ctx) {
    const a = quantized(node, inputs[0], 'A'), b = quantized(node, inputs[1], 'B');
    // a_zero_point per row of A (axis -2), b_zero_point per column of B (axis -1)
    const a64 = centered(node, a, inputs[2], 'A', a.dims.length > 1 ? -2 : 0), b64 = centered(node, b, inputs[3], 'B', -1);
    return [toInt32(MATMUL_OPS.MatMul.run(node, [a64, b64], ctx)[0])];
  },
};

const QLinearMatMul: OpSpec = {
  check: (node) => (node.inputs.length === 8 ? undefined : `needs 8 inputs (a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point), got ${node.inputs.length}`),
  run(node, inputs, ctx) {
    const a = quantized(node, inputs[0], 'a'), b = quantized(node, inputs[3], 'b');
    const as = scaleOf(node, inputs[1], 'a_scale'), bs = scaleOf(node, inputs[4], 'b_scale'), ys = scaleOf(node, inputs[6], 'y_scale');
    if (as.length !== 1 || ys.length !== 1) throw opError(node, 'a_scale and y_scale must be scalars (per-tensor quantization)');
    const n = b.dims[b.dims.length - 1];
    if (bs.length !== 1 && bs.length !== n) throw opError(node, `b_scale has ${bs.length} values; expected 1 or ${n} (per column)`);
    const acc = MATMUL_OPS.MatMul.run(node, [centered(node, a, inputs[2], 'a', a.dims.length > 1 ? -2 : 0), centered(node, b, inputs[5], 'b', -1)], ctx)[0];
    const mult = Array.from(bs, (s) => (as[0] * s) / ys[0]);
    return [requantize(node, acc, mult, 1, inputs[7], a.dtype)];
  },
};

// ---- ConvInteger / QLinearConv ----

const ConvInteger: OpSpec = {
  check: (node) => checkConvLike(node, false, 4),
  run(node, inputs, ctx) {
    const x = quantized(node, inputs[0], 'x'), w = quantized(node, inputs[1], 'w');
    const y = CONV_OPS.Conv.run(node, [centered(node, x, inputs[2], 'x', 0), centered(node, w, inputs[3], 'w', 0)], ctx)[0];
    return [toInt32(y)];
  },
};

const QLinearConv: OpSpec = {
  check: (node) => checkConvLike(node, false, 9) ?? (node.inputs.length >= 8 ? undefined : `needs at least 8 inputs, got ${node.inputs.length}`),
  run(node, inputs, ctx: OpContext) {
    const x = quantized(node, inputs[0], 'x'), w = quantized(node, inputs[3], 'w');
    const xs = scaleOf(node, inputs[1], 'x_scale'), ws = scaleOf(node, inputs[4], 'w_scale'), ys = scaleOf(node, inputs[6], 'y_scale');
    if (xs.length !== 1 || ys.length !== 1) throw opError(node, 'x_scale and y_scale must be scalars (per-tensor quantization)');
    const m = w.dims[0];
    if (ws.length !== 1 && ws.length !== m) throw opError(node, `w_scale has ${ws.length} values; expected 1 or ${m} (per output channel)`);
    // the int32 bias is in the accumulator's scale (x_scale * w_scale)
    const bias = inputs[8];
    if (bias && bias.dtype !== 'int32') throw opError(node, `B is ${bias.dtype}; expected int32`);
    const b64 = bias ? { dtype: 'float64' as const, dims: bias.dims, data: Float64Array.from(bias.data as Int32Array) } : undefined;
    const acc = CONV_OPS.Conv.run(node, [centered(node, x, inputs[2], 'x', 0), centered(node, w, inputs[5], 'w', 0), b64], ctx)[0];
    const mult = Array.from(ws, (s) => (xs[0] * s) / ys[0]);
    return [requantize(node, acc, mult, numel(acc.dims.slice(2)), inputs[7], x.dtype)];
  },
};

export const QUANT_OPS: OpTable = { MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv };
