// npm run demo: LeNet-5 trained on Fashion-MNIST (weights shipped in weights/) classifies the 64 sample
// images shipped in assets/, through the built package exactly as a user imports it.
import { readFileSync } from 'node:fs';
import * as wasmzoo from '../dist/wasmzoo.mjs';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const read = (p) => new Uint8Array(readFileSync(new URL(p, import.meta.url)));

const model = await wasmzoo.lenet5({ weights: read('../weights/lenet5-fashion.safetensors') });
console.log(`wasmzoo ${wasmzoo.backend()} backend, LeNet-5 (${model.parameterCount()} parameters)`);

// 64 Fashion-MNIST test images (U8, 28x28) and their labels.
const samples = wasmzoo.readSafetensors(read('../assets/fashion-samples.safetensors'));
const images = samples.get('images').bytes;
const labels = samples.toNumbers('labels');
const n = labels.length;
// The preprocessing the model was trained with: (pixel / 255 - 0.286) / 0.353 (model.meta.preprocessing).
const [mean] = wasmzoo.FASHION_MNIST_MEAN, [std] = wasmzoo.FASHION_MNIST_STD;
const x = new Float32Array(n * 28 * 28);
for (let i = 0; i < x.length; i++) x[i] = (images[i] / 255 - mean) / std;

const input = wasmzoo.tensor(x, [n, 1, 28, 28]);
const t0 = performance.now();
const logits = model.forward(input);
const first = performance.now() - t0;
const reps = 50;
const t1 = performance.now();
for (let r = 0; r < reps; r++) model.forward(input);
const each = (performance.now() - t1) / reps;

const predicted = logits.argmax();
let correct = 0;
for (let i = 0; i < n; i++) {
  const ok = predicted[i] === labels[i];
  correct += ok ? 1 : 0;
  if (i < 12) console.log(`  image ${String(i).padStart(2)}: ${CLASSES[predicted[i]].padEnd(12)} ${ok ? 'ok' : `(label: ${CLASSES[labels[i]]})`}`);
}
console.log(`  ... ${correct}/${n} correct on the shipped samples`);
console.log(`batch of ${n}: ${first.toFixed(2)} ms first call (plans memory), ${each.toFixed(2)} ms per call after`);
model.dispose();
