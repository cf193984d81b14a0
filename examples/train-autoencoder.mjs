// Anomaly detection with a dense autoencoder on Fashion-MNIST: trains on every class but one (pixels in
// [0, 1], MSE, input = target), fits a threshold at the 99th percentile of the training scores, then
// reports the ROC AUC of the reconstruction error separating the held-out class from the other test images.
//   npm run build && node --experimental-wasm-relaxed-simd examples/train-autoencoder.mjs [epochs] [heldOutClass] [out.safetensors] [layers]
//   e.g. ... examples/train-autoencoder.mjs 10 9 weights/autoencoder-fashion.safetensors 784,96,32
//   layers 'conv' trains the convolutional variant (16/32 channels, code 32) instead.
import { writeFileSync } from 'node:fs';
import * as wasmzoo from '../dist/wasmzoo.mjs';
import { loadSplit } from './fashion-mnist.mjs';

const epochs = Number(process.argv[2] ?? 10);
const heldOut = Number(process.argv[3] ?? 9);
const out = process.argv[4];
const conv = process.argv[5] === 'conv';
const layers = conv ? [] : (process.argv[5] ?? '784,256,64').split(',').map(Number);
const names = wasmzoo.fashionMnistClasses ?? [];

/** Pixels in [0, 1] as [N, 1, 28, 28], keeping rows where keep(label). */
function pixels(split, keep) {
  const n = split.y.shape[0];
  const rows = [];
  for (let i = 0; i < n; i++) if (keep(split.y.data[i])) rows.push(i);
  const x = new Float32Array(rows.length * 784);
  rows.forEach((r, j) => { for (let k = 0; k < 784; k++) x[j * 784 + k] = split.u8[r * 784 + k] / 255; });
  return { x: wasmzoo.tensor(x, [rows.length, 1, 28, 28]), labels: rows.map((r) => split.y.data[r]) };
}

/** ROC AUC = P(score of a positive > score of a negative), ties counting half (Mann-Whitney U). */
function rocAuc(pos, neg) {
  const all = [...pos.map((s) => [s, 1]), ...neg.map((s) => [s, 0])].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const rank = (i + 1 + j) / 2; // average rank of the tie group
    for (let k = i; k < j; k++) if (all[k][1]) rankSum += rank;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

const train = await loadSplit('train');
const test = await loadSplit('test');
const normal = pixels(train, (y) => y !== heldOut);
const model = await wasmzoo.autoencoder(conv ? { conv: true } : { layers });
wasmzoo.nn.manualSeed(0);
console.log(`autoencoder ${conv ? 'conv 16-32-code 32' : layers.join('-')} (${model.parameterCount()} parameters), backend ${wasmzoo.backend()}; held out class ${heldOut} (${names[heldOut] ?? '?'}); training on ${normal.x.shape[0]} images, ${epochs} epochs, batch 128, Adam lr 1e-3, MSE`);
const history = await model.fit(normal.x, normal.x, {
  loss: 'mse', epochs, batchSize: 128, optimizer: new wasmzoo.optim.Adam({ lr: 1e-3 }), seed: 1,
  onEpochEnd: (l) => console.log(`epoch ${l.epoch}: train MSE ${l.loss.toFixed(5)} (${l.seconds.toFixed(1)} s)`),
});
const threshold = model.fitThreshold(normal.x, { percentile: 99 });
const all = pixels(test, () => true);
const scores = model.anomalyScore(all.x).data;
const pos = [], neg = [];
all.labels.forEach((y, i) => (y === heldOut ? pos : neg).push(scores[i]));
const flagged = (arr) => arr.filter((s) => s > threshold).length / arr.length;
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
console.log(`test: mean score held-out ${mean(pos).toFixed(5)} vs others ${mean(neg).toFixed(5)}; ROC AUC ${rocAuc(pos, neg).toFixed(4)}`);
console.log(`threshold (99th percentile of training scores) ${threshold.toFixed(5)}: flags ${(100 * flagged(pos)).toFixed(1)}% of held-out, ${(100 * flagged(neg)).toFixed(1)}% of other test images`);
console.log('per-class ROC AUC vs the other known classes (held-out class = positive):');
for (let c = 0; c < 10; c++) {
  if (c === heldOut) continue;
  const cls = all.labels.map((y, i) => [y, scores[i]]).filter(([y]) => y === c).map(([, s]) => s);
  console.log(`  ${c} ${(names[c] ?? '').padEnd(12)} mean score ${mean(cls).toFixed(5)}  AUC(held-out vs this) ${rocAuc(pos, cls).toFixed(4)}`);
}
const secs = history.epochs.map((e) => e.seconds);
console.log(`mean epoch ${(secs.reduce((a, b) => a + b, 0) / secs.length).toFixed(1)} s`);
if (out) {
  const sd = model.stateDict();
  // F16 halves the file; the reader widens it back to f32 (and PyTorch's load_state_dict casts)
  const tensors = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { dtype: 'F16', shape: t.shape, data: t.data }]));
  writeFileSync(out, wasmzoo.writeSafetensors(tensors, {
    model: 'autoencoder', layers: conv ? 'conv' : layers.join(','), dataset: 'fashion-mnist', input: 'pixels / 255, [N, 1, 28, 28] or [N, 784]',
    held_out_class: String(heldOut), roc_auc: rocAuc(pos, neg).toFixed(4), threshold_p99: String(threshold), trainer: 'examples/train-autoencoder.mjs (wasmzoo)',
  }));
  console.log('wrote', out);
}
