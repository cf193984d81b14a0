/**
 * Bilinear resizing of planar float images, as PyTorch's `F.interpolate(mode='bilinear',
 * align_corners=False)`, with or without antialiasing (`antialias=True` is `_upsample_bilinear2d_aa`, what
 * `torchvision.transforms.functional.resize(t, size, antialias=True)` runs on a float tensor).
 *
 * Layout: `planes` consecutive planes of `inH x inW` floats (CHW, or NCHW with planes = N*C), row-major.
 * Output: planes of `outH x outW`, or only a window of it (`window`: the rows/columns a center crop keeps,
 * so preprocessing never computes pixels it then drops; each output pixel depends only on its own
 * coordinates, so a window is exactly the crop of the full resize).
 *
 * Antialiased form (PyTorch 1.13 aten/src/ATen/native/cpu/UpSampleKernel.cpp, HelperInterpLinear
 * compute_indices_weights_aa): per output index i along an axis with scale = in/out,
 *   center = scale * (i + 0.5); support = scale >= 1 ? scale : 1; invscale = scale >= 1 ? 1/scale : 1
 *   taps j in [trunc(center - support + 0.5) clamped >= 0, trunc(center + support + 0.5) clamped <= in)
 *   w_j = triangle((j - center + 0.5) * invscale), then normalised to sum 1.
 * The pass runs along W first, then H (PyTorch's order). Weights and tap ranges are computed with PyTorch's
 * float32/float64 rounding steps (equal to its weights bit for bit on the sizes checked: 500->341, 375->256,
 * 4000->256, 7->12, ...), so tap ranges are identical; sums run in float64 and are
 * stored as float32 (PyTorch accumulates in float32): differences are ~1 ulp (tested to 1e-6).
 *
 * Plain form (antialias false, PyTorch upsample_bilinear2d): src = max(scale * (i + 0.5) - 0.5, 0),
 * i0 = floor(src), i1 = min(i0 + 1, in - 1), weights 1 - l, l with l = src - i0.
 */
import { WasmzooError } from '../errors.js';

const f32 = Math.fround;

/** Taps of one axis: for output index i, `count[i]` weights starting at input index `start[i]`. */
export interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  /** `stride` weights per output index (unused ones are 0). */
  weights: Float32Array;
  stride: number;
}

