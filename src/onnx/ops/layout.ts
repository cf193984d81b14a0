/**
 * ONNX ops that rearrange elements (https://onnx.ai/onnx/operators/): Transpose, Concat, Split, Slice, Expand,
 * Tile, Pad, DepthToSpace, SpaceToDepth, Trilu, ReverseSequence. Each reduces to block copies or to a
 * per-axis gather (tensor-util.ts gatherAxes), so every dtype runs. Every bound read from an input is
 * validated before an output is allocated.
 */
import type { OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpTable } from './types.js';
import {
  checkDims, copyRange, elementOf, gatherAxes, intValues, need, normAxes, normAxis, output, rangeMap, strides,
  transposeData, zeroOf, type Elements,
} from './tensor-util.js';

type Inputs = ReadonlyArray<OnnxTensor | undefined>;

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function concat(node: OpNode, inputs: Inputs): OnnxTensor {
  const xs = inputs.map((t, i) => need(node, inputs, i, `input ${i}`));
  if (!xs.length) throw opError(node, 'needs at least one input');
  const first = xs[0], r = first.dims.length;
  const axis = normAxis(node, node.attrs.int('axis') ?? (node.opset < 4 ? 1 : NaN), r);
  let total = 0;
  for (const t of xs) {
    if (t.dtype !== first.dtype) throw opError(node, `inputs mix ${first.dtype} and ${t.dtype}`);
    if (t.dims.length !== r || t.dims.some((d, k) => k !== axis && d !== first.dims[k])) {
      throw opError(node, `input shapes [${first.dims.join(', ')}] and [${t.dims.join(', ')}] differ outside axis ${axis}`);
    }
    total += t.dims[axis];
  }
  const dims = first.dims.map((d, k) => (k === axis ? total : d));
  const out = output(node, first.dtype, dims);
  const outer = prod(dims.slice(0, axis)), inner = prod(dims.slice(axis + 1));
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of xs) {
      const block = t.dims[axis] * inner;
      copyRange(out.data, off, t.data, o * block, block);
      off += block;
    }
  }
  return out;
}

function split(node: OpNode, inputs: Inputs): OnnxTensor[] {
  const x = need(node, inputs, 0, 'input');
  const axis = normAxis(node, node.attrs.int('axis', 0), x.dims.length);
  const d = x.dims[axis], nOut = node.outputs.length;
  // split is an attribute before opset 13, an input from 13; num_outputs arrives at 18
  let parts = node.opset < 13 ? node.attrs.ints('split') : inputs[1] ? intValues(node, inputs[1], 'split') : undefined;
  if (parts && parts.length === 0) parts = undefined;
  if (!parts) {
    const n = node.opset >= 18 ? node.attrs.int('num_outputs') ?? nOut : nOut;
    if (n !== nOut || n < 1) throw opError(node, `num_outputs ${n} but the node has ${nOut} outputs`);
    // uneven: ceil-sized chunks, the last one smaller
    const chunk = d % n === 0 ? d / n : Math.floor(d / n) + 1;
    parts = new Array<number>(n).fill(chunk);
    parts[n - 1] = d - chunk * (n - 1);
  }
  if (parts.length !== nOut || parts.some((p) => !Number.isSafeInteger(p) || p < 0) || parts.reduce((a, b) => a + b, 0) !== d) {
    throw opError(node, `split [${parts.join(', ')}] does not cut dim ${d} of axis ${axis} into ${nOut} outputs`);
  }
  const outer = prod(x.dims.slice(0, axis)), inner = prod(x.dims.slice(axis + 1));
  let start = 0;
  return parts.map((p) => {
    const out = output(node, x.dtype, x.dims.map((v, k) => (k === axis ? p : v)));
    for (let o = 0; o < outer; o++) copyRange(out.data, o * p * inner, x.data, (o * d + start) * inner, p * inner);
    start += p;
    return out;
  });
}

function slice(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data');
  const r = x.dims.length;
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (node.opset < 10) {
    starts = node.attrs.ints('starts') ?? [];
    ends = node.attrs.ints('ends') ?? [];
    axes = node.attrs.ints('axes');
  } else {
    starts = intValues(node, need(node, inputs, 1, 'starts'), 'starts');
    ends = intValues(node, need(node, inputs, 2, 'ends'), 'ends');
    axes = inputs[3] ? intValues(node, inputs[3], 'axes') : undefined;
    steps = inputs[4] ? intValues(node, inputs[4], 'steps') : undefined;
  }
  const n = starts.length;
  if (ends.length !== n || (axes && axes.length !== n) || (steps && steps.length !== n)) {
    throw opError(node, `starts, ends, axes and steps have different lengths (${n}, ${ends.length}, ${axes?.length ?? '-'}, ${steps?.length ?? '-'})`);
  }
  const ax = normAxes(node, axes ?? starts.map((_, i) => i), r);
  const st = strides(x.dims);
  const dims = [...x.dims];
  const maps = x.dims.map((d, k) => rangeMap(d, st[k]));
  ax.forEach((a, i) => {
    const d = x.dims[a], step = steps ? steps[i] : 1;
    if (step === 0) throw opError(node, `step of axis ${a} is 0`);
    let s = starts[i], e = ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    // clamp as the spec: [0, d] going forward, [-1, d - 1] going backward (INT64_MAX/MIN ends land here)
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const len = Math.max(0, Math.ceil((e - s) / step));
    dims[a] = len;
    maps[a] = rangeMap(len, st[a], s, step);
  });
  const out = output(node, x.dtype, dims);
  gatherAxes(x.data, out.data, dims, maps);
  return out;
}

