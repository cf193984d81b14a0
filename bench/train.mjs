// Training speed: wall time per Fashion-MNIST-sized epoch (60000 samples) for LeNet-5 (batch 128, Adam),
// the dense autoencoder 784-256-64-256-784 (batch 128, Adam, MSE) and a row-by-row GRU (28 steps x 28
// features, hidden 128, batch 128, Adam), single thread, in wasmzoo, TensorFlow.js
// (tfjs-backend-cpu, the backend TF.js trains convnets on: its wasm backend lacks conv gradients) and PyTorch
// (Debian's python3-torch, torch.set_num_threads(1), when /usr/bin/python3 has it; NOTE: Debian's build has a
// slow BLAS for dense layers, so its autoencoder time is pessimistic). Synthetic data of the real
// shapes: time per step is data-independent. Steps are timed after warm-up and extrapolated to an epoch.
//
//   npm run build && node --experimental-wasm-relaxed-simd bench/train.mjs [steps=30]
import { spawnSync } from 'node:child_process';
import * as wasmzoo from '../dist/wasmzoo.mjs';
import * as tf from '@tensorflow/tfjs';
import { threadArgs } from './threads.mjs';
// threads of wasmzoo: --threads=N (or env THREADS), 1 unless set; the peers here (TF.js cpu, PyTorch) run one thread
const THREADS = threadArgs().counts[0];

const STEPS = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 30);
const B = 128;
const EPOCH = 60000;
const rand = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

async function timeAsync(fn, warm = 2) {
  for (let i = 0; i < warm; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) await fn();
  return (performance.now() - t0) / STEPS;
}

function time(fn, warm = 5) {
  for (let i = 0; i < warm; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) fn();
  return (performance.now() - t0) / STEPS;
}

const nets = {
  lenet5: {
    wasmzoo: async () => wasmzoo.lenet5(),
    x: [B, 1, 28, 28],
    loss: 'crossEntropy',
    tfjs: () => {
      const m = tf.sequential();
      m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }));
      m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }));
      m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      m.add(tf.layers.flatten());
      m.add(tf.layers.dense({ units: 120, activation: 'relu' }));
      m.add(tf.layers.dense({ units: 84, activation: 'relu' }));
      m.add(tf.layers.dense({ units: 10 }));
      m.compile({ optimizer: tf.train.adam(1e-3), loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) });
      return { m, x: tf.randomNormal([B, 28, 28, 1]), y: tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), 'int32'), 10) };
    },
    torch: `m = LeNet5(); x = torch.randn(${B}, 1, 28, 28); y = torch.arange(${B}) % 10; lossf = F.cross_entropy`,
  },
  autoencoder: {
    wasmzoo: async () => {
      const { nn } = wasmzoo;
      return new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 64), new nn.ReLU(),
        new nn.Linear(64, 256), new nn.ReLU(), new nn.Linear(256, 784));
    },
    x: [B, 784],
    loss: 'mse',
    tfjs: () => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }));
      m.add(tf.layers.dense({ units: 64, activation: 'relu' }));
      m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
      m.add(tf.layers.dense({ units: 784 }));
      m.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
      const x = tf.randomNormal([B, 784]);
      return { m, x, y: x };
    },
    torch: `m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784)); x = torch.randn(${B}, 784); y = x; lossf = F.mse_loss`,
  },
  // a GRU reading each image row by row (examples/train-gru-fashion.mjs): 28 steps of 28 features, hidden 128
  gru: {
    wasmzoo: async () => new wasmzoo.SequenceGRU({ inputSize: 28, hiddenSize: 128, numLayers: 1, outputSize: 10 }),
    x: [B, 28, 28],
    loss: 'crossEntropy',
    tfjs: () => {
      const m = tf.sequential();
      m.add(tf.layers.gru({ inputShape: [28, 28], units: 128 }));
      m.add(tf.layers.dense({ units: 10 }));
      m.compile({ optimizer: tf.train.adam(1e-3), loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) });
      return { m, x: tf.randomNormal([B, 28, 28]), y: tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), 'int32'), 10) };
    },
    torch: `
class G(nn.Module):
    def __init__(self):
        super().__init__(); self.gru = nn.GRU(28, 128, batch_first=True); self.head = nn.Linear(128, 10)
    def forward(self, x):
        return self.head(self.gru(x)[0][:, -1])
m = G(); x = torch.randn(${B}, 28, 28); y = torch.arange(${B}) % 10; lossf = F.cross_entropy`,
  },
};

function torchStep(setup) {
  const py = `
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, 'tools')
from lenet import LeNet5
torch.set_num_threads(1)
${setup}
opt = torch.optim.Adam(m.parameters(), 1e-3)
def step():
    opt.zero_grad(); lossf(m(x), y).backward(); opt.step()
for _ in range(5): step()
t = time.perf_counter()
for _ in range(${STEPS}): step()
print((time.perf_counter() - t) / ${STEPS} * 1000)
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return Number(r.stdout.trim());
}

await tf.setBackend('cpu');
console.log(`backend ${await wasmzoo.init({ threads: THREADS })}, threads ${THREADS}, ${STEPS} timed steps of batch ${B}; seconds per ${EPOCH}-sample epoch`);
const rows = [];
for (const [name, net] of Object.entries(nets)) {
  const model = await net.wasmzoo();
  const x = wasmzoo.tensor(rand(net.x.reduce((a, b) => a * b)), net.x);
  const y = net.loss === 'mse' ? x : wasmzoo.tensor(Float32Array.from({ length: B }, (_, i) => i % 10), [B]);
  const opt = new wasmzoo.optim.Adam({ lr: 1e-3 });
  const wz = time(() => model.trainStep(x, y, { loss: net.loss, optimizer: opt }));
  const t = net.tfjs();
  const tfStep = await timeAsync(() => t.m.trainOnBatch(t.x, t.y));
  const th = torchStep(net.torch);
  const epoch = (ms) => (ms === undefined ? 'n/a' : ((ms * EPOCH) / B / 1000).toFixed(1));
  rows.push(`| ${name} | ${epoch(wz)} | ${epoch(tfStep)} | ${epoch(th)} | ${(tfStep / wz).toFixed(1)}x | ${th ? (wz / th).toFixed(2) + 'x' : 'n/a'} |`);
}
console.log('\n| model | wasmzoo s/epoch | TF.js cpu s/epoch | PyTorch 1 thread s/epoch | TF.js / wasmzoo | wasmzoo / PyTorch |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
