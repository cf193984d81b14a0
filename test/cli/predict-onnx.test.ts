/**
 * `wasmzoo predict model.onnx --input IMAGE` as users run it (node bin/wasmzoo.mjs, against dist/): the models are
 * written here, SqueezeNet 1.1 from its graph-only export with the hashed weights (test/onnx/hashed-onnx.ts;
 * a fixed 96x96 input) and small classifiers built with test/onnx/build.ts (symbolic H and W, 1000 or 10
 * classes, one ending in Softmax). The printed classes are checked against the same model run through the
 * API on the same decoded pixels.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashTensor, imagenetClasses, init, preprocessImageNet, topK } from '../../src/index.js';
import { loadOnnx } from '../../src/onnx/index.js';
import { decodeImage } from '../../src/cli/image.js';
import { fillHashed } from '../onnx/hashed-onnx.js';
import { onnxModel, type NodeSpec, type TensorSpec } from '../onnx/build.js';
import { assertBuilt, ROOT, run } from '../platform/helpers.js';

const BIN = join(ROOT, 'bin/wasmzoo.mjs');
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env });
const FIXTURES = join(ROOT, 'test/fixtures/onnx');

/** A smooth 160x120 RGB picture (no photo in the repository): gradients and a disc. */
function picture(): { data: Buffer; width: number; height: number } {
  const width = 160, height = 120;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = (x - 90) ** 2 + (y - 55) ** 2 < 35 ** 2;
      data.set([disc ? 230 : (x * 255) / width, disc ? 140 : (y * 255) / height, disc ? 40 : 128 + 100 * Math.sin(x / 9), 255], (y * width + x) * 4);
    }
  }
  return { data, width, height };
}

/** Conv 3 -> 8 (3x3) + Relu + GlobalAveragePool + Flatten + Gemm 8 -> classes [+ Softmax], input [N, 3, H, W]. */
function classifier(classes: number, softmax: boolean): Uint8Array {
  const t = (name: string, dims: number[]): TensorSpec => ({ name, dims, values: Array.from(hashTensor(3, name, dims).data) });
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['image', 'conv.weight', 'conv.bias'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
    { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'fc.weight', 'fc.bias'], outputs: [softmax ? 'z' : 'scores'], attrs: { transB: 1 } },
    ...(softmax ? [{ op: 'Softmax', inputs: ['z'], outputs: ['scores'], attrs: { axis: 1 } }] : []),
  ];
  return onnxModel({
    nodes, inputs: [{ name: 'image', shape: ['N', 3, 'H', 'W'] }], outputs: [{ name: 'scores', shape: ['N', classes] }],
    initializers: [t('conv.weight', [8, 3, 3, 3]), t('conv.bias', [8]), t('fc.weight', [classes, 8]), t('fc.bias', [classes])],
  });
}

let dir: string;
const at = (f: string) => join(dir, f);

/** The model run through the API on the image as the CLI decodes it: the top-k entries. */
async function expected(model: string, image: string, size: [number, number], k: number) {
  const m = await loadOnnx(new Uint8Array(readFileSync(at(model))));
  const img = decodeImage(new Uint8Array(readFileSync(at(image))), image);
  const x = preprocessImageNet(img, { resize: Math.round(Math.max(...size) / 0.875), crop: size });
  return topK(m.forward(x), k)[0];
}

