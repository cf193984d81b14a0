/**
 * Preprocessing against torchvision 0.14 (test/golden/preprocess/preprocess.safetensors, written by
 * tools/gen_preprocess_goldens.py): F.resize(antialias=True and False), F.center_crop, F.normalize on float
 * tensors, and the ImageNet preset on a 500x375 photo-sized synthetic image.
 *
 * Tolerances: resized values in [0, 1] to 1e-6 abs: PyTorch sums the <= 2*ceil(scale)+1 taps of each pass
 * in float32, we sum in float64 and round once, and its /255 comes before the sum where ours comes after
 * (a few float32 ulps of 1). Tap ranges and weights are computed with PyTorch's float32 rounding, so a
 * wrong tap would show as an error of ~1e-2, far above this. After normalisation (divide by std ~0.225)
 * 5e-6. The crop offsets and the padding are exact.
 */
import { describe, expect, it } from 'vitest';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';
import { Tensor } from '../../src/tensor.js';
import { WasmzooError } from '../../src/errors.js';
import {
  IMAGENET_MEAN, IMAGENET_STD, centerCrop, cropOffset, imageToTensor, normalize, preprocess, preprocessImageNet, resize,
} from '../../src/image/preprocess.js';
import { axisWeights, resizedSize } from '../../src/image/resize.js';
import { synthetic } from './synthetic.js';

const golden = new Golden('preprocess/preprocess.safetensors');
const bytes = (key: string): Uint8Array => Uint8Array.from(golden.tensor(key).data);
const RESIZE_TOL = 1e-6;
const NORM_TOL = 5e-6;

