// Trains LeNet-5 on Fashion-MNIST in wasmzoo (single thread) and reports per-epoch time and test accuracy.
//   npm run build && node --experimental-wasm-relaxed-simd examples/train-lenet.mjs [epochs] [out.safetensors]
import { writeFileSync } from 'node:fs';
import * as wasmzoo from '../dist/wasmzoo.mjs';
import { loadSplit } from './fashion-mnist.mjs';

const epochs = Number(process.argv[2] ?? 8);
const out = process.argv[3];
const train = await loadSplit('train');
const test = await loadSplit('test');
const model = await wasmzoo.lenet5();
wasmzoo.nn.manualSeed(0);
console.log(`training LeNet-5 on ${train.x.shape[0]} images, backend ${wasmzoo.backend()}, ${epochs} epochs, batch 128, Adam lr 2e-3 cosine`);
const history = await model.fit(train.x, train.y, {
  epochs,
  batchSize: 128,
  optimizer: new wasmzoo.optim.Adam({ lr: 2e-3 }),
  scheduler: (opt) => new wasmzoo.optim.CosineAnnealingLR(opt, { tMax: epochs }),
  validationData: [test.x, test.y],
  seed: 1,
  onEpochEnd: (l) => console.log(`epoch ${l.epoch}: loss ${l.loss.toFixed(4)} train acc ${l.accuracy.toFixed(4)} test acc ${l.valAccuracy.toFixed(4)} (${l.seconds.toFixed(1)} s)`),
});
const last = history.epochs[history.epochs.length - 1];
console.log(`test accuracy ${last.valAccuracy.toFixed(4)}; mean epoch ${(history.epochs.reduce((s, e) => s + e.seconds, 0) / epochs).toFixed(1)} s`);
if (out) {
  writeFileSync(out, model.saveSafetensors({ model: 'lenet5', dataset: 'fashion-mnist', test_accuracy: last.valAccuracy.toFixed(4), trainer: 'examples/train-lenet.mjs (wasmzoo)' }));
  console.log('wrote', out);
}
