// wasmzoo demo web app: LeNet-5 (Fashion-MNIST) on a 28x28 drawing pad or a shipped test image, top 3 live,
// backend and timings; a VAE latent-space sampler and an autoencoder anomaly meter when their weights are
// there. Plain ES module, no framework; served from the package root (../dist, ../weights, ../assets) and cached
// by sw.js for offline use. window.__app exposes state for the Chromium test (test/web/web.test.ts).
import * as wasmzoo from '../dist/wasmzoo.mjs';

const $ = (id) => document.getElementById(id);
const CLASSES = wasmzoo.fashionMnistClasses;
const [MEAN] = wasmzoo.FASHION_MNIST_MEAN, [STD] = wasmzoo.FASHION_MNIST_STD; // the LeNet-5 training normalisation
const app = (globalThis.__app = { ready: false, error: null, backend: null, top3: [], extras: {} });

const status = (text) => ($('status').textContent = text);
const ms = (t) => (t < 1 ? `${(t * 1000).toFixed(0)} µs` : `${t.toFixed(2)} ms`);

/** Weight bytes with a progress bar (wasmzoo.loadWeights: streamed fetch, byte-level progress). */
async function download(url) {
  const bar = $('download');
  bar.hidden = false;
  try {
    return await wasmzoo.loadWeights(new URL(url, import.meta.url), {
      onProgress: ({ loaded, total }) => {
        if (total) [bar.max, bar.value] = [total, loaded];
      },
    });
  } finally {
    bar.hidden = true;
  }
}

/** Grey values in [0, 1] (length 784) onto a 28x28 canvas. */
function paint(canvas, grey) {
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.max(0, Math.min(255, Math.round(grey[i] * 255)));
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

// ---- the pad ------------------------------------------------------------------------------------------
const pad = $('pad');
const padCtx = pad.getContext('2d', { willReadFrequently: true });
function clearPad() {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, 28, 28);
}
function padPixels() {
  const d = padCtx.getImageData(0, 0, 28, 28).data;
  const out = new Float32Array(784);
  for (let i = 0; i < 784; i++) out[i] = d[i * 4] / 255;
  return out;
}
let drawing = null;
const at = (e) => [(e.offsetX / pad.clientWidth) * 28, (e.offsetY / pad.clientHeight) * 28];
pad.addEventListener('pointerdown', (e) => {
  pad.setPointerCapture(e.pointerId);
  drawing = at(e);
  select(-1);
  stroke(drawing, drawing);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = at(e);
  stroke(drawing, p);
  drawing = p;
});
for (const ev of ['pointerup', 'pointercancel']) pad.addEventListener(ev, () => (drawing = null));
function stroke([x0, y0], [x1, y1]) {
  padCtx.strokeStyle = '#fff';
  padCtx.lineCap = padCtx.lineJoin = 'round';
  padCtx.lineWidth = Number($('brush').value);
  padCtx.beginPath();
  padCtx.moveTo(x0, y0);
  padCtx.lineTo(x1 + 0.01, y1);
  padCtx.stroke();
  schedule();
}
$('clear').addEventListener('click', () => {
  clearPad();
  select(-1);
  schedule();
});

// ---- models ---------------------------------------------------------------------------------------------
let lenet, samples, labels, vae, ae;
let pending = false;
const times = [];
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    run();
  });
}

