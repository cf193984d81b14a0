/**
 * ONNX ops that make tensors or change only their shape (https://onnx.ai/onnx/operators/): Constant,
 * ConstantOfShape, Shape, Size, Identity, Dropout (inference), Flatten, Reshape, Squeeze, Unsqueeze, Range,
 * EyeLike. They move data without reading it, so they run every dtype. TENSOR_OPS also carries the layout
 * (layout.ts), indexing (index-ops.ts), resizing (resize.ts) and Einsum (einsum.ts) families, so the op index
 * registers the whole data-movement set with one spread.
 */
import { WasmzooError } from '../../index.js';
import { DTYPE_BY_CODE, numel, type OnnxDType, type OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpTable } from './types.js';
import { checkDims, copyAs, elementOf, intValues, need, normAxes, normAxis, output, scalarValue, fromFloat64, type Elements } from './tensor-util.js';
import { LAYOUT_OPS } from './layout.js';
import { INDEX_OPS } from './index-ops.js';
import { RESIZE_OPS } from './resize.js';
import { EINSUM_OPS } from './einsum.js';

const CONSTANT_ATTRS = ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value'];

function constantValue(node: OpNode): OnnxTensor {
  const a = node.attrs;
  const t = a.tensor('value');
  if (t) return copyAs(t);
  const f = a.float('value_float');
  if (f !== undefined) return { dtype: 'float32', dims: [], data: new Float32Array([f]) };
  const fs = a.floats('value_floats');
  if (fs) return { dtype: 'float32', dims: [fs.length], data: new Float32Array(fs) };
  const i = a.int('value_int');
  if (i !== undefined) return { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(i)]) };
  const is = a.ints('value_ints');
  if (is) return { dtype: 'int64', dims: [is.length], data: new BigInt64Array(is.map((v) => BigInt(v))) };
  const s = a.string('value_string');
  if (a.has('value_string')) return { dtype: 'string', dims: [], data: [s ?? ''] };
  const ss = a.strings('value_strings');
  if (ss) return { dtype: 'string', dims: [ss.length], data: ss };
  throw opError(node, 'has no value attribute');
}

/** The dims of a Squeeze/Unsqueeze axes list: an attribute before opset 13, an optional input from 13. */
function axesOf(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>): number[] | undefined {
  if (node.opset < 13) return node.attrs.ints('axes');
  return inputs[1] ? intValues(node, inputs[1], 'axes') : undefined;
}

function dropout(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>): OnnxTensor[] {
  const x = need(node, inputs, 0, 'data');
  if (node.opset >= 12 && inputs[2]) {
    const training = scalarValue(node, inputs[2], 'training_mode') !== 0;
    const ratio = inputs[1] ? scalarValue(node, inputs[1], 'ratio') : 0.5;
    // a zero ratio in training is still the identity; anything else draws random numbers, which a reference
    // executor cannot reproduce: refuse rather than return a different random draw than the caller expects
    if (training && ratio !== 0) throw new WasmzooError('E_UNSUPPORTED', `onnx: Dropout '${node.name}': training_mode is true with ratio ${ratio}: wasmzoo runs Dropout for inference only`);
  }
  const outs = [copyAs(x)];
  if (node.outputs.length > 1 && node.outputs[1]) {
    // the mask is bool from opset 10, the input's type before
    const mdt: OnnxDType = node.opset >= 10 ? 'bool' : x.dtype;
    const mask = output(node, mdt, x.dims);
    (mask.data as Elements & { fill(v: unknown): void }).fill(elementOf(mdt, 1));
    outs.push(mask);
  }
  return outs;
}

function reshape(node: OpNode, x: OnnxTensor, shape: number[]): OnnxTensor {
  const allowzero = node.opset >= 14 ? node.attrs.int('allowzero', 0) : 0;
  const dims: number[] = [];
  let infer = -1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw opError(node, `shape [${shape.join(', ')}] has more than one -1`);
      infer = i;
      dims.push(1);
    } else if (d === 0 && !allowzero) {
      if (i >= x.dims.length) throw opError(node, `shape [${shape.join(', ')}] copies dim ${i} (0) of an input of rank ${x.dims.length}`);
      dims.push(x.dims[i]);
    } else if (!Number.isSafeInteger(d) || d < -1) throw opError(node, `shape [${shape.join(', ')}] has a bad dim ${d}`);
    else dims.push(d);
  });
  const n = numel(x.dims);
  if (infer >= 0) {
    if (allowzero && shape.includes(0)) throw opError(node, `shape [${shape.join(', ')}] has both -1 and 0 with allowzero=1`);
    const rest = numel(dims);
    if (rest === 0 ? n !== 0 : n % rest !== 0) throw opError(node, `cannot reshape [${x.dims.join(', ')}] (${n} elements) to [${shape.join(', ')}]`);
    dims[infer] = rest === 0 ? 0 : n / rest;
  }
  if (numel(dims) !== n) throw opError(node, `cannot reshape [${x.dims.join(', ')}] (${n} elements) to [${dims.join(', ')}]`);
  return copyAs(x, dims);
}

