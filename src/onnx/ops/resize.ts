/**
 * ONNX Resize (opsets 10, 11, 13, 18) and the deprecated Upsample (opsets 7, 9)
 * (https://onnx.ai/onnx/operators/onnx__Resize.html).
 *
 * Resizing is separable: each resized axis is interpolated in turn (in float64, as ONNX's reference does),
 * from a per-output-coordinate table of source taps and weights. Nearest mode is a pure index map and keeps
 * every dtype exact. The coordinate transforms follow the spec's formulas with output_width = scale *
 * input_width (a float when scales are given), the same as the reference that wrote the conformance data.
 * Opset 10 Resize and Upsample have no coordinate_transformation_mode: they map asymmetrically, and their
 * nearest pixel is the floor when upsampling and the ceiling when downsampling, as onnxruntime does.
 */
import type { OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpTable } from './types.js';
import { checkDims, elementOf, fromFloat64, gatherAxes, intValues, need, normAxes, output, strides, toFloat64 } from './tensor-util.js';

type Inputs = ReadonlyArray<OnnxTensor | undefined>;

const COORD_MODES = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize', 'tf_half_pixel_for_nn'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const ASPECT_POLICIES = ['stretch', 'not_larger', 'not_smaller'];

interface ResizeOptions {
  mode: string;
  coord: string;
  /** 'simple' = opset 10 / Upsample: floor when upsampling, ceil when downsampling. */
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
}

/** Where output coordinate y of an axis reads in the input (fractional), or NaN when it extrapolates. */
function sourceCoord(o: ResizeOptions, y: number, scale: number, inW: number, outInt: number, roi0: number, roi1: number): number {
  const outW = scale * inW;
  switch (o.coord) {
    case 'align_corners': return outW === 1 ? 0 : (y * (inW - 1)) / (outW - 1);
    case 'asymmetric': return y / scale;
    case 'tf_half_pixel_for_nn': return (y + 0.5) / scale; // opsets 11 and 13 only
    case 'pytorch_half_pixel': return outW === 1 ? -0.5 : (y + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inW / 2) * (1 - outInt / outW);
      return offset + (y + 0.5) / scale - 0.5;
    }
    case 'tf_crop_and_resize': {
      const x = (outW === 1 ? ((roi1 - roi0) * (inW - 1)) / 2 : (y * (roi1 - roi0) * (inW - 1)) / (outW - 1)) + roi0 * (inW - 1);
      return x < 0 || x > inW - 1 ? NaN : x;
    }
    default: return (y + 0.5) / scale - 0.5; // half_pixel
  }
}

function nearestIndex(o: ResizeOptions, x: number, scale: number): number {
  const f = Math.floor(x), d = x - f;
  switch (o.nearest) {
    case 'simple': return scale < 1 ? Math.ceil(x) : f;
    case 'floor': return f;
    case 'ceil': return Math.ceil(x);
    case 'round_prefer_ceil': return d >= 0.5 ? f + 1 : f;
    default: return d > 0.5 ? f + 1 : f; // round_prefer_floor
  }
}

function cubicWeights(t: number, a: number): number[] {
  const w = (x: number) => {
    x = Math.abs(x);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
  return [w(t + 1), w(t), w(1 - t), w(2 - t)];
}

/** Interpolate axis `axis` of float64 `data` (dims) to `outN` coordinates: linear (2 taps) or cubic (4 taps). */
function interpolateAxis(data: Float64Array, dims: number[], axis: number, outN: number, scale: number, roi: [number, number], o: ResizeOptions): Float64Array {
  const inW = dims[axis], taps = o.mode === 'cubic' ? 4 : 2;
  const idx = new Int32Array(outN * taps), wts = new Float64Array(outN * taps), ext = new Uint8Array(outN);
  for (let y = 0; y < outN; y++) {
    const x = sourceCoord(o, y, scale, inW, outN, roi[0], roi[1]);
    if (Number.isNaN(x)) {
      ext[y] = 1;
      continue;
    }
    const f = Math.floor(x), t = x - f;
    const first = taps === 4 ? f - 1 : f;
    const w = taps === 4 ? cubicWeights(t, o.cubicA) : [1 - t, t];
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const i = first + k;
      // exclude_outside drops taps beyond the edge and renormalises; otherwise the edge value repeats
      if (o.excludeOutside && (i < 0 || i >= inW)) w[k] = 0;
      sum += w[k];
    }
    for (let k = 0; k < taps; k++) {
      idx[y * taps + k] = Math.min(Math.max(first + k, 0), inW - 1);
      wts[y * taps + k] = o.excludeOutside && sum !== 0 ? w[k] / sum : w[k];
    }
  }
  let outer = 1, inner = 1;
  for (let k = 0; k < axis; k++) outer *= dims[k];
  for (let k = axis + 1; k < dims.length; k++) inner *= dims[k];
  const out = new Float64Array(outer * outN * inner);
  for (let p = 0; p < outer; p++) {
    const src = p * inW * inner, dst = p * outN * inner;
    for (let y = 0; y < outN; y++) {
      const row = dst + y * inner;
      if (ext[y]) {
        out.fill(o.extrapolation, row, row + inner);
        continue;
      }
      for (let k = 0; k < taps; k++) {
        const w = wts[y * taps + k];
        if (w === 0) continue;
        const from = src + idx[y * taps + k] * inner;
        for (let i = 0; i < inner; i++) out[row + i] += w * data[from + i];
      }
    }
  }
  return out;
}

