// Trains a GRU that reads each Fashion-MNIST image row by row (28 steps of 28 pixels) in wasmzoo (single
// thread), with a linear head on the last hidden state; reports per-epoch wall time and test accuracy.
//   npm run build && node --experimental-wasm-relaxed-simd examples/train-gru-fashion.mjs [epochs] [hidden] [out.safetensors]
import { writeFileSync } from 'node:fs';
import * as wasmzoo from '../dist/wasmzoo.mjs';
import { loadSplit } from './fashion-mnist.mjs';

const epochs = Number(process.argv[2] ?? 10);
const hidden = Number(process.argv[3] ?? 128);
const out = process.argv[4];
const limit = Number(process.env.LIMIT ?? 0); // train on the first LIMIT images only (timing runs)
const rows = (s) => {
  const n = limit && s.x.shape[0] > limit ? limit : s.x.shape[0];
  return { x: wasmzoo.tensor(s.x.data.subarray(0, n * 784), [n, 28, 28]), y: wasmzoo.tensor(s.y.data.subarray(0, n), [n]) };
};
const train = rows(await loadSplit('train'));
const test = await loadSplit('test');
const testX = wasmzoo.tensor(test.x.data, [test.x.shape[0], 28, 28]);
await wasmzoo.init();
wasmzoo.nn.manualSeed(0);
const model = new wasmzoo.SequenceGRU({ inputSize: 28, hiddenSize: hidden, numLayers: 1, outputSize: 10 });
const batchSize = 128;
console.log(`GRU 28x28 -> ${hidden} -> 10 (${model.parameterCount()} parameters) on ${train.x.shape[0]} images, backend ${wasmzoo.backend()}, ${epochs} epochs, batch ${batchSize}, Adam lr 2e-3 cosine, clip 5`);
const history = await model.fit(train.x, train.y, {
  epochs,
  batchSize,
  optimizer: new wasmzoo.optim.Adam({ lr: 2e-3 }),
  scheduler: (opt) => new wasmzoo.optim.CosineAnnealingLR(opt, { tMax: epochs }),
  clipGradNorm: 5,
  validationData: [testX, test.y],
  seed: 1,
  onEpochEnd: (l) => console.log(`epoch ${l.epoch}: loss ${l.loss.toFixed(4)} train acc ${l.accuracy.toFixed(4)} test acc ${l.valAccuracy.toFixed(4)} (${l.seconds.toFixed(1)} s)`),
});
const last = history.epochs[history.epochs.length - 1];
console.log(`test accuracy ${last.valAccuracy.toFixed(4)}; mean epoch ${(history.epochs.reduce((s, e) => s + e.seconds, 0) / epochs).toFixed(1)} s`);
if (out) {
  writeFileSync(out, model.saveSafetensors({ model: 'sequence_gru', hidden: String(hidden), dataset: 'fashion-mnist', test_accuracy: last.valAccuracy.toFixed(4), trainer: 'examples/train-gru-fashion.mjs (wasmzoo)' }));
  console.log('wrote', out);
}
