/** topK: order, ties, NaN, batches, labels (ImageNet by default for 1000 classes) and softmax probabilities. */
import { describe, expect, it } from 'vitest';
import { topK } from '../../src/image/topk.js';
import { fashionMnistClasses, imagenetClasses } from '../../src/image/labels.js';
import { Tensor, tensor } from '../../src/tensor.js';
import { WasmzooError } from '../../src/errors.js';

describe('topK', () => {
  it('orders by logit, gives softmax probabilities and labels', () => {
    const logits = [0.5, 2, -1, 2, 1, 0, 0, 0, 0, 0];
    const [row] = topK(logits, 3, fashionMnistClasses);
    expect(row.map((e) => e.index)).toEqual([1, 3, 4]); // tie 2 == 2: lower index first
    expect(row.map((e) => e.label)).toEqual(['Trouser', 'Dress', 'Coat']);
    const z = logits.reduce((s, v) => s + Math.exp(v), 0);
    expect(row[0].probability).toBeCloseTo(Math.exp(2) / z, 12);
    expect(row[0].logit).toBe(2);
  });

  it('handles batches, k larger than the row and huge logits', () => {
    const t = tensor([[1000, 999, 998], [3, 2, 1]], [2, 3]);
    const out = topK(t, 5);
    expect(out).toHaveLength(2);
    expect(out[0].map((e) => e.index)).toEqual([0, 1, 2]);
    expect(topK([1000, 999], 1)[0][0].probability).toBeCloseTo(1 / (1 + Math.exp(-1)), 12); // no overflow
    expect(out[1].map((e) => e.index)).toEqual([0, 1, 2]);
    expect(out[1][0].label).toBeUndefined();
    expect(topK(new Float32Array([1, 5, 3]), 1)[0][0].index).toBe(1);
  });

  // issue 12: an all-NaN row (a broken model's output) came back as class 0 with probability NaN
  it('refuses non-finite logits, naming the row and class', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as WasmzooError;
      }
      throw new Error('no error');
    };
    const allNaN = err(() => topK(tensor(new Float32Array(10).fill(NaN), [1, 10]), 3));
    expect(allNaN).toBeInstanceOf(WasmzooError);
    expect(allNaN.code).toBe('E_ARGUMENT');
    expect(allNaN.message).toMatch(/^topK: logits must be finite, got NaN at class 0 \(10 of 10 values are not finite numbers\)/);
    expect(err(() => topK(tensor([[1, 2, 3], [4, Infinity, 5]], [2, 3]), 1)).message).toMatch(/got Infinity at row 1, class 1 \(1 of 6/);
    expect(err(() => topK([0, -Infinity], 1)).message).toMatch(/got -Infinity at class 1/);
    expect(err(() => topK([0.5, NaN, 0.25], 2)).code).toBe('E_ARGUMENT');
  });

  it('uses the ImageNet names for 1000 classes', () => {
    expect(imagenetClasses).toHaveLength(1000);
    expect(new Set(imagenetClasses).size).toBe(1000);
    expect([imagenetClasses[0], imagenetClasses[207], imagenetClasses[999]]).toEqual(['tench', 'golden retriever', 'toilet tissue']);
    const logits = new Float32Array(2000);
    logits[207] = 9;
    logits[1000 + 999] = 5;
    logits[1000 + 1] = 5;
    const out = topK(new Tensor(logits, [2, 1000]), 2);
    expect(out[0][0]).toMatchObject({ index: 207, label: 'golden retriever', logit: 9 });
    expect(out[1].map((e) => e.label)).toEqual(['goldfish', 'toilet tissue']);
    const sum = topK(new Tensor(logits.subarray(0, 1000), [1, 1000]), 1000)[0].reduce((s, e) => s + e.probability, 0);
    expect(sum).toBeCloseTo(1, 12);
  });

  it('matches a full sort on random rows', () => {
    let s = 12345;
    const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rnd() * 40);
      const row = Array.from({ length: n }, () => Math.floor(rnd() * 8)); // many ties
      const k = 1 + Math.floor(rnd() * n);
      const want = row.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map((p) => p[1]);
      expect(topK(row, k)[0].map((e) => e.index)).toEqual(want);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => topK([1, 2], 0)).toThrow(WasmzooError);
    expect(() => topK([1, 2], 1, ['a'])).toThrow(/1 labels for 2 classes/);
    expect(() => topK(new Tensor(new Float32Array(8), [2, 2, 2]), 1)).toThrow(/\[N, classes\]/);
  });
});
