/**
 * Image preprocessing for the model zoo, platform neutral (no DOM needed): from an ImageData-like
 * `{ data, width, height }` (RGBA bytes from a canvas, or HWC bytes/floats with any channel count) to the
 * normalised NCHW Float32 tensor a model takes, as torchvision does on a float tensor:
 *
 *   x = image / 255 (Uint8 data; float data is taken as already in [0, 1])
 *   x = F.resize(x, 256, antialias=True)     bilinear, shorter side to 256 (src/image/resize.ts)
 *   x = F.center_crop(x, 224)                offset round((size - crop) / 2), Python's round: half to even
 *   x = F.normalize(x, mean, std)            ImageNet mean and std
 *
 * `preprocessImageNet(image)` is that preset; `preprocess(image, opts)` takes other sizes and statistics;
 * `imageToTensor`, `resize`, `centerCrop` and `normalize` are the building blocks on Tensors (as
 * torchvision.transforms.functional). The preset only computes the kept crop and reads interleaved bytes
 * in place (no full-size float copy of a large photo).
 *
 * NOTE on matching torchvision: outputs equal torchvision 0.14 `resize(t, size, antialias=True)` on a
 * float tensor within 1e-6 before normalisation (tested; float32 sums in another order). torchvision's
 * preset on a PIL image resizes with PIL instead (uint8 fixed point, result rounded to uint8): on the
 * 500x375 test image that differs from ours by at most 0.017 (one uint8 step / std), mean 0.005, after
 * normalisation, which moved ResNet-18 logits (hashed weights, |logit| <= 6.4) by at most 0.0034 with the
 * same top-5. Without antialiasing (`antialias: false`, torchvision 0.14's default
 * for tensors) a 500x375 photo-like image differs from the antialiased result by up to 1.9 (mean 0.05)
 * after normalisation: high frequencies alias. See test/image/preprocess.test.ts.
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { Tensor, shapeStr, tensorArg } from '../tensor.js';
import { resizeStrided, resizedSize, type ResizeWindow, type SourceLayout } from './resize.js';

/** ImageNet statistics used by every torchvision classification model. */
export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);
/**
 * Fashion-MNIST pixel statistics (pixel / 255 over the training set, to 3 digits): the normalisation the
 * shipped LeNet-5 was trained with, x = (pixel / 255 - 0.286) / 0.353 (examples/fashion-mnist.mjs).
 */
export const FASHION_MNIST_MEAN: readonly number[] = Object.freeze([0.286]);
export const FASHION_MNIST_STD: readonly number[] = Object.freeze([0.353]);

/**
 * An image, row-major, channels interleaved (HWC): a browser `ImageData` (RGBA, Uint8ClampedArray) fits.
 * `channels` defaults to data.length / (width * height): 4 = RGBA (alpha ignored, not premultiplied, as in
 * ImageData), 3 = RGB, 2 = grey + alpha, 1 = grey. Uint8Array / Uint8ClampedArray values are 0..255;
 * any other array is taken as floats in [0, 1].
 */
export interface ImageLike {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels?: number;
}

export type Size = number | readonly [number, number];

export interface PreprocessOptions {
  /** Resize first: a number sets the shorter side (aspect kept), [h, w] sets both; null skips. */
  resize?: Size | null;
  /** Cap on the longer side after resizing by the shorter one (torchvision's max_size). */
  maxSize?: number;
  /** Then center crop to this size (a number is square); null skips. Pads with 0 if larger than the image. */
  crop?: Size | null;
  /** Per-channel mean and std (one value each for a grey output). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Antialiased downscaling as PIL and torchvision's antialias=True (default true). */
  antialias?: boolean;
  /** Output channels: 3 (RGB; grey input is replicated) or 1 (grey: 0.2989 R + 0.587 G + 0.114 B, as
   *  torchvision's rgb_to_grayscale). Default: 3, or 1 for grey input. */
  channels?: 1 | 3;
  /** The resize's interpolation: 'bilinear', the only one (accepted so that a model's `meta.preprocessing` passes as it is). */
  interpolation?: 'bilinear';
}