/** Numpy-style broadcast of two shapes, or an E_ONNX error. */
function broadcast(node: OpNode, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw opError(node, `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function expand(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input');
  const shape = intValues(node, need(node, inputs, 1, 'shape'), 'shape');
  checkDims(node, shape, 'shape');
  const dims = checkDims(node, broadcast(node, x.dims, shape));
  const st = strides(x.dims), lead = dims.length - x.dims.length;
  const maps = dims.map((d, k) => (k < lead || x.dims[k - lead] === 1 ? new Int32Array(d) : rangeMap(d, st[k - lead])));
  const out = output(node, x.dtype, dims);
  gatherAxes(x.data, out.data, dims, maps);
  return out;
}

function tile(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input');
  const reps = intValues(node, need(node, inputs, 1, 'repeats'), 'repeats');
  if (reps.length !== x.dims.length) throw opError(node, `repeats has ${reps.length} entries for an input of rank ${x.dims.length}`);
  checkDims(node, reps, 'repeats');
  const dims = checkDims(node, x.dims.map((d, k) => d * reps[k]));
  const st = strides(x.dims);
  const maps = dims.map((d, k) => {
    const m = new Int32Array(d);
    for (let j = 0; j < d; j++) m[j] = (j % x.dims[k]) * st[k];
    return m;
  });
  const out = output(node, x.dtype, dims);
  gatherAxes(x.data, out.data, dims, maps);
  return out;
}

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'];

function pad(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'data');
  const r = x.dims.length;
  const mode = node.attrs.string('mode', 'constant');
  let pads: number[], fill: unknown;
  let axes: number[] | undefined;
  if (node.opset < 11) {
    pads = node.attrs.ints('pads') ?? node.attrs.ints('paddings') ?? [];
    fill = x.dtype === 'string' ? '' : elementOf(x.dtype, node.attrs.float('value', 0));
  } else {
    pads = intValues(node, need(node, inputs, 1, 'pads'), 'pads');
    const cv = inputs[2];
    if (cv && cv.data.length > 0 && cv.dtype !== x.dtype) throw opError(node, `constant_value is ${cv.dtype}, data is ${x.dtype}`);
    fill = cv && cv.data.length > 0 ? cv.data[0] : zeroOf(x.dtype);
    if (node.opset >= 18 && inputs[3]) axes = normAxes(node, intValues(node, inputs[3], 'axes'), r);
  }
  const ax = axes ?? x.dims.map((_, k) => k);
  if (pads.length !== 2 * ax.length) throw opError(node, `pads has ${pads.length} entries, expected ${2 * ax.length}`);
  const begin = new Array<number>(r).fill(0), end = new Array<number>(r).fill(0);
  ax.forEach((a, i) => {
    begin[a] = pads[i];
    end[a] = pads[i + ax.length];
  });
  const dims = x.dims.map((d, k) => d + begin[k] + end[k]);
  for (let k = 0; k < r; k++) {
    if (!(dims[k] >= 0)) throw opError(node, `pads [${pads.join(', ')}] crop axis ${k} of [${x.dims.join(', ')}] below zero`);
    if (x.dims[k] === 0 && dims[k] > 0 && mode !== 'constant') throw opError(node, `${mode} padding of the empty axis ${k}`);
  }
  checkDims(node, dims); // before the per-axis maps, which are as long as the output dims
  const st = strides(x.dims);
  const maps = dims.map((n, k) => {
    const d = x.dims[k], m = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      let i = j - begin[k];
      if (i < 0 || i >= d) {
        if (mode === 'constant') {
          m[j] = -1;
          continue;
        }
        if (mode === 'edge') i = i < 0 ? 0 : d - 1;
        else if (mode === 'wrap') i = ((i % d) + d) % d;
        else if (d === 1) i = 0;
        else {
          // reflect without repeating the edge, as numpy's 'reflect': period 2(d - 1)
          const p = 2 * (d - 1), q = ((i % p) + p) % p;
          i = q < d ? q : p - q;
        }
      }
      m[j] = i * st[k];
    }
    return m;
  });
  const out = output(node, x.dtype, dims);
  gatherAxes(x.data, out.data, dims, maps, fill);
  return out;
}

function depthToSpace(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input');
  const b = node.attrs.int('blocksize', 0);
  if (x.dims.length !== 4) throw opError(node, `input must be 4-D (N, C, H, W), got [${x.dims.join(', ')}]`);
  const [n, c, h, w] = x.dims;
  if (!(b >= 1) || c % (b * b) !== 0) throw opError(node, `blocksize ${b} does not divide ${c} channels into blocks of ${b}x${b}`);
  const cb = c / (b * b);
  // DCR: channels are (block row, block col, channel); CRD: (channel, block row, block col)
  const crd = node.attrs.string('mode', 'DCR') === 'CRD';
  const v: OnnxTensor = { ...x, dims: crd ? [n, cb, b, b, h, w] : [n, b, b, cb, h, w] };
  const t = transposeData(node, v, crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]);
  return { ...t, dims: [n, cb, h * b, w * b] };
}

function spaceToDepth(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input');
  const b = node.attrs.int('blocksize', 0);
  if (x.dims.length !== 4) throw opError(node, `input must be 4-D (N, C, H, W), got [${x.dims.join(', ')}]`);
  const [n, c, h, w] = x.dims;
  if (!(b >= 1) || h % b !== 0 || w % b !== 0) throw opError(node, `blocksize ${b} does not divide H ${h} and W ${w}`);
  const v: OnnxTensor = { ...x, dims: [n, c, h / b, b, w / b, b] };
  const t = transposeData(node, v, [0, 3, 5, 1, 2, 4]);
  return { ...t, dims: [n, c * b * b, h / b, w / b] };
}

function trilu(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input');
  if (x.dims.length < 2) throw opError(node, `input must have rank >= 2, got [${x.dims.join(', ')}]`);
  const k = inputs[1] ? intValues(node, inputs[1], 'k')[0] ?? 0 : 0;
  const upper = node.attrs.int('upper', 1) !== 0;
  const out = output(node, x.dtype, x.dims);
  const [h, w] = x.dims.slice(-2);
  const s = x.data as Elements, o = out.data as Elements;
  const zero = zeroOf(x.dtype);
  for (let base = 0; base < s.length; base += h * w) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const keep = upper ? j - i >= k : j - i <= k;
        o[base + i * w + j] = keep ? s[base + i * w + j] : zero;
      }
    }
  }
  return out;
}

function reverseSequence(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'input');
  const lens = intValues(node, need(node, inputs, 1, 'sequence_lens'), 'sequence_lens');
  const r = x.dims.length;
  if (r < 2) throw opError(node, `input must have rank >= 2, got [${x.dims.join(', ')}]`);
  const ta = normAxis(node, node.attrs.int('time_axis', 0), 2, 'time_axis'), ba = normAxis(node, node.attrs.int('batch_axis', 1), 2, 'batch_axis');
  if (ta === ba) throw opError(node, 'time_axis and batch_axis are the same');
  const t = x.dims[ta], b = x.dims[ba];
  if (lens.length !== b) throw opError(node, `sequence_lens has ${lens.length} entries for batch ${b}`);
  for (const l of lens) if (!(l >= 0 && l <= t)) throw opError(node, `sequence length ${l} is outside [0, ${t}]`);
  const st = strides(x.dims), inner = st[1];
  const out = output(node, x.dtype, x.dims);
  const s = x.data as Elements, o = out.data as Elements;
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti < t; ti++) {
      const src = ti < lens[bi] ? lens[bi] - 1 - ti : ti;
      const dOff = ti * st[ta] + bi * st[ba], sOff = src * st[ta] + bi * st[ba];
      for (let i = 0; i < inner; i++) o[dOff + i] = s[sOff + i];
    }
  }
  return out;
}

export const LAYOUT_OPS: OpTable = {
  Transpose: {
    run(node, inputs) {
      const x = need(node, inputs, 0, 'data');
      const r = x.dims.length;
      const perm = node.attrs.ints('perm') ?? x.dims.map((_, k) => r - 1 - k);
      const p = normAxes(node, perm, r, 'perm');
      if (p.length !== r) throw opError(node, `perm [${perm.join(', ')}] is not a permutation of ${r} axes`);
      return [transposeData(node, x, p)];
    },
  },
  Concat: { run: (node, inputs) => [concat(node, inputs)] },
  Split: { run: split },
  Slice: { run: (node, inputs) => [slice(node, inputs)] },
  Expand: { run: (node, inputs) => [expand(node, inputs)] },
  Tile: { run: (node, inputs) => [tile(node, inputs)] },
  Pad: {
    check(node) {
      const mode = node.attrs.string('mode', 'constant');
      if (!PAD_MODES.includes(mode)) return `mode '${mode}' is not one of ${PAD_MODES.join(', ')}`;
      return undefined;
    },
    run: (node, inputs) => [pad(node, inputs)],
  },
  DepthToSpace: {
    check(node) {
      const mode = node.attrs.string('mode', 'DCR');
      if (mode !== 'DCR' && mode !== 'CRD') return `mode '${mode}' is not DCR or CRD`;
      return undefined;
    },
    run: (node, inputs) => [depthToSpace(node, inputs)],
  },
  SpaceToDepth: { run: (node, inputs) => [spaceToDepth(node, inputs)] },
  Trilu: { run: (node, inputs) => [trilu(node, inputs)] },
  ReverseSequence: { run: (node, inputs) => [reverseSequence(node, inputs)] },
};
