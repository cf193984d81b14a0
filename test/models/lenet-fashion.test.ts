/**
 * The shipped Fashion-MNIST LeNet-5 (weights/) on the shipped samples (assets/) gives PyTorch's logits
 * (stored in the samples file by tools/train_lenet_fashion.py). Tolerance as test/models/lenet.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { lenet5 } from '../../src/models/lenet.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { tensor } from '../../src/tensor.js';
import { expectClose } from '../kernels/harness.js';

const read = (p: string) => new Uint8Array(readFileSync(new URL(p, import.meta.url)));

describe('shipped LeNet-5 Fashion-MNIST weights', () => {
  it('match PyTorch on the 64 shipped test images', async () => {
    const samples = readSafetensors(read('../../assets/fashion-samples.safetensors'));
    const images = samples.get('images');
    const labels = samples.toNumbers('labels');
    const want = samples.toFloat32('logits');
    const x = new Float32Array(images.bytes.length);
    for (let i = 0; i < x.length; i++) x[i] = (images.bytes[i] / 255 - 0.286) / 0.353;
    const model = await lenet5({ weights: read('../../weights/lenet5-fashion.safetensors') });
    const got = model.forward(tensor(x, [64, 1, 28, 28]));
    expectClose(got.data, want, 1e-4, 1e-4, 'fashion logits');
    const predicted = got.argmax();
    const correct = predicted.filter((p, i) => p === labels[i]).length;
    expect(correct).toBeGreaterThanOrEqual(55); // 57/64 with PyTorch
    model.dispose();
  });
});

describe("built-in weights: lenet5({ weights: 'fashion-mnist' })", () => {
  it('loads the shipped file offline and classifies the shipped samples', async () => {
    const samples = readSafetensors(read('../../assets/fashion-samples.safetensors'));
    const images = samples.get('images');
    const labels = samples.toNumbers('labels');
    const x = new Float32Array(images.bytes.length);
    for (let i = 0; i < x.length; i++) x[i] = (images.bytes[i] / 255 - 0.286) / 0.353;
    const model = await lenet5({ weights: 'fashion-mnist' });
    const predicted = model.forward(tensor(x, [64, 1, 28, 28])).argmax();
    expect(predicted.filter((p, i) => p === labels[i]).length).toBeGreaterThanOrEqual(55);
  });
});
