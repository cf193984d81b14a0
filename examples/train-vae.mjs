// Trains the VAE (pytorch/examples' 784-400-20) on Fashion-MNIST pixels in [0, 1] and writes a PNG grid of
// sample(64) plus a row of latent interpolations between two test images.
//   npm run build && node --experimental-wasm-relaxed-simd examples/train-vae.mjs [epochs] [samples.png] [out.safetensors] [hidden,latent]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateSync } from 'node:zlib';
import * as wasmzoo from '../dist/wasmzoo.mjs';
import { loadSplit } from './fashion-mnist.mjs';
import { encodeGrayPng, imageGrid } from '../tools/png.mjs';

const epochs = Number(process.argv[2] ?? 10);
const png = process.argv[3] ?? '.cache/vae-samples.png';
const out = process.argv[4];
const [hidden, latent] = (process.argv[5] ?? '400,20').split(',').map(Number);

const to01 = (split) => wasmzoo.tensor(Float32Array.from(split.u8, (v) => v / 255), [split.u8.length / 784, 1, 28, 28]);
const train = to01(await loadSplit('train'));
const test = to01(await loadSplit('test'));
const model = await wasmzoo.vae({ inputSize: 784, hidden, latent });
wasmzoo.nn.manualSeed(0);
console.log(`VAE 784-${hidden}-${latent} (${model.parameterCount()} parameters), backend ${wasmzoo.backend()}, ${epochs} epochs, batch 128, Adam lr 1e-3; loss = negative ELBO in nats per image`);
const history = await model.fit(train, train, {
  epochs, batchSize: 128, optimizer: new wasmzoo.optim.Adam({ lr: 1e-3 }), seed: 1,
  onEpochEnd: (l) => console.log(`epoch ${l.epoch}: train loss ${l.loss.toFixed(2)} (${l.seconds.toFixed(1)} s)`),
});
const ev = model.evaluate(test);
console.log(`test: negative ELBO ${ev.loss.toFixed(2)} = reconstruction ${ev.reconstruction.toFixed(2)} + KL ${ev.kl.toFixed(2)} nats per image`);
const secs = history.epochs.map((e) => e.seconds);
console.log(`mean epoch ${(secs.reduce((a, b) => a + b, 0) / secs.length).toFixed(1)} s`);

// 8 rows of 8 samples, then one row interpolating between test images 0 and 1 (an ankle boot and a pullover)
const samples = model.sample(64, { seed: 0 }).data;
const img = (i) => test.data.subarray(i * 784, (i + 1) * 784);
const path = model.interpolate(wasmzoo.tensor(img(0), [784]), wasmzoo.tensor(img(1), [784]), 8).data;
const all = new Float32Array(72 * 784);
all.set(samples, 0);
all.set(path, 64 * 784);
const g = imageGrid(all, 72, 28, 28, 8, 1, 3); // 3x: 28-pixel images are tiny on screen
mkdirSync(dirname(png), { recursive: true });
writeFileSync(png, encodeGrayPng(g.width, g.height, g.pixels, deflateSync));
console.log(`wrote ${png} (${g.width}x${g.height}: 64 samples, then a latent interpolation row)`);
if (out) {
  const tensors = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, { dtype: 'F16', shape: t.shape, data: t.data }]));
  writeFileSync(out, wasmzoo.writeSafetensors(tensors, {
    model: 'vae', sizes: `784,${hidden},${latent}`, dataset: 'fashion-mnist', input: 'pixels / 255', test_neg_elbo: ev.loss.toFixed(2), trainer: 'examples/train-vae.mjs (wasmzoo)',
  }));
  console.log('wrote', out);
}
