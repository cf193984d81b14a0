/**
 * Autoencoders against PyTorch (test/golden/ae/goldens.safetensors from tools/gen_ae_goldens.py, hashed
 * weights): forward output and codes, then one training step (loss and every parameter gradient), for the
 * dense model on images and on C > 1 images with logits, and the conv model (nearest upsampling built from
 * the avg-pool kernels) on images and on flat rows. Then the anomaly API and shape handling.
 *
 * Tolerances: forward 1e-5 abs + 1e-4 rel (f32 sums of at most 128 terms in another order, fma in the
 * relaxed variant, through 4 to 8 layers). Gradients 2e-5 abs + 2e-3 rel and losses 1e-5 rel, as
 * test/train/train.test.ts (sums over the batch and pixels in another order, through the whole backward).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Autoencoder, autoencoder, type AutoencoderOptions } from '../../src/models/autoencoder.js';
import { hashWeights } from '../../src/models/hashweights.js';
import { init, BACKENDS } from '../../src/runtime/runtime.js';
import { SGD } from '../../src/train/optim.js';
import { Trainer } from '../../src/train/trainer.js';
import type { LossName } from '../../src/train/loss.js';
import { Tensor } from '../../src/tensor.js';
import { Golden } from '../golden/load.js';
import { expectClose } from '../kernels/harness.js';

const golden = new Golden('ae/goldens.safetensors');
const sampled = (data: Float32Array) => (data.length > 2000 ? data.filter((_, i) => i % 7 === 0) : data);

const CASES: Record<string, { opts: AutoencoderOptions; seed: number; loss: LossName }> = {
  dense: { opts: { layers: [64, 24, 6] }, seed: 21, loss: 'mse' },
  dense_tanh: { opts: { layers: [48, 20, 12, 5], activation: 'tanh', outputActivation: 'none' }, seed: 22, loss: 'bceWithLogits' },
  conv: { opts: { conv: true, inputShape: [2, 8, 8], channels: [3, 4], code: 5 }, seed: 23, loss: 'mse' },
  conv_flat: { opts: { conv: true, inputShape: [1, 8, 12], channels: [2, 3], code: 4, activation: 'tanh' }, seed: 24, loss: 'mse' },
};

describe.each(BACKENDS)('autoencoder vs PyTorch (%s)', (backend) => {
  beforeAll(async () => {
    await init({ backend });
  });
  for (const [name, c] of Object.entries(CASES)) {
    const x = golden.tensor(`${name}.input`);
    const y = golden.tensor(`${name}.target`);
    it(`${name}: forward output and codes`, () => {
      const m = hashWeights(new Autoencoder(c.opts), c.seed);
      const out = m.forward(x);
      expect(out.shape).toEqual(x.shape);
      expectClose(out.data, golden.tensor(`${name}.output`).data, 1e-5, 1e-4, `${name} output (${backend})`);
      expectClose(m.reconstruct(x).data, out.data, 0, 0, `${name} reconstruct = forward`);
      expectClose(m.encode(x).data, golden.tensor(`${name}.code`).data, 1e-5, 1e-4, `${name} code (${backend})`);
      m.dispose();
    });
    it(`${name}: loss and every gradient of one step`, () => {
      const m = hashWeights(new Autoencoder(c.opts), c.seed);
      const trainer = new Trainer(m, { loss: c.loss, optimizer: new SGD({ lr: 0 }) });
      const loss = trainer.step(x, y);
      expectClose([loss], golden.tensor(`${name}.loss`).data, 0, 1e-5, `${name} loss`);
      expect(trainer.store.slots.length).toBe(m.namedParameters().length);
      for (const s of trainer.store.slots) {
        expectClose(sampled(trainer.rt.arena.read(s.grad, s.size)), golden.tensor(`${name}.grad.${s.name}`).data, 2e-5, 2e-3, `${name} grad ${s.name} (${backend})`);
      }
      trainer.dispose();
      m.dispose();
    });
  }
});

describe('autoencoder API', () => {
  beforeAll(async () => {
    await init();
  });

  it('has PyTorch state_dict keys (dense mirrored, conv with Unflatten/Upsample slots)', () => {
    expect(Object.keys(new Autoencoder().stateDict())).toEqual([
      'encoder.0.weight', 'encoder.0.bias', 'encoder.2.weight', 'encoder.2.bias',
      'decoder.0.weight', 'decoder.0.bias', 'decoder.2.weight', 'decoder.2.bias']);
    const sd = new Autoencoder({ conv: true }).stateDict();
    expect(Object.entries(sd).map(([k, t]) => `${k}:${t.shape.join('x')}`)).toEqual([
      'encoder.0.weight:16x1x3x3', 'encoder.0.bias:16', 'encoder.2.weight:32x16x3x3', 'encoder.2.bias:32',
      'encoder.5.weight:32x1568', 'encoder.5.bias:32', 'decoder.0.weight:1568x32', 'decoder.0.bias:1568',
      'decoder.4.weight:16x32x3x3', 'decoder.4.bias:16', 'decoder.7.weight:1x16x3x3', 'decoder.7.bias:1']);
  });

  it('takes images or flat rows alike (dense and conv)', () => {
    for (const opts of [{ layers: [64, 24, 6] }, { conv: true, inputShape: [1, 8, 8] as [number, number, number], channels: [3, 4] as [number, number], code: 5 }]) {
      const m = hashWeights(new Autoencoder(opts), 21);
      const img = golden.tensor('dense.input');
      const flat = img.reshape([5, 64]);
      const a = m.forward(img), b = m.forward(flat);
      expect(a.shape).toEqual([5, 1, 8, 8]);
      expect(b.shape).toEqual([5, 64]);
      expectClose(a.data, b.data, 0, 0, 'image vs flat');
      expectClose(m.encode(img).data, m.encode(flat).data, 0, 0, 'codes');
      expect(() => m.forward(new Tensor(new Float32Array(63 * 2), [2, 63]))).toThrow(/expected input/);
      m.dispose();
    }
  });

  it('anomalyScore is the per-sample reconstruction MSE; fitThreshold takes numpy-style percentiles; isAnomaly compares', async () => {
    const m = hashWeights(await autoencoder({ layers: [64, 24, 6] }), 21);
    const x = golden.tensor('dense.input');
    const r = m.reconstruct(x);
    const s = m.anomalyScore(x);
    expect(s.shape).toEqual([5]);
    for (let i = 0; i < 5; i++) {
      let e = 0;
      for (let j = 0; j < 64; j++) e += (r.data[i * 64 + j] - x.data[i * 64 + j]) ** 2;
      expect(s.data[i]).toBeCloseTo(e / 64, 6);
    }
    expect(() => m.isAnomaly(x)).toThrow(/fitThreshold/);
    const sorted = [...s.data].sort((a, b) => a - b);
    expect(m.fitThreshold(x, { percentile: 100 })).toBeCloseTo(sorted[4], 7);
    expect(m.fitThreshold(x, { percentile: 0 })).toBeCloseTo(sorted[0], 7);
    expect(m.fitThreshold(x, { percentile: 50 })).toBeCloseTo(sorted[2], 7);
    expect(m.fitThreshold(x, { percentile: 60 })).toBeCloseTo(sorted[2] + 0.4 * (sorted[3] - sorted[2]), 7);
    expect(m.isAnomaly(x).filter(Boolean).length).toBe(2);
    expect(() => m.fitThreshold(x, { percentile: 101 })).toThrow(/percentile/);
    m.dispose();
  });

  it('fit(x, x) lowers the reconstruction error and codes follow the trained weights', async () => {
    const m = hashWeights(new Autoencoder({ layers: [64, 24, 6] }), 21);
    // 40 rows mixing 3 patterns: compressible through 6 codes (uniform noise would not be)
    const pat = golden.tensor('dense.input').data;
    const x = new Tensor(new Float32Array(40 * 64).map((_, i) => {
      const r = Math.floor(i / 64), j = i % 64, a = (r % 5) / 4, b = (r % 3) / 2;
      return (a * pat[j] + (1 - a) * pat[64 + j] + b * pat[128 + j]) / 2;
    }), [40, 64]);
    const before = m.evaluate(x, x, { loss: 'mse' }).loss;
    const code0 = m.encode(x).data.slice();
    const { Adam } = await import('../../src/train/optim.js');
    await m.fit(x, x, { loss: 'mse', epochs: 40, batchSize: 8, optimizer: new Adam({ lr: 1e-2 }) });
    const after = m.evaluate(x, x, { loss: 'mse' }).loss;
    expect(after).toBeLessThan(before * 0.3);
    expect(m.encode(x).data).not.toEqual(code0);
    m.dispose();
  });
});

describe('shipped weights (weights/autoencoder-fashion.safetensors)', () => {
  it('load (F16) and score the held-out ankle boots above the other shipped sample images', async () => {
    const { readFileSync } = await import('node:fs');
    const { readSafetensors } = await import('../../src/io/safetensors.js');
    const bytes = new Uint8Array(readFileSync(new URL('../../weights/autoencoder-fashion.safetensors', import.meta.url)));
    const meta = readSafetensors(bytes).metadata;
    expect(meta.held_out_class).toBe('9');
    const m = await autoencoder({ layers: meta.layers.split(',').map(Number), weights: bytes });
    const f = readSafetensors(new Uint8Array(readFileSync(new URL('../../assets/fashion-samples.safetensors', import.meta.url))));
    const x = new Tensor(Float32Array.from(f.toFloat32('images'), (v) => v / 255), [64, 1, 28, 28]);
    const labels = f.toNumbers('labels');
    const s = m.anomalyScore(x).data;
    const pos = s.filter((_, i) => labels[i] === 9), neg = s.filter((_, i) => labels[i] !== 9);
    let wins = 0;
    for (const p of pos) for (const n of neg) wins += p > n ? 1 : 0;
    // measured: AUC 0.75 on these 4 boots vs 60 others (0.785 on the full test set), mean MSE 0.0119 of known classes
    expect(wins / (pos.length * neg.length)).toBeGreaterThan(0.65);
    expect(neg.reduce((a, b) => a + b) / neg.length).toBeLessThan(0.015);
    m.fitThreshold(x.reshape([64, 784]), { percentile: 90 });
    expect(m.isAnomaly(x).filter(Boolean).length).toBe(7); // scores above position 0.9 * 63 = 56.7: ranks 57..63
    m.dispose();
  });
});