describe('resize / centerCrop / normalize vs torchvision', () => {
  it('RGBA 40x30 (ImageData-like) -> shorter side 16 -> crop 12 -> ImageNet normalisation', () => {
    const data = new Uint8ClampedArray(bytes('small.input'));
    const image = { data, width: 40, height: 30 }; // channels inferred: 4
    const x = imageToTensor(image);
    expect(x.shape).toEqual([1, 3, 30, 40]);
    const r = resize(x, 16);
    expect(r.shape).toEqual([1, 3, 16, 21]);
    expectClose(r.data, golden.tensor('small.resized').data, RESIZE_TOL, 0, 'resize aa');
    expectClose(resize(x, 16, { antialias: false }).data, golden.tensor('small.resized_noaa').data, RESIZE_TOL, 0, 'resize no aa');
    const c = centerCrop(r, 12);
    expectClose(c.data, golden.tensor('small.cropped').data, RESIZE_TOL, 0, 'crop');
    const n = normalize(c, IMAGENET_MEAN, IMAGENET_STD);
    expectClose(n.data, golden.tensor('small.normalized').data, NORM_TOL, 0, 'normalize');
    // The one-call form (computes only the crop window) gives the same.
    const p = preprocess(image, { resize: 16, crop: 12, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(p.shape).toEqual([1, 3, 12, 12]);
    expectClose(p.data, golden.tensor('small.normalized').data, NORM_TOL, 0, 'preprocess');
  });

  it('float HWC 33x45, 3 channels -> 20x27 -> crop 15 (left offset round(2.5) = 2, half to even)', () => {
    const f = golden.tensor('tall.input');
    const image = { data: f.data, width: 33, height: 45, channels: 3 };
    const r = resize(imageToTensor(image), 20);
    expect(r.shape).toEqual([1, 3, 27, 20]);
    expectClose(r.data, golden.tensor('tall.resized').data, RESIZE_TOL, 0, 'resize');
    expect(cropOffset(20, 15)).toBe(2);
    expect(cropOffset(27, 15)).toBe(6);
    expectClose(centerCrop(r, 15).data, golden.tensor('tall.cropped').data, RESIZE_TOL, 0, 'crop');
    const p = preprocess(image, { resize: 20, crop: 15, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expectClose(p.data, golden.tensor('tall.normalized').data, NORM_TOL, 0, 'preprocess');
  });

  it('grey 7x5: upscaling, and down in one axis / up in the other', () => {
    const image = { data: bytes('grey.input'), width: 7, height: 5 };
    const x = imageToTensor(image);
    expect(x.shape).toEqual([1, 1, 5, 7]);
    expectClose(resize(x, 12).data, golden.tensor('grey.up12').data, RESIZE_TOL, 0, 'up aa');
    expectClose(resize(x, 12, { antialias: false }).data, golden.tensor('grey.up12_noaa').data, RESIZE_TOL, 0, 'up');
    expectClose(resize(x, [3, 14]).data, golden.tensor('grey.3x14').data, RESIZE_TOL, 0, '3x14 aa');
    expectClose(resize(x, [3, 14], { antialias: false }).data, golden.tensor('grey.3x14_noaa').data, RESIZE_TOL, 0, '3x14');
    // a crop larger than the image pads with zeros, torchvision's way
    const padded = centerCrop(x, [8, 10]);
    expect(padded.shape).toEqual([1, 1, 8, 10]);
    expectClose(padded.data, golden.tensor('pad.cropped').data, 0, 0, 'pad');
    expectClose(preprocess(image, { crop: [8, 10] }).data, golden.tensor('pad.cropped').data, 0, 0, 'preprocess pad');
  });

  it('ImageNet preset on a 500x375 photo-sized image: 256x341, crop 224 (left offset round(58.5) = 58)', () => {
    const image = { data: synthetic(375, 500, 4), width: 500, height: 375 };
    const t = preprocessImageNet(image);
    expect(t.shape).toEqual([1, 3, 224, 224]);
    expect(resizedSize(375, 500, 256)).toEqual([256, 341]);
    expect(cropOffset(341, 224)).toBe(58);
    const want = golden.tensor('imagenet.sample_value').data;
    const got = new Float32Array(want.length);
    for (let i = 0; i < want.length; i++) got[i] = t.data[i * 37];
    expectClose(got, want, NORM_TOL, 0, 'imagenet samples');
    // every value, through per-channel sums (float64 both sides; 50176 values of |x| <~ 2.6 each)
    const sums = golden.tensor('imagenet.channel_sum').data;
    const abs = golden.tensor('imagenet.channel_abs_sum').data;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let a = 0;
      for (let i = c * 50176; i < (c + 1) * 50176; i++) { s += t.data[i]; a += Math.abs(t.data[i]); }
      expect(Math.abs(s - sums[c])).toBeLessThan(50176 * 1e-6);
      expect(Math.abs(a - abs[c])).toBeLessThan(50176 * 1e-6);
    }
    // Without antialiasing we match torchvision's antialias=False too; the two differ a lot on this image
    // (max 1.95, mean 0.05 after normalisation): the effect the README warns about.
    const noaa = preprocessImageNet(image, { antialias: false });
    const wantNoaa = golden.tensor('imagenet.noaa_sample_value').data;
    for (let i = 0; i < wantNoaa.length; i++) got[i] = noaa.data[i * 37];
    expectClose(got, wantNoaa, NORM_TOL, 0, 'imagenet no aa');
  });
});

describe('preprocessing behaviour', () => {
  it('batches several images, converts grey <-> RGB, and agrees between byte and float input', () => {
    const rgb = synthetic(30, 20, 3);
    const asFloat = Float32Array.from(rgb, (v) => v / 255);
    const a = preprocessImageNet({ data: rgb, width: 20, height: 30 }, { resize: 16, crop: 8 });
    const b = preprocessImageNet({ data: asFloat, width: 20, height: 30, channels: 3 }, { resize: 16, crop: 8 });
    expectClose(a.data, b.data, 2e-6, 0, 'bytes vs floats');
    const batch = preprocessImageNet([{ data: rgb, width: 20, height: 30 }, { data: asFloat, width: 20, height: 30, channels: 3 }], { resize: 16, crop: 8 });
    expect(batch.shape).toEqual([2, 3, 8, 8]);
    expectClose(batch.data.subarray(0, a.size), a.data, 0, 0, 'batch row 0');
    const grey = preprocess({ data: rgb, width: 20, height: 30 }, { channels: 1 });
    expect(grey.shape).toEqual([1, 1, 30, 20]);
    expect(grey.data[0]).toBeCloseTo((0.2989 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255, 6);
    const g3 = preprocess({ data: new Uint8Array([0, 255]), width: 2, height: 1 }, { channels: 3 });
    expect(Array.from(g3.data)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('weights of every axis sum to 1 and stay inside the input', () => {
    for (const [i, o] of [[500, 256], [375, 256], [7, 12], [256, 256], [3, 1], [1, 5], [1000, 3]]) {
      for (const aa of [true, false]) {
        const w = axisWeights(i, o, aa);
        for (let k = 0; k < o; k++) {
          let s = 0;
          for (let j = 0; j < w.count[k]; j++) s += w.weights[k * w.stride + j];
          expect(s).toBeCloseTo(1, 5);
          expect(w.start[k]).toBeGreaterThanOrEqual(0);
          expect(w.start[k] + w.count[k]).toBeLessThanOrEqual(i);
          expect(w.count[k]).toBeLessThanOrEqual(w.stride);
        }
      }
    }
  });

  it('rejects bad images and options with a clear WasmzooError', () => {
    const bad = (f: () => unknown, re: RegExp): void => {
      try { f(); } catch (e) { expect(e).toBeInstanceOf(WasmzooError); expect((e as Error).message).toMatch(re); return; }
      throw new Error('did not throw');
    };
    bad(() => preprocessImageNet({ data: new Uint8Array(10), width: 2, height: 2 }), /10 values for 2x2 pixels/);
    bad(() => preprocessImageNet({ data: new Uint8Array(12), width: 2, height: 2, channels: 4 }), /2x2x4 needs 16 values, got 12/);
    bad(() => preprocessImageNet({ data: new Uint8Array(0), width: 0, height: 2 }), /positive integers/);
    bad(() => preprocess({ data: new Uint8Array(4), width: 2, height: 2 }, { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] }), /need 1 values/);
    bad(() => preprocess({ data: new Uint8Array(4), width: 2, height: 2 }, { mean: [0], std: [0] }), /non-zero/);
    bad(() => resize(new Tensor(new Float32Array(4), [4]), 2), /\[\.\.\., H, W\]/);
    bad(() => resize(new Tensor(new Float32Array(4), [2, 2]), 0), /positive integer/);
    bad(() => preprocessImageNet([{ data: new Uint8Array(9), width: 3, height: 3 }, { data: new Uint8Array(6), width: 2, height: 3 }], { crop: null }), /image 1 gives \[1, 3, 384, 256\] but image 0 gives \[1, 3, 256, 256\]/);
  });
});