const PREPROCESS_OPTION_KEYS = optionKeys<PreprocessOptions>({ resize: 1, maxSize: 1, crop: 1, mean: 1, std: 1, antialias: 1, channels: 1, interpolation: 1 });
const CHANNELS_OPTION_KEYS = optionKeys<{ channels?: 1 | 3 }>({ channels: 1 });
const RESIZE_OPTION_KEYS = optionKeys<{ antialias?: boolean; maxSize?: number }>({ antialias: 1, maxSize: 1 });

/** A complete preprocessing recipe: what every field of PreprocessOptions is for one model family. */
export type PreprocessPreset = Readonly<Required<Pick<PreprocessOptions, 'resize' | 'crop' | 'mean' | 'std' | 'antialias' | 'channels'>>>;

/** torchvision's ImageNet preset: resize 256 (antialiased), center crop 224, ImageNet mean/std. */
export const IMAGENET_PRESET: PreprocessPreset = Object.freeze({
  resize: 256, crop: 224, mean: IMAGENET_MEAN, std: IMAGENET_STD, antialias: true, channels: 3,
});

/**
 * Any image as a Fashion-MNIST sample for the shipped LeNet-5: 28x28 grey (antialiased resize, no crop),
 * then the Fashion-MNIST normalisation. NOTE: the dataset is a light object on black; invert photos and
 * drawings on a light background first (the CLI does when the border is light).
 */
export const FASHION_MNIST_PRESET: PreprocessPreset = Object.freeze({
  resize: Object.freeze([28, 28] as const), crop: null, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD, antialias: true, channels: 1,
});

/**
 * ImageNet preprocessing (torchvision's ImageClassification preset with antialiasing): one image gives
 * [1, 3, 224, 224], an array of images [N, 3, 224, 224]. Options override the preset (e.g. `{ crop: 299,
 * resize: 342 }`).
 */
export function preprocessImageNet(image: ImageLike | readonly ImageLike[], opts: PreprocessOptions = {}): Tensor {
  return preprocess(image, { ...IMAGENET_PRESET, ...checkOptions('preprocessImageNet', opts, PREPROCESS_OPTION_KEYS) });
}

/** Resize, center crop and normalise one image ([1, C, h, w]) or several of the same output size ([N, ...]). */
export function preprocess(image: ImageLike | readonly ImageLike[], opts: PreprocessOptions = {}): Tensor {
  opts = checkOptions('preprocess', opts, PREPROCESS_OPTION_KEYS);
  if (opts.interpolation !== undefined && opts.interpolation !== 'bilinear') {
    throw new WasmzooError('E_ARGUMENT', `preprocess: interpolation must be 'bilinear' (the only one), got ${JSON.stringify(opts.interpolation)}`);
  }
  if (Array.isArray(image)) {
    const list = image as readonly ImageLike[];
    if (list.length === 0) throw new WasmzooError('E_ARGUMENT', 'preprocess: empty list of images');
    const parts = list.map((im) => preprocess(im, opts));
    const s = parts[0].shape;
    for (let i = 1; i < parts.length; i++) {
      if (parts[i].shape.join() !== s.join()) {
        throw new WasmzooError('E_SHAPE', `preprocess: image ${i} gives ${shapeStr(parts[i].shape)} but image 0 gives ${shapeStr(s)}: set a crop (or a [h, w] resize) so all images match`);
      }
    }
    const data = new Float32Array(parts.length * parts[0].size);
    parts.forEach((p, i) => data.set(p.data, i * p.size));
    return new Tensor(data, [parts.length, s[1], s[2], s[3]]);
  }
  const img = checkImage(image as ImageLike);
  const outC = opts.channels ?? (img.channels >= 3 ? 3 : 1);
  if (outC !== 1 && outC !== 3) throw new WasmzooError('E_ARGUMENT', `preprocess: channels must be 1 or 3, got ${outC}`);
  const antialias = opts.antialias ?? true;
  const [rh, rw] = opts.resize == null ? [img.height, img.width] : resizedSize(img.height, img.width, opts.resize, opts.maxSize);
  const [ch, cw] = opts.crop == null ? [rh, rw] : cropSize(opts.crop);
  const mean = opts.mean ?? new Array(outC).fill(0);
  const std = opts.std ?? new Array(outC).fill(1);
  checkStats(mean, std, outC, 'preprocess');

  // Planes to read: R, G, B (or the grey plane), straight out of the interleaved data.
  const srcPlanes = img.channels >= 3 ? [0, 1, 2] : [0];
  const layout: SourceLayout = {
    height: img.height, width: img.width, offsets: srcPlanes, rowStride: img.width * img.channels,
    pixelStride: img.channels, valueScale: img.isBytes ? 1 / 255 : 1,
  };
  let planes: Float32Array;
  let ph: number;
  let pw: number;
  if (ch <= rh && cw <= rw) {
    // Compute only the crop window of the resize (a plain copy when the size is unchanged).
    const win: ResizeWindow = { top: cropOffset(rh, ch), height: ch, left: cropOffset(rw, cw), width: cw };
    planes = rh === img.height && rw === img.width ? readWindow(img.data, layout, win) : resizeStrided(img.data, layout, rh, rw, antialias, win);
    [ph, pw] = [ch, cw];
  } else {
    const full = resizeStrided(img.data, layout, rh, rw, antialias);
    planes = centerCrop(new Tensor(full, [srcPlanes.length, rh, rw]), [ch, cw]).data;
    [ph, pw] = [ch, cw];
  }
  const hw = ph * pw;
  const out = new Float32Array(outC * hw);
  if (outC === 3 && srcPlanes.length === 1) {
    for (let c = 0; c < 3; c++) out.set(planes, c * hw);
  } else if (outC === 1 && srcPlanes.length === 3) {
    for (let i = 0; i < hw; i++) out[i] = 0.2989 * planes[i] + 0.587 * planes[hw + i] + 0.114 * planes[2 * hw + i];
  } else {
    out.set(planes);
  }
  normalizeInPlace(out, outC, hw, mean, std);
  return new Tensor(out, [1, outC, ph, pw]);
}