/** Resize `x` to `outDims` with per-axis `scales` (already expanded to the full rank) and `roi` pairs. */
function resample(node: OpNode, x: OnnxTensor, outDims: number[], scales: number[], roi: Array<[number, number]>, o: ResizeOptions): OnnxTensor {
  checkDims(node, outDims);
  for (let k = 0; k < outDims.length; k++) {
    if (x.dims[k] === 0 && outDims[k] > 0) throw opError(node, `cannot resize the empty axis ${k} of [${x.dims.join(', ')}] to ${outDims[k]}`);
  }
  const changes = (k: number) => scales[k] !== 1 || outDims[k] !== x.dims[k] || (o.coord === 'tf_crop_and_resize' && (roi[k][0] !== 0 || roi[k][1] !== 1));
  if (o.mode === 'nearest') {
    const st = strides(x.dims);
    const maps = outDims.map((n, k) => {
      const m = new Int32Array(n);
      for (let y = 0; y < n; y++) {
        if (!changes(k)) {
          m[y] = y * st[k];
          continue;
        }
        const s = sourceCoord(o, y, scales[k], x.dims[k], n, roi[k][0], roi[k][1]);
        m[y] = Number.isNaN(s) ? -1 : Math.min(Math.max(nearestIndex(o, s, scales[k]), 0), x.dims[k] - 1) * st[k];
      }
      return m;
    });
    const out = output(node, x.dtype, outDims);
    gatherAxes(x.data, out.data, outDims, maps, elementOf(x.dtype, o.extrapolation));
    return out;
  }
  if (x.dtype === 'string' || x.dtype === 'bool') throw opError(node, `${o.mode} resizing of ${x.dtype}`);
  let data = toFloat64(x), dims = [...x.dims];
  for (let k = 0; k < dims.length; k++) {
    if (!changes(k)) continue;
    data = interpolateAxis(data, dims, k, outDims[k], scales[k], roi[k], o);
    dims = dims.map((d, j) => (j === k ? outDims[k] : d));
  }
  return { dtype: x.dtype, dims, data: fromFloat64(x.dtype, data) };
}

/** A float tensor's values, or undefined when the input is absent or empty (the spec's "not given"). */
function given(t: OnnxTensor | undefined): Float64Array | undefined {
  return t && t.data.length > 0 ? toFloat64(t) : undefined;
}

function checkScales(node: OpNode, scales: ArrayLike<number>, rank: number): number[] {
  const s = Array.from(scales);
  if (s.length !== rank) throw opError(node, `scales has ${s.length} entries for ${rank} axes`);
  for (const v of s) if (!(v > 0 && Number.isFinite(v))) throw opError(node, `scale ${v} is not a positive number`);
  return s;
}

