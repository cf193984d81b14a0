/**
 * Normalizations at inference: BatchNormalization, InstanceNormalization, LRN, LayerNormalization (17),
 * GroupNormalization (18), MeanVarianceNormalization (https://onnx.ai/onnx/operators/, one page each).
 *
 * Plain TypeScript over NCHW with f64 statistics. These are one or two passes over the data: running them on
 * the kernels (scale_shift, lrn_nhwc are NHWC) would add a copy in, two transposes and a copy out, more
 * traffic than the op itself. (A Conv followed by a BatchNormalization is folded into the conv's weights by
 * the planned path of issue 11, not here.)
 */
import { opError, type OpNode, type OpSpec, type OpTable } from './types.js';
import type { OnnxTensor } from '../value.js';
import { numel } from '../value.js';
import { floatInput, floatOutput, type FloatTensor } from './spatial.js';

function epsilon(node: OpNode): number {
  return node.attrs.float('epsilon', 1e-5);
}

function checkEpsilon(node: OpNode): string | undefined {
  const e = epsilon(node);
  return Number.isFinite(e) && e >= 0 ? undefined : `epsilon must be a non-negative number, got ${e}`;
}

/** A parameter input (float32 or float64 at any opset: 15 lets them differ from X) of exactly `dims`. */
function param(node: OpNode, t: OnnxTensor | undefined, what: string, dims: readonly number[]): FloatTensor {
  const p = floatInput(node, t, what);
  if (p.dims.length !== dims.length || p.dims.some((d, i) => d !== dims[i])) {
    throw opError(node, `${what} must be [${dims.join(', ')}], got [${p.dims.join(', ')}]`);
  }
  return p;
}

// ---- BatchNormalization ----

const BatchNormalization: OpSpec = {
  check(node) {
    const why = checkEpsilon(node);
    if (why) return why;
    if (node.attrs.int('training_mode', 0) !== 0) return 'training_mode=1 (batch statistics) is not supported: wasmzoo runs BatchNormalization at inference';
    if (node.opset < 14 && node.outputs.slice(1).some((o) => o)) return 'the running mean/var and saved statistics outputs (training) are not supported';
    // opset 6 and older (for a session that takes them): is_test=0 is training; consumed_inputs is legacy bookkeeping
    if (node.attrs.int('is_test', 1) !== 1) return 'is_test=0 (training) is not supported: wasmzoo runs BatchNormalization at inference';
    const spatial = node.attrs.int('spatial', 1);
    if (spatial !== 0 && spatial !== 1) return `spatial must be 0 or 1, got ${spatial}`;
    if (node.opset >= 9 && node.attrs.has('spatial')) return `the attribute spatial is not part of BatchNormalization at opset ${node.opset}`;
    if (node.inputs.length !== 5) return `needs inputs X, scale, B, input_mean, input_var, got ${node.inputs.length}`;
    return undefined;
  },
  run(node, inputs) {
    const x = floatInput(node, inputs[0], 'X');
    if (x.dims.length < 2) throw opError(node, `X must be [N, C, ...], got [${x.dims.join(', ')}]`);
    // spatial=1 (the default, and the only form from opset 9): one value per channel; spatial=0 (opset 7-8): per element of [C, D1, ...]
    const perElement = node.attrs.int('spatial', 1) === 0;
    const pdims = perElement ? x.dims.slice(1) : [x.dims[1]];
    const [scale, bias, mean, variance] = (['scale', 'B', 'input_mean', 'input_var'] as const).map((n, i) => param(node, inputs[i + 1], n, pdims).data);
    const eps = epsilon(node);
    const p = numel(pdims), inner = numel(x.dims.slice(perElement ? 1 : 2)) / (perElement ? p : 1);
    const sc = new Float64Array(p), sh = new Float64Array(p);
    for (let c = 0; c < p; c++) {
      sc[c] = scale[c] / Math.sqrt(variance[c] + eps);
      sh[c] = bias[c] - mean[c] * sc[c];
    }
    const out = floatOutput(x, [...x.dims]), xd = x.data, y = out.data;
    // X as [N, P, inner]: inner = 1 when every element has its own parameters
    const n = x.dims[0];
    let o = 0;
    for (let b = 0; b < n; b++) for (let c = 0; c < p; c++) {
      const s = sc[c], t = sh[c];
      for (let i = 0; i < inner; i++, o++) y[o] = xd[o] * s + t;
    }
    return [out];
  },
};