/** Weights for resampling an axis of `inSize` to `outSize` (output indices [from, from + n)). */
export function axisWeights(inSize: number, outSize: number, antialias: boolean, from = 0, n = outSize - from): AxisWeights {
  const scale = f32(inSize / outSize);
  if (!antialias) {
    const start = new Int32Array(n);
    const count = new Int32Array(n);
    const weights = new Float32Array(2 * n);
    for (let k = 0; k < n; k++) {
      const i = from + k;
      // As PyTorch 1.13 (checked weight by weight against F.interpolate of an identity): float32 scale,
      // source index in double, lambda rounded to float32 once.
      const src = Math.max(scale * (i + 0.5) - 0.5, 0);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const l1 = Math.min(Math.max(f32(src - i0), 0), 1);
      start[k] = i0;
      count[k] = i1 > i0 ? 2 : 1;
      weights[2 * k] = i1 > i0 ? f32(1 - l1) : 1;
      weights[2 * k + 1] = i1 > i0 ? l1 : 0;
    }
    return { start, count, weights, stride: 2 };
  }
  const support = f32(scale >= 1 ? scale : 1);
  const invscale = f32(scale >= 1 ? 1 / scale : 1);
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const weights = new Float32Array(stride * n);
  for (let k = 0; k < n; k++) {
    const i = from + k;
    const center = f32(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      // PyTorch: (j + xmin - center) is a float op, then + 0.5 and * invscale in double, cast to float.
      const x = Math.abs(f32((f32(j + xmin - center) + 0.5) * invscale));
      const w = x < 1 ? f32(1 - x) : 0;
      weights[k * stride + j] = w;
      total = f32(total + w);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weights[k * stride + j] = f32(weights[k * stride + j] / total);
    start[k] = xmin;
    count[k] = xsize;
  }
  return { start, count, weights, stride };
}

export interface ResizeWindow {
  /** First output row kept, and how many. */
  top: number;
  height: number;
  /** First output column kept, and how many. */
  left: number;
  width: number;
}

/**
 * Where the input's values are: element (plane p, row y, column x) is at
 * `offsets[p] + y * rowStride + x * pixelStride`, and is multiplied by `valueScale` when read. Planar CHW
 * floats: offsets p*H*W, rowStride W, pixelStride 1. Interleaved HWC bytes (ImageData): offsets c,
 * rowStride W*C, pixelStride C, valueScale 1/255 (so a 12-megapixel photo is never copied into floats).
 */
export interface SourceLayout {
  height: number;
  width: number;
  offsets: readonly number[];
  rowStride: number;
  pixelStride: number;
  valueScale?: number;
}

/**
 * Resize every plane of `src` (laid out as `layout`) to outH x outW, or to the `window` of that output.
 * Returns planes of window.height x window.width (outH x outW without a window), planar, one per offset.
 */
export function resizeStrided(
  src: ArrayLike<number>, layout: SourceLayout, outH: number, outW: number,
  antialias = true, window?: ResizeWindow,
): Float32Array {
  const { height: inH, width: inW, offsets, rowStride, pixelStride } = layout;
  const k = layout.valueScale ?? 1;
  for (const [name, v] of [['input height', inH], ['input width', inW], ['output height', outH], ['output width', outW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new WasmzooError('E_ARGUMENT', `resize: ${name} must be a positive integer, got ${v}`);
  }
  const win = window ?? { top: 0, height: outH, left: 0, width: outW };
  if (win.top < 0 || win.left < 0 || win.top + win.height > outH || win.left + win.width > outW || win.height < 1 || win.width < 1) {
    throw new WasmzooError('E_ARGUMENT', `resize: window ${JSON.stringify(win)} is not inside the ${outH}x${outW} output`);
  }
  const wx = axisWeights(inW, outW, antialias, win.left, win.width);
  const wy = axisWeights(inH, outH, antialias, win.top, win.height);
  // Only the input rows that some kept output row reads need the horizontal pass.
  const rowLo = wy.start[0];
  const rowHi = wy.start[win.height - 1] + wy.count[win.height - 1];
  const tmpH = rowHi - rowLo;
  const ow = win.width;
  const oh = win.height;
  const out = new Float32Array(offsets.length * oh * ow);
  const xs = new Int32Array(ow);
  for (let x = 0; x < ow; x++) xs[x] = wx.start[x] * pixelStride;
  const np = offsets.length;
  // Interleaved RGB(A) source: one horizontal pass reads all planes of a pixel together (3x fewer passes
  // over a large photo); tmpAll holds every plane's rows.
  const interleaved = np === 3 && pixelStride >= 3 && offsets[1] === offsets[0] + 1 && offsets[2] === offsets[0] + 2;
  const tmp = new Float32Array(interleaved ? 0 : tmpH * ow);
  const tmpAll = interleaved ? new Float32Array(3 * tmpH * ow) : tmp;
  if (interleaved) {
    const plane = tmpH * ow;
    for (let y = 0; y < tmpH; y++) {
      const row = offsets[0] + (rowLo + y) * rowStride;
      for (let x = 0; x < ow; x++) {
        let s = row + xs[x];
        const wo = x * wx.stride;
        const n = wx.count[x];
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let j = 0; j < n; j++, s += pixelStride) {
          const w = wx.weights[wo + j];
          a0 += src[s] * w;
          a1 += src[s + 1] * w;
          a2 += src[s + 2] * w;
        }
        const t = y * ow + x;
        tmpAll[t] = a0 * k;
        tmpAll[plane + t] = a1 * k;
        tmpAll[2 * plane + t] = a2 * k;
      }
    }
  }
  for (let p = 0; p < np; p++) {
    const tp = interleaved ? tmpAll.subarray(p * tmpH * ow, (p + 1) * tmpH * ow) : tmp;
    // horizontal pass (W first, as PyTorch): input rows rowLo..rowHi -> tmp
    for (let y = 0; !interleaved && y < tmpH; y++) {
      const row = offsets[p] + (rowLo + y) * rowStride;
      for (let x = 0; x < ow; x++) {
        const s = row + xs[x];
        const wo = x * wx.stride;
        const n = wx.count[x];
        let acc = 0;
        for (let j = 0; j < n; j++) acc += src[s + j * pixelStride] * wx.weights[wo + j];
        tmp[y * ow + x] = acc * k;
      }
    }
    // vertical pass (H): tmp -> out
    const ob = p * oh * ow;
    for (let y = 0; y < oh; y++) {
      const r0 = wy.start[y] - rowLo;
      const wo = y * wy.stride;
      const n = wy.count[y];
      const o = ob + y * ow;
      for (let x = 0; x < ow; x++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += tp[(r0 + j) * ow + x] * wy.weights[wo + j];
        out[o + x] = acc;
      }
    }
  }
  return out;
}

/**
 * torchvision's output size for `resize(img, size)`: a number resizes the shorter side to it and the
 * longer to trunc(size * long / short) (then caps the longer side at `maxSize` if given); [h, w] is used
 * as is.
 */
export function resizedSize(h: number, w: number, size: number | readonly [number, number], maxSize?: number): [number, number] {
  if (typeof size !== 'number') {
    const [oh, ow] = size;
    if (!(Number.isInteger(oh) && Number.isInteger(ow) && oh > 0 && ow > 0)) {
      throw new WasmzooError('E_ARGUMENT', `resize: size must be positive integers, got [${size.join(', ')}]`);
    }
    return [oh, ow];
  }
  if (!Number.isInteger(size) || size < 1) throw new WasmzooError('E_ARGUMENT', `resize: size must be a positive integer, got ${size}`);
  const [short, long] = w <= h ? [w, h] : [h, w];
  let newShort = size;
  let newLong = Math.trunc((size * long) / short);
  if (maxSize !== undefined) {
    if (maxSize <= size) throw new WasmzooError('E_ARGUMENT', `resize: maxSize = ${maxSize} must be greater than size = ${size}`);
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return w <= h ? [newLong, newShort] : [newShort, newLong];
}