describe('npx wasmzoo predict model.onnx', () => {
  beforeAll(async () => {
    assertBuilt();
    await init();
    dir = mkdtempSync(join(tmpdir(), 'wasmzoo-cli-onnx-'));
    const pic = picture();
    const png = new PNG({ width: pic.width, height: pic.height });
    png.data = pic.data;
    writeFileSync(at('cat.png'), PNG.sync.write(png));
    writeFileSync(at('cat.jpg'), jpeg.encode(pic, 90).data);
    const fill = (f: string) => fillHashed(new Uint8Array(readFileSync(join(FIXTURES, f))), 1).bytes;
    writeFileSync(at('squeezenet.onnx'), fill('zoo_squeezenet1_1.onnx'));
    writeFileSync(at('lstm.onnx'), fill('zoo_lstm2.onnx'));
    writeFileSync(at('tiny1000.onnx'), classifier(1000, false));
    writeFileSync(at('tiny10-softmax.onnx'), classifier(10, true));
    writeFileSync(at('unsupported.onnx'), onnxModel({
      nodes: [{ op: 'FrobnicateImage', inputs: ['image'], outputs: ['scores'], name: 'frob' }],
      inputs: [{ name: 'image', shape: [1, 3, 8, 8] }], outputs: [{ name: 'scores' }],
    }));
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('SqueezeNet 1.1 (fixed 96x96 input) on a PNG: the top-5 with ImageNet labels are the API\'s', async () => {
    const r = await cli('predict', at('squeezenet.onnx'), '--input', at('cat.png'), '--top', '5');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^squeezenet\.onnx \((relaxed|simd)\) on .*cat\.png \(png 160x120 -> 96x96 RGB, ImageNet preset\): [\d.]+ ms$/);
    expect(lines).toHaveLength(6);
    const want = await expected('squeezenet.onnx', 'cat.png', [96, 96], 5);
    want.forEach((e, i) => {
      expect(lines[i + 1]).toMatch(new RegExp(`^ {2}${i + 1}\\. \\[${e.index}\\] +${e.label!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\d+\\.\\d%$`));
      expect(imagenetClasses[e.index]).toBe(e.label);
    });
    const j = JSON.parse((await cli('predict', at('squeezenet.onnx'), '--input', at('cat.png'), '--top', '5', '--json')).stdout);
    expect(j.size).toEqual([96, 96]);
    expect(j.classes).toBe(1000);
    expect(j.top.map((e: { index: number }) => e.index)).toEqual(want.map((e) => e.index));
    j.top.forEach((e: { logit: number; probability: number }, i: number) => {
      expect(e.logit).toBeCloseTo(want[i].logit, 4);
      expect(e.probability).toBeCloseTo(want[i].probability, 5);
    });
  });

  it('symbolic H and W: --size sets the crop (default 224); a JPEG works the same', async () => {
    const r = await cli('predict', at('tiny1000.onnx'), '--input', at('cat.jpg'), '--size', '64', '--top', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(jpeg 160x120 -> 64x64 RGB, ImageNet preset\)/);
    const want = await expected('tiny1000.onnx', 'cat.jpg', [64, 64], 3);
    expect(r.stdout.trim().split('\n')[1]).toMatch(new RegExp(`^ {2}1\\. \\[${want[0].index}\\] `));
    const j = JSON.parse((await cli('predict', at('tiny1000.onnx'), '--input', at('cat.jpg'), '--json', '--top', '1')).stdout);
    expect(j.size).toEqual([224, 224]);
    expect(j.top[0].index).toBe((await expected('tiny1000.onnx', 'cat.jpg', [224, 224], 1))[0].index);
    expect(j.top[0].label).toBe(imagenetClasses[j.top[0].index]);
  });

  it('10 classes: no labels; a Softmax output is shown as the probabilities it is; --labels none drops ImageNet names', async () => {
    const j = JSON.parse((await cli('predict', at('tiny10-softmax.onnx'), '--input', at('cat.png'), '--json', '--top', '10')).stdout);
    const want = await expected('tiny10-softmax.onnx', 'cat.png', [224, 224], 10);
    expect(j.top.map((e: { index: number }) => e.index)).toEqual(want.map((e) => e.index));
    for (const e of j.top) {
      expect(e.label).toBeUndefined();
      expect(e.probability).toBe(e.logit);
    }
    const r = await cli('predict', at('tiny10-softmax.onnx'), '--input', at('cat.png'), '--top', '2');
    expect(r.stdout.trim().split('\n')[1]).toMatch(new RegExp(`^ {2}1\\. \\[${want[0].index}\\] +${(want[0].logit * 100).toFixed(1)}%$`));
    const none = JSON.parse((await cli('predict', at('tiny1000.onnx'), '--input', at('cat.png'), '--json', '--labels', 'none', '--size', '32')).stdout);
    expect(none.top[0].label).toBeUndefined();
  });

  const bad: [string, string[], number, RegExp][] = [
    ['--size against a fixed input', ['@/squeezenet.onnx', '--input', '@/cat.png', '--size', '224'], 2, /^wasmzoo: --size 224: .*squeezenet\.onnx takes 96x96 images only$/],
    ['--labels imagenet on 10 classes', ['@/tiny10-softmax.onnx', '--input', '@/cat.png', '--labels', 'imagenet'], 2, /^wasmzoo: --labels imagenet: the model gives 10 classes, ImageNet has 1000$/],
    ['bad --labels', ['@/tiny1000.onnx', '--input', '@/cat.png', '--labels', 'coco'], 2, /^wasmzoo: --labels must be imagenet or none, got "coco"$/],
    ['--weights with an .onnx file', ['@/tiny1000.onnx', '--input', '@/cat.png', '--weights', 'w.safetensors'], 2, /^wasmzoo: predict: an \.onnx file holds its weights/],
    ['--size with a zoo model', ['lenet5', '--input', '@/cat.png', '--size', '28'], 2, /^wasmzoo: predict: --size is for \.onnx models$/],
    ['not an image model', ['@/lstm.onnx', '--input', '@/cat.png'], 1, /^wasmzoo: .*lstm\.onnx: predict needs an image classifier with one float32 input \[N, 3, H, W\]; this model takes input: float32 \[batch, 7, 16\]$/],
    ['missing model file', ['/nonexistent.onnx', '--input', '@/cat.png'], 1, /^wasmzoo: model \/nonexistent\.onnx: no such file$/],
    ['not ONNX', ['@/cat.onnx', '--input', '@/cat.png'], 1, /^wasmzoo: .*cat\.onnx: onnx: /],
  ];
  it.each(bad)('%s: one clear line, non-zero exit', async (_t, args, code, message) => {
    if (args[0] === '@/cat.onnx') writeFileSync(at('cat.onnx'), readFileSync(at('cat.png')));
    const r = await cli('predict', ...args.map((a) => a.replace(/^@/, dir)));
    expect(r.code, r.stdout + r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('an op wasmzoo does not run: E_UNSUPPORTED naming the node, exit 1', async () => {
    const r = await cli('predict', at('unsupported.onnx'), '--input', at('cat.png'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^wasmzoo: .*unsupported\.onnx: onnx: this model uses what wasmzoo does not run \(1\):\n {2}node 'frob': op FrobnicateImage is not supported$/m);
  });
});