// ---- InstanceNormalization ----

const InstanceNormalization: OpSpec = {
  check: (node) => checkEpsilon(node) ?? (node.inputs.length === 3 ? undefined : `needs inputs input, scale, B, got ${node.inputs.length}`),
  run(node, inputs) {
    const x = floatInput(node, inputs[0], 'input');
    if (x.dims.length < 3) throw opError(node, `input must be [N, C, D1, ...], got [${x.dims.join(', ')}]`);
    const [n, c] = x.dims, plane = numel(x.dims.slice(2));
    const scale = param(node, inputs[1], 'scale', [c]).data, bias = param(node, inputs[2], 'B', [c]).data;
    const out = floatOutput(x, [...x.dims]);
    normalizeBlocks(x.data, out.data, n * c, plane, epsilon(node), (blk) => [scale[blk % c], bias[blk % c]]);
    return [out];
  },
};

/**
 * y = (x - mean) * invstd * s + t over `blocks` contiguous blocks of `len` elements, mean and biased variance
 * in f64 (two passes: exact for large means); `affine(block)` gives s and t. Returns means and invstds.
 */
function normalizeBlocks(x: ArrayLike<number>, y: Float32Array | Float64Array, blocks: number, len: number, eps: number,
  affine: ((block: number) => [number, number]) | undefined, inner?: { scale: Float64Array; bias: Float64Array }): [Float64Array, Float64Array] {
  const means = new Float64Array(blocks), invs = new Float64Array(blocks);
  for (let blk = 0; blk < blocks; blk++) {
    const base = blk * len;
    let sum = 0;
    for (let i = 0; i < len; i++) sum += x[base + i];
    const mean = len ? sum / len : 0;
    let sq = 0;
    for (let i = 0; i < len; i++) {
      const d = x[base + i] - mean;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt((len ? sq / len : 0) + eps);
    means[blk] = mean;
    invs[blk] = inv;
    if (inner) {
      for (let i = 0; i < len; i++) y[base + i] = (x[base + i] - mean) * inv * inner.scale[i] + inner.bias[i];
    } else {
      const [s, t] = affine ? affine(blk) : [1, 0];
      for (let i = 0; i < len; i++) y[base + i] = (x[base + i] - mean) * inv * s + t;
    }
  }
  return [means, invs];
}

// ---- LRN ----

const LRN: OpSpec = {
  check(node) {
    const size = node.attrs.int('size');
    if (size === undefined) return 'the attribute size is required';
    if (!Number.isInteger(size) || size < 1) return `size must be a positive integer, got ${size}`;
    return undefined;
  },
  run(node, inputs) {
    const x = floatInput(node, inputs[0], 'X');
    if (x.dims.length < 2) throw opError(node, `X must be [N, C, ...], got [${x.dims.join(', ')}]`);
    const size = node.attrs.int('size', 1), alpha = node.attrs.float('alpha', 1e-4), beta = node.attrs.float('beta', 0.75);
    const bias = node.attrs.float('bias', 1);
    const [n, c] = x.dims, plane = numel(x.dims.slice(2));
    // ONNX's window is [c - floor((size-1)/2), c + ceil((size-1)/2)]: for an even size it reaches one further
    // up than down (PyTorch's LocalResponseNorm reaches one further down)
    const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
    const out = floatOutput(x, [...x.dims]), xd = x.data, y = out.data;
    const sq = new Float64Array(plane);
    for (let b = 0; b < n; b++) {
      const base = b * c * plane;
      for (let ch = 0; ch < c; ch++) {
        sq.fill(0);
        for (let j = Math.max(0, ch - lo); j <= Math.min(c - 1, ch + hi); j++) {
          const off = base + j * plane;
          for (let i = 0; i < plane; i++) sq[i] += xd[off + i] * xd[off + i];
        }
        const off = base + ch * plane;
        for (let i = 0; i < plane; i++) y[off + i] = xd[off + i] / (bias + (alpha / size) * sq[i]) ** beta;
      }
    }
    return [out];
  },
};

// ---- LayerNormalization (opset 17) ----

/** `p` broadcast (numpy rules, right-aligned, unidirectionally) to `dims`, as f64. */
function broadcastTo(node: OpNode, p: FloatTensor, dims: readonly number[], what: string): Float64Array {
  const r = dims.length, pd = p.dims;
  if (pd.length > r) throw opError(node, `${what} [${pd.join(', ')}] does not broadcast to the normalized shape [${dims.join(', ')}]`);
  const full = [...new Array<number>(r - pd.length).fill(1), ...pd];
  if (full.some((d, i) => d !== 1 && d !== dims[i])) throw opError(node, `${what} [${pd.join(', ')}] does not broadcast to the normalized shape [${dims.join(', ')}]`);
  const total = numel(dims), out = new Float64Array(total);
  const strides = new Array<number>(r);
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    strides[i] = full[i] === 1 ? 0 : acc;
    acc *= full[i];
  }
  const idx = new Array<number>(r).fill(0);
  for (let t = 0; t < total; t++) {
    let o = 0;
    for (let i = 0; i < r; i++) o += idx[i] * strides[i];
    out[t] = p.data[o];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

const LayerNormalization: OpSpec = {
  check(node) {
    const why = checkEpsilon(node);
    if (why) return why;
    const st = node.attrs.int('stash_type', 1);
    if (st !== 1) return `stash_type ${st} is not supported (1, float32 statistics, is)`;
    if (node.inputs.length < 2 || node.inputs.length > 3) return `needs inputs X, Scale and an optional B, got ${node.inputs.length}`;
    return undefined;
  },
  run(node, inputs) {
    const x = floatInput(node, inputs[0], 'X');
    const r = x.dims.length;
    let axis = node.attrs.int('axis', -1);
    if (axis < -r || axis >= r) throw opError(node, `axis ${axis} is out of range for X of rank ${r}`);
    if (axis < 0) axis += r;
    const normDims = x.dims.slice(axis), len = numel(normDims), blocks = numel(x.dims.slice(0, axis));
    const scale = broadcastTo(node, floatInput(node, inputs[1], 'Scale'), normDims, 'Scale');
    const bias = inputs[2] ? broadcastTo(node, floatInput(node, inputs[2], 'B'), normDims, 'B') : new Float64Array(len);
    const out = floatOutput(x, [...x.dims]);
    const [means, invs] = normalizeBlocks(x.data, out.data, blocks, len, epsilon(node), undefined, { scale, bias });
    // Mean and InvStdDev: X's dims with the normalized ones set to 1, in the stash type (float32)
    const sdims = [...x.dims.slice(0, axis), ...normDims.map(() => 1)];
    return [out, { dtype: 'float32', dims: sdims, data: Float32Array.from(means) }, { dtype: 'float32', dims: [...sdims], data: Float32Array.from(invs) }];
  },
};

// ---- GroupNormalization (opset 18) ----

const GroupNormalization: OpSpec = {
  check(node) {
    const why = checkEpsilon(node);
    if (why) return why;
    const g = node.attrs.int('num_groups');
    if (g === undefined || !Number.isInteger(g) || g < 1) return `num_groups must be a positive integer, got ${g}`;
    const st = node.attrs.int('stash_type', 1);
    if (st !== 1) return `stash_type ${st} is not supported (1, float32 statistics, is)`;
    if (node.inputs.length !== 3) return `needs inputs X, scale, bias, got ${node.inputs.length}`;
    return undefined;
  },
  run(node, inputs) {
    const x = floatInput(node, inputs[0], 'X');
    if (x.dims.length < 2) throw opError(node, `X must be [N, C, ...], got [${x.dims.join(', ')}]`);
    const g = node.attrs.int('num_groups', 1), [n, c] = x.dims, plane = numel(x.dims.slice(2));
    if (c % g) throw opError(node, `num_groups ${g} does not divide the ${c} channels`);
    // opset 18 gives scale and bias per group ([num_groups]); opset 21 per channel ([C]), taken here too
    const sIn = floatInput(node, inputs[1], 'scale'), bIn = floatInput(node, inputs[2], 'bias');
    const perChannel = sIn.dims.length === 1 && sIn.dims[0] === c && c !== g;
    const pdims = [perChannel ? c : g];
    const scale = param(node, sIn, 'scale', pdims).data, bias = param(node, bIn, 'bias', pdims).data;
    const cg = c / g, len = cg * plane;
    const out = floatOutput(x, [...x.dims]);
    if (!perChannel) normalizeBlocks(x.data, out.data, n * g, len, epsilon(node), (blk) => [scale[blk % g], bias[blk % g]]);
    else {
      const s = new Float64Array(len), t = new Float64Array(len);
      for (let gi = 0; gi < g; gi++) {
        // the inner arrays differ per group: normalize one group of every image at a time
        for (let i = 0; i < len; i++) {
          s[i] = scale[gi * cg + Math.floor(i / plane)];
          t[i] = bias[gi * cg + Math.floor(i / plane)];
        }
        for (let b = 0; b < n; b++) {
          const off = (b * g + gi) * len;
          normalizeBlocks(x.data.subarray(off, off + len), out.data.subarray(off, off + len), 1, len, epsilon(node), undefined, { scale: s, bias: t });
        }
      }
    }
    return [out];
  },
};

// ---- MeanVarianceNormalization (opset 9, 13) ----

const MeanVarianceNormalization: OpSpec = {
  run(node, inputs) {
    const x = floatInput(node, inputs[0], 'X');
    const r = x.dims.length;
    const axes = (node.attrs.ints('axes') ?? [0, 2, 3]).map((a) => (a < 0 ? a + r : a));
    if (axes.some((a) => a < 0 || a >= r) || new Set(axes).size !== axes.length) throw opError(node, `axes [${node.attrs.ints('axes')}] do not fit X of rank ${r}`);
    // every element's group: its index over the axes NOT reduced
    const keep = x.dims.map((_, i) => !axes.includes(i));
    const groups = numel(x.dims.filter((_, i) => keep[i])), n = x.data.length, per = groups ? n / groups : 0;
    const group = new Int32Array(n), idx = new Array<number>(r).fill(0);
    for (let t = 0; t < n; t++) {
      let g = 0;
      for (let i = 0; i < r; i++) if (keep[i]) g = g * x.dims[i] + idx[i];
      group[t] = g;
      for (let i = r - 1; i >= 0; i--) {
        if (++idx[i] < x.dims[i]) break;
        idx[i] = 0;
      }
    }
    const sum = new Float64Array(groups), sq = new Float64Array(groups), xd = x.data;
    for (let t = 0; t < n; t++) sum[group[t]] += xd[t];
    for (let t = 0; t < n; t++) {
      const d = xd[t] - sum[group[t]] / per;
      sq[group[t]] += d * d;
    }
    // the ONNX function: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)
    const out = floatOutput(x, [...x.dims]), y = out.data;
    for (let t = 0; t < n; t++) {
      const g = group[t];
      y[t] = (xd[t] - sum[g] / per) / (Math.sqrt(sq[g] / per) + 1e-9);
    }
    return [out];
  },
};

export const NORM_OPS: OpTable = {
  MeanVarianceNormalization, BatchNormalization, InstanceNormalization, LRN, LayerNormalization, GroupNormalization };