function resize(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'X');
  const r = x.dims.length, a = node.attrs;
  if (node.opset < 11) {
    const scales = checkScales(node, toFloat64(need(node, inputs, 1, 'scales')), r);
    const o: ResizeOptions = { mode: a.string('mode', 'nearest'), coord: 'asymmetric', nearest: 'simple', cubicA: -0.75, excludeOutside: false, extrapolation: 0 };
    return resample(node, x, x.dims.map((d, k) => Math.floor(d * scales[k])), scales, x.dims.map(() => [0, 1]), o);
  }
  const o: ResizeOptions = {
    mode: a.string('mode', 'nearest'), coord: a.string('coordinate_transformation_mode', 'half_pixel'),
    nearest: a.string('nearest_mode', 'round_prefer_floor'), cubicA: a.float('cubic_coeff_a', -0.75),
    excludeOutside: a.int('exclude_outside', 0) !== 0, extrapolation: a.float('extrapolation_value', 0),
  };
  const axesAttr = node.opset >= 18 ? a.ints('axes') : undefined;
  const axes = axesAttr ? normAxes(node, axesAttr, r) : x.dims.map((_, k) => k);
  const roiIn = given(inputs[1]), scalesIn = given(inputs[2]);
  const sizesIn = inputs[3] && inputs[3].data.length > 0 ? intValues(node, inputs[3], 'sizes') : undefined;
  if (scalesIn && sizesIn) throw opError(node, 'scales and sizes are both given; the spec allows one');
  if (!scalesIn && !sizesIn) throw opError(node, 'needs scales or sizes');
  const roi: Array<[number, number]> = x.dims.map(() => [0, 1]);
  if (roiIn && o.coord === 'tf_crop_and_resize') {
    if (roiIn.length !== 2 * axes.length) throw opError(node, `roi has ${roiIn.length} entries, expected ${2 * axes.length}`);
    axes.forEach((ax, i) => { roi[ax] = [roiIn[i], roiIn[i + axes.length]]; });
  }
  const scales = x.dims.map(() => 1), outDims = [...x.dims];
  if (scalesIn) {
    const s = checkScales(node, scalesIn, axes.length);
    axes.forEach((ax, i) => {
      scales[ax] = s[i];
      outDims[ax] = Math.floor(x.dims[ax] * s[i]);
    });
  } else {
    const sizes = sizesIn!;
    if (sizes.length !== axes.length) throw opError(node, `sizes has ${sizes.length} entries for ${axes.length} axes`);
    checkDims(node, sizes, 'sizes');
    axes.forEach((ax, i) => {
      outDims[ax] = sizes[i];
      scales[ax] = sizes[i] / x.dims[ax];
    });
    const policy = node.opset >= 18 ? a.string('keep_aspect_ratio_policy', 'stretch') : 'stretch';
    if (policy !== 'stretch') {
      const picked = axes.map((ax) => scales[ax]);
      const s = policy === 'not_larger' ? Math.min(...picked) : Math.max(...picked);
      for (const ax of axes) {
        scales[ax] = s;
        outDims[ax] = Math.floor(s * x.dims[ax] + 0.5); // round half up, as the spec says
      }
    }
  }
  return resample(node, x, outDims, scales, roi, o);
}

function upsample(node: OpNode, inputs: Inputs): OnnxTensor {
  const x = need(node, inputs, 0, 'X');
  // scales is an attribute at opset 7, an input from 9
  const raw = node.opset < 9 ? node.attrs.floats('scales') ?? [] : toFloat64(need(node, inputs, 1, 'scales'));
  const scales = checkScales(node, raw, x.dims.length);
  const o: ResizeOptions = { mode: node.attrs.string('mode', 'nearest'), coord: 'asymmetric', nearest: 'simple', cubicA: -0.75, excludeOutside: false, extrapolation: 0 };
  return resample(node, x, x.dims.map((d, k) => Math.floor(d * scales[k])), scales, x.dims.map(() => [0, 1]), o);
}

function checkResize(node: OpNode): string | undefined {
  const a = node.attrs;
  const mode = a.string('mode', 'nearest');
  const modes = node.opset < 11 ? ['nearest', 'linear'] : ['nearest', 'linear', 'cubic'];
  if (!modes.includes(mode)) return `mode '${mode}' is not one of ${modes.join(', ')} (opset ${node.opset})`;
  if (node.opset < 11) return undefined;
  const coord = a.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORD_MODES.includes(coord)) return `coordinate_transformation_mode '${coord}' is not one of ${COORD_MODES.join(', ')}`;
  const nearest = a.string('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest)) return `nearest_mode '${nearest}' is not one of ${NEAREST_MODES.join(', ')}`;
  if (node.opset >= 18) {
    if (a.int('antialias', 0) !== 0) return 'antialias=1 is not supported';
    const policy = a.string('keep_aspect_ratio_policy', 'stretch');
    if (!ASPECT_POLICIES.includes(policy)) return `keep_aspect_ratio_policy '${policy}' is not one of ${ASPECT_POLICIES.join(', ')}`;
  }
  return undefined;
}

export const RESIZE_OPS: OpTable = {
  Resize: { check: checkResize, run: (node, inputs) => [resize(node, inputs)] },
  Upsample: {
    check(node) {
      const mode = node.attrs.string('mode', 'nearest');
      if (mode !== 'nearest' && mode !== 'linear') return `mode '${mode}' is not nearest or linear`;
      return undefined;
    },
    run: (node, inputs) => [upsample(node, inputs)],
  },
};