/**
 * An image as a float tensor [1, C, H, W] in [0, 1] (torchvision's to_tensor): RGBA and grey + alpha drop
 * the alpha channel; `channels` converts as in PreprocessOptions.
 */
export function imageToTensor(image: ImageLike, opts: { channels?: 1 | 3 } = {}): Tensor {
  const img = checkImage(image);
  return preprocess(img.original, { channels: checkOptions('imageToTensor', opts, CHANNELS_OPTION_KEYS).channels });
}

/**
 * Bilinear resize of a float tensor [..., H, W] (e.g. [C, H, W] or [N, C, H, W]) as torchvision's
 * `F.resize(t, size, antialias=True)`: a number sets the shorter side, [h, w] both.
 */
export function resize(t: Tensor, size: Size, opts: { antialias?: boolean; maxSize?: number } = {}): Tensor {
  t = tensorArg('resize', t);
  opts = checkOptions('resize', opts, RESIZE_OPTION_KEYS);
  const s = t.shape;
  if (s.length < 2) throw new WasmzooError('E_SHAPE', `resize: expected a tensor [..., H, W], got ${shapeStr(s)}`);
  const h = s[s.length - 2];
  const w = s[s.length - 1];
  const [oh, ow] = resizedSize(h, w, size, opts.maxSize);
  const planes = t.size / (h * w);
  const offsets = Array.from({ length: planes }, (_, p) => p * h * w);
  const data = resizeStrided(t.data, { height: h, width: w, offsets, rowStride: w, pixelStride: 1 }, oh, ow, opts.antialias ?? true);
  return new Tensor(data, [...s.slice(0, -2), oh, ow]);
}

/**
 * Center crop of a tensor [..., H, W] as torchvision's `F.center_crop`: offset round((H - h) / 2) with
 * Python's round (half to even); a crop larger than the image pads with zeros (floor(d / 2) before).
 */
export function centerCrop(t: Tensor, size: Size): Tensor {
  t = tensorArg('centerCrop', t);
  const s = t.shape;
  if (s.length < 2) throw new WasmzooError('E_SHAPE', `centerCrop: expected a tensor [..., H, W], got ${shapeStr(s)}`);
  const [ch, cw] = cropSize(size);
  const h = s[s.length - 2];
  const w = s[s.length - 1];
  const top = cropOffset(h, ch);
  const left = cropOffset(w, cw);
  const planes = t.size / (h * w);
  const out = new Float32Array(planes * ch * cw);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < ch; y++) {
      const sy = y + top;
      if (sy < 0 || sy >= h) continue;
      const x0 = Math.max(0, -left);
      const x1 = Math.min(cw, w - left);
      if (x1 <= x0) continue;
      const src = p * h * w + sy * w + left;
      out.set(t.data.subarray(src + x0, src + x1), p * ch * cw + y * cw + x0);
    }
  }
  return new Tensor(out, [...s.slice(0, -2), ch, cw]);
}

