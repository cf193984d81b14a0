/**
 * The image pipeline end to end with the shipped model: the 64 Fashion-MNIST samples (assets/, uint8 28x28
 * grey) go through `preprocess` with the training statistics, LeNet-5 (weights/), and `topK` with
 * `fashionMnistClasses`; the top-1 and the logits must equal PyTorch's (stored beside the images by
 * tools/train_lenet_fashion.py). Tolerance 1e-4 abs + 1e-4 rel on logits up to ~20: the float32 sums of
 * up to 400 products in another order (as test/models/lenet.test.ts), plus preprocessing's own ~1 ulp.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lenet5 } from '../../src/models/lenet.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { preprocess } from '../../src/image/preprocess.js';
import { topK } from '../../src/image/topk.js';
import { fashionMnistClasses } from '../../src/image/labels.js';
import { expectClose } from '../kernels/harness.js';

const read = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(p, import.meta.url)));

describe('preprocess -> LeNet-5 -> topK', () => {
  it('classifies the shipped Fashion-MNIST samples as PyTorch does', async () => {
    const samples = readSafetensors(read('../../assets/fashion-samples.safetensors'));
    const images = samples.get('images').bytes;
    const labels = samples.toNumbers('labels');
    const want = samples.toFloat32('logits');
    const n = labels.length;
    const list = Array.from({ length: n }, (_, i) => ({ data: images.subarray(i * 784, (i + 1) * 784), width: 28, height: 28 }));
    const x = preprocess(list, { mean: [0.286], std: [0.353] });
    expect(x.shape).toEqual([n, 1, 28, 28]);
    const model = await lenet5({ weights: read('../../weights/lenet5-fashion.safetensors') });
    const logits = model.forward(x);
    expectClose(logits.data, want, 1e-4, 1e-4, 'lenet5 logits');
    const top = topK(logits, 3, fashionMnistClasses);
    expect(top).toHaveLength(n);
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = want.subarray(i * 10, (i + 1) * 10);
      expect(top[i][0].index).toBe(row.indexOf(Math.max(...row)));
      expect(top[i][0].label).toBe(fashionMnistClasses[top[i][0].index]);
      expect(top[i][0].probability).toBeGreaterThan(top[i][1].probability);
      if (top[i][0].index === labels[i]) correct++;
    }
    expect(correct / n).toBeGreaterThan(0.8);
    model.dispose();
  });
});