function run() {
  if (!lenet) return;
  const px = padPixels();
  const x = wasmzoo.tensor(Float32Array.from(px, (v) => (v - MEAN) / STD), [1, 1, 28, 28]);
  // Timed over REPS calls: pages without cross-origin isolation get performance.now() in 100 µs steps, and a
  // LeNet-5 forward pass takes less than that.
  const REPS = 10;
  const t0 = performance.now();
  let logits;
  for (let r = 0; r < REPS; r++) logits = lenet.forward(x);
  const dt = (performance.now() - t0) / REPS;
  times.push(dt);
  if (times.length > 20) times.shift();
  const top = wasmzoo.topK(logits, 3, CLASSES)[0];
  app.top3 = top.map((e) => e.label);
  $('top3').replaceChildren(...top.map((e) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = e.label;
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(e.probability * 100).toFixed(1)}%`;
    const p = document.createElement('span');
    p.textContent = `${(e.probability * 100).toFixed(1)}%`;
    li.append(name, bar, p);
    return li;
  }));
  // one figure: the median of the last runs (each the mean of REPS calls), steadier than any single run
  $('t-infer').textContent = ms([...times].sort((a, b) => a - b)[times.length >> 1]);
  if (ae) runAutoencoder(px);
  if (vae) app.extras.vaeMu = encodeForVae(px);
}

function select(i) {
  for (const b of document.querySelectorAll('#samples button')) b.classList.toggle('selected', Number(b.dataset.index) === i);
  app.selected = i;
}

function showSample(i) {
  const px = samples.get('images').bytes.subarray(i * 784, (i + 1) * 784);
  const img = padCtx.createImageData(28, 28);
  for (let j = 0; j < 784; j++) img.data.set([px[j], px[j], px[j], 255], j * 4);
  padCtx.putImageData(img, 0, 0);
  select(i);
  run();
}

// thumbnail captions: the class names cut to fit 40 px
const SHORT = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];

/** LeNet-5's class for each shipped sample, in one batch. */
function predictSamples(images, n) {
  const x = wasmzoo.tensor(Float32Array.from(images.subarray(0, n * 784), (v) => (v / 255 - MEAN) / STD), [n, 1, 28, 28]);
  return wasmzoo.topK(lenet.forward(x), 1).map((row) => row[0].index);
}

function buildSampleButtons() {
  const images = samples.get('images').bytes;
  const predicted = predictSamples(images, labels.length);
  app.sampleAccuracy = predicted.filter((p, i) => p === labels[i]).length / labels.length;
  $('samples').replaceChildren(...labels.map((label, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.index = String(i);
    const guess = predicted[i], right = guess === label;
    b.dataset.label = CLASSES[label];
    b.dataset.predicted = CLASSES[guess];
    b.className = right ? 'right' : 'wrong';
    b.title = `test image ${i}: ${CLASSES[label]}${right ? ' (LeNet-5: right)' : ` (LeNet-5 says ${CLASSES[guess]})`}`;
    b.setAttribute('role', 'listitem');
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    paint(c, Float32Array.from(images.subarray(i * 784, (i + 1) * 784), (v) => v / 255));
    const cap = document.createElement('span');
    cap.className = 'cap';
    cap.textContent = SHORT[label];
    b.append(c, cap);
    b.addEventListener('click', () => showSample(i));
    return b;
  }));
}

// ---- optional models: each section stays hidden unless its weights load and the bundle has its builder ----
async function optionalWeights(path, builder) {
  if (typeof wasmzoo[builder] !== 'function') return undefined;
  try {
    return await download(path);
  } catch (e) {
    console.info(`${path} not available (${e.message}): section stays hidden`);
    return undefined;
  }
}

async function setupVae() {
  const bytes = await optionalWeights('../weights/vae-fashion.safetensors', 'vae');
  if (!bytes) return;
  const meta = wasmzoo.readSafetensors(bytes).metadata ?? {};
  const [inputSize, hidden, latent] = (meta.sizes ?? '784,400,20').split(',').map(Number);
  vae = await wasmzoo.vae({ inputSize, hidden, latent, weights: bytes });
  const decodeSliders = () => {
    const z = Float32Array.from(app.extras.vaeMu ?? new Float32Array(latent));
    z[0] += Number($('z0').value);
    z[1] += Number($('z1').value);
    paint($('vae-out'), vae.decode(wasmzoo.tensor(z, [1, latent])).data);
  };
  let seed = 1;
  const sample = () => {
    const s = vae.sample(8, { seed: seed++ }).data;
    $('vae-grid').replaceChildren(...Array.from({ length: 8 }, (_, i) => {
      const c = document.createElement('canvas');
      c.width = c.height = 28;
      paint(c, s.subarray(i * 784, (i + 1) * 784));
      return c;
    }));
  };
  $('z0').addEventListener('input', decodeSliders);
  $('z1').addEventListener('input', decodeSliders);
  $('vae-sample').addEventListener('click', sample);
  app.extras.vaeDecode = decodeSliders;
  sample();
  decodeSliders();
  $('vae-card').hidden = false;
  app.extras.vae = { latent };
}

function encodeForVae(px) {
  const { mu } = vae.encode(wasmzoo.tensor(px, [1, 784]));
  app.extras.vaeMu = mu.data;
  app.extras.vaeDecode?.();
  return mu.data;
}

let aeThreshold = NaN;
async function setupAutoencoder() {
  const bytes = await optionalWeights('../weights/autoencoder-fashion.safetensors', 'autoencoder');
  if (!bytes) return;
  const meta = wasmzoo.readSafetensors(bytes).metadata ?? {};
  const layers = (meta.layers ?? '784,256,64').split(',').map(Number);
  ae = await wasmzoo.autoencoder({ layers, weights: bytes });
  aeThreshold = Number(meta.threshold_p99);
  $('ae-card').hidden = false;
  app.extras.autoencoder = { layers, threshold: aeThreshold };
}

function runAutoencoder(px) {
  const x = wasmzoo.tensor(px, [1, 1, 28, 28]);
  const score = ae.anomalyScore(x).data[0];
  paint($('ae-in'), px);
  paint($('ae-out'), ae.reconstruct(x).data);
  const ratio = Number.isFinite(aeThreshold) ? score / aeThreshold : NaN;
  $('ae-meter').value = Number.isFinite(ratio) ? Math.min(1, ratio / 2) : 0;
  $('ae-verdict').textContent = Number.isFinite(ratio)
    ? `${ratio > 1 ? 'unusual' : 'looks familiar'}: error ${score.toFixed(4)} (${ratio.toFixed(2)}× the 99th percentile)`
    : `reconstruction error ${score.toFixed(4)}`;
  app.extras.anomaly = { score, ratio };
}

// ---- start ----------------------------------------------------------------------------------------------
async function start() {
  const t0 = performance.now();
  clearPad();
  const { backend } = await wasmzoo.init();
  app.backend = backend;
  $('backend').textContent = { relaxed: 'relaxed SIMD', simd: 'SIMD', scalar: 'scalar (no SIMD)' }[backend] ?? backend;
  const [weights, sampleBytes] = await Promise.all([download('../weights/lenet5-fashion.safetensors'), download('../assets/fashion-samples.safetensors')]);
  lenet = await wasmzoo.lenet5({ weights });
  samples = wasmzoo.readSafetensors(sampleBytes);
  labels = Array.from(samples.toNumbers('labels'));
  buildSampleButtons();
  $('t-load').textContent = ms(performance.now() - t0);
  status(`LeNet-5 ready (${lenet.parameterCount().toLocaleString('en-US')} parameters), ${backend} backend`);
  await Promise.all([setupVae(), setupAutoencoder()]);
  showSample(0);
  app.ready = true;
}

function offlineState() {
  const sw = navigator.serviceWorker?.controller ? 'offline-ready' : 'not cached yet';
  $('offline-state').textContent = `(${navigator.onLine ? 'online' : 'offline'}, ${sw})`;
}
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').then(
    () => navigator.serviceWorker.ready.then(offlineState),
    (e) => console.warn(`service worker not registered: ${e.message}`),
  );
  navigator.serviceWorker.addEventListener('controllerchange', offlineState);
}
addEventListener('online', offlineState);
addEventListener('offline', offlineState);
offlineState();

start().catch((e) => {
  app.error = String(e && e.stack ? e.stack : e);
  status(`failed: ${e.message}`);
  console.error(e);
});