function range(node: OpNode, inputs: ReadonlyArray<OnnxTensor | undefined>): OnnxTensor {
  const s = need(node, inputs, 0, 'start'), l = need(node, inputs, 1, 'limit'), d = need(node, inputs, 2, 'delta');
  if (s.dtype !== l.dtype || s.dtype !== d.dtype) throw opError(node, `start, limit and delta must share a dtype, got ${s.dtype}, ${l.dtype}, ${d.dtype}`);
  const start = scalarValue(node, s, 'start'), limit = scalarValue(node, l, 'limit'), delta = scalarValue(node, d, 'delta');
  if (delta === 0 || !Number.isFinite(delta)) throw opError(node, `delta is ${delta}`);
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  if (!(count <= 2 ** 31)) throw opError(node, `range(${start}, ${limit}, ${delta}) has more than 2^31 elements`);
  // the spec's formula: start + i * delta (not a running sum, which drifts)
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = start + i * delta;
  return { dtype: s.dtype, dims: [count], data: fromFloat64(s.dtype, out) };
}

export const TENSOR_OPS: OpTable = {
  Constant: {
    check(node) {
      const set = CONSTANT_ATTRS.filter((k) => node.attrs.has(k));
      if (set.includes('sparse_value')) return 'sparse_value (a sparse tensor) is not supported';
      if (set.length !== 1) return `needs exactly one of ${CONSTANT_ATTRS.join(', ')}, has ${set.length ? set.join(', ') : 'none'}`;
      return undefined;
    },
    run: (node) => [constantValue(node)],
  },
  ConstantOfShape: {
    check(node) {
      const v = node.attrs.tensor('value');
      if (v && v.data.length !== 1) return `value must have one element, has ${v.data.length}`;
      return undefined;
    },
    run(node, inputs) {
      const dims = intValues(node, need(node, inputs, 0, 'input'), 'shape');
      const v = node.attrs.tensor('value') ?? { dtype: 'float32', dims: [1], data: new Float32Array(1) };
      const out = output(node, v.dtype, dims);
      (out.data as Elements & { fill(v: unknown): void }).fill(v.data[0]);
      return [out];
    },
  },
  Shape: {
    run(node, inputs) {
      const x = need(node, inputs, 0, 'data');
      const r = x.dims.length;
      let start = 0, end = r;
      if (node.opset >= 15) {
        const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
        start = clamp(node.attrs.int('start', 0));
        end = clamp(node.attrs.int('end') ?? r);
      }
      const dims = x.dims.slice(start, Math.max(start, end));
      return [{ dtype: 'int64', dims: [dims.length], data: new BigInt64Array(dims.map((d) => BigInt(d))) }];
    },
  },
  Size: {
    run: (node, inputs) => [{ dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(numel(need(node, inputs, 0, 'data').dims))]) }],
  },
  Identity: { run: (node, inputs) => [copyAs(need(node, inputs, 0, 'input'))] },
  Dropout: { run: dropout },
  Flatten: {
    run(node, inputs) {
      const x = need(node, inputs, 0, 'input');
      const r = x.dims.length;
      const a = node.attrs.int('axis', 1);
      // axis is in [-r, r]: r puts everything in the first dim
      const axis = a === r ? r : normAxis(node, a, r);
      return [copyAs(x, [numel(x.dims.slice(0, axis)), numel(x.dims.slice(axis))])];
    },
  },
  Reshape: {
    run(node, inputs) {
      const x = need(node, inputs, 0, 'data');
      // opset 5 moved shape from an attribute to an input
      const shape = node.opset < 5 ? node.attrs.ints('shape') ?? [] : intValues(node, need(node, inputs, 1, 'shape'), 'shape');
      return [reshape(node, x, shape)];
    },
  },
  Squeeze: {
    run(node, inputs) {
      const x = need(node, inputs, 0, 'data');
      const given = axesOf(node, inputs);
      const axes = given ? normAxes(node, given, x.dims.length) : x.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      for (const a of axes) if (x.dims[a] !== 1) throw opError(node, `cannot squeeze axis ${a} of shape [${x.dims.join(', ')}]: it is not 1`);
      return [copyAs(x, x.dims.filter((_, i) => !axes.includes(i)))];
    },
  },
  Unsqueeze: {
    run(node, inputs) {
      const x = need(node, inputs, 0, 'data');
      const given = axesOf(node, inputs);
      if (!given) throw opError(node, 'axes is required');
      const rank = x.dims.length + given.length;
      const axes = normAxes(node, given, rank);
      const dims: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[j++]);
      return [copyAs(x, dims)];
    },
  },
  Range: { run: (node, inputs) => [range(node, inputs)] },
  EyeLike: {
    check(node) {
      const code = node.attrs.int('dtype');
      if (code !== undefined && (!DTYPE_BY_CODE[code] || DTYPE_BY_CODE[code] === 'string')) return `dtype ${code} is not supported`;
      return undefined;
    },
    run(node, inputs) {
      const x = need(node, inputs, 0, 'input');
      if (x.dims.length !== 2) throw opError(node, `input must be 2-D, got shape [${x.dims.join(', ')}]`);
      const code = node.attrs.int('dtype');
      const dtype = code !== undefined ? DTYPE_BY_CODE[code] : x.dtype;
      const k = node.attrs.int('k', 0);
      const [h, w] = x.dims;
      const out = output(node, dtype, checkDims(node, [h, w]));
      const one = elementOf(dtype, 1), d = out.data as Elements;
      for (let i = 0; i < h; i++) if (i + k >= 0 && i + k < w) d[i * w + i + k] = one;
      return [out];
    },
  },
  ...LAYOUT_OPS,
  ...INDEX_OPS,
  ...RESIZE_OPS,
  ...EINSUM_OPS,
};