/** (x - mean[c]) / std[c] over the channel dimension of [C, H, W] or [N, C, H, W]; returns a new tensor. */
export function normalize(t: Tensor, mean: readonly number[], std: readonly number[]): Tensor {
  t = tensorArg('normalize', t);
  const s = t.shape;
  if (s.length !== 3 && s.length !== 4) throw new WasmzooError('E_SHAPE', `normalize: expected [C, H, W] or [N, C, H, W], got ${shapeStr(s)}`);
  const c = s[s.length - 3];
  checkStats(mean, std, c, 'normalize');
  const out = t.data.slice();
  const hw = s[s.length - 1] * s[s.length - 2];
  for (let n = 0; n < out.length; n += c * hw) normalizeInPlace(out.subarray(n, n + c * hw), c, hw, mean, std);
  return new Tensor(out, s);
}

function normalizeInPlace(x: Float32Array, c: number, hw: number, mean: readonly number[], std: readonly number[]): void {
  for (let k = 0; k < c; k++) {
    // torchvision: tensor.sub_(mean).div_(std), each in float32
    const m = Math.fround(mean[k]);
    const d = Math.fround(std[k]);
    const p = x.subarray(k * hw, (k + 1) * hw);
    for (let i = 0; i < hw; i++) p[i] = (p[i] - m) / d;
  }
}

function readWindow(src: ArrayLike<number>, l: SourceLayout, win: ResizeWindow): Float32Array {
  const k = l.valueScale ?? 1;
  const out = new Float32Array(l.offsets.length * win.height * win.width);
  let o = 0;
  for (const off of l.offsets) {
    for (let y = win.top; y < win.top + win.height; y++) {
      const row = off + y * l.rowStride;
      for (let x = win.left; x < win.left + win.width; x++) out[o++] = src[row + x * l.pixelStride] * k;
    }
  }
  return out;
}

function checkStats(mean: readonly number[], std: readonly number[], c: number, what: string): void {
  if (mean.length !== c || std.length !== c) {
    throw new WasmzooError('E_ARGUMENT', `${what}: mean and std need ${c} values (one per channel), got ${mean.length} and ${std.length}`);
  }
  if (std.some((v) => !(v !== 0 && Number.isFinite(v)))) throw new WasmzooError('E_ARGUMENT', `${what}: std must be finite and non-zero, got [${std.join(', ')}]`);
}

function cropSize(size: Size): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
    throw new WasmzooError('E_ARGUMENT', `crop: size must be positive integers, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

/** torchvision's crop offset: int(round((size - crop) / 2)) with half to even, or -floor(pad / 2) when padding. */
export function cropOffset(size: number, crop: number): number {
  if (crop > size) return -Math.floor((crop - size) / 2);
  return roundHalfEven((size - crop) / 2);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface CheckedImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
  isBytes: boolean;
  original: ImageLike;
}

function checkImage(image: ImageLike): CheckedImage {
  if (image == null || typeof image !== 'object' || image.data == null || typeof image.data.length !== 'number') {
    throw new WasmzooError('E_ARGUMENT', 'image: expected an ImageData-like { data, width, height, channels? }');
  }
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new WasmzooError('E_ARGUMENT', `image: width and height must be positive integers, got ${width}x${height}`);
  }
  const channels = image.channels ?? data.length / (width * height);
  if (![1, 2, 3, 4].includes(channels)) {
    throw new WasmzooError('E_SHAPE', `image: ${data.length} values for ${width}x${height} pixels is not 1, 2, 3 or 4 channels per pixel`);
  }
  if (data.length !== width * height * channels) {
    throw new WasmzooError('E_SHAPE', `image: ${width}x${height}x${channels} needs ${width * height * channels} values, got ${data.length}`);
  }
  const isBytes = data instanceof Uint8Array || data instanceof Uint8ClampedArray;
  return { data, width, height, channels, isBytes, original: image };
}
