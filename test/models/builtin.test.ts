/** The shipped weights load by name, offline, with the configuration they were trained with. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { autoencoder } from '../../src/models/autoencoder.js';
import { vae } from '../../src/models/vae.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { tensor } from '../../src/tensor.js';

const samples = readSafetensors(new Uint8Array(readFileSync(new URL('../../assets/fashion-samples.safetensors', import.meta.url))));
const u8 = samples.get('images').bytes;
const pixels = tensor(Float32Array.from(u8, (v) => v / 255), [64, 1, 28, 28]);

describe("weights: 'fashion-mnist'", () => {
  it('autoencoder: 784-96-32 with its fitted threshold; reconstructions are close', async () => {
    const ae = await autoencoder({ weights: 'fashion-mnist' });
    expect(ae.threshold).toBeGreaterThan(0);
    const scores = ae.anomalyScore(pixels).data;
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(mean).toBeLessThan(0.03); // per-pixel MSE on [0, 1] pixels of test images (held-out class included)
  });

  it('vae: 784-128-16; samples are valid probabilities', async () => {
    const m = await vae({ weights: 'fashion-mnist' });
    const s = m.sample(4, { seed: 1 });
    expect(s.shape[0]).toBe(4);
    expect(s.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});
