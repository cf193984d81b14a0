// Recurrent benchmark: wasmzoo vs onnxruntime-web (wasm, 1 thread) vs TensorFlow.js (wasm backend, 1 thread),
// in one Node process, batch 1, single thread:
//   - a 2-layer LSTM and a 2-layer GRU, input 128, hidden 256, 64 timesteps (whole sequence);
//   - the single-step latency of the same networks (one timestep from a carried state, as when streaming).
// Prints the median ms per runtime and the ratio to onnxruntime-web. All three run the same PyTorch weights
// (TF.js: LSTM converted; its GRU is the original formulation without reset_after, so random weights, timing
// only), and the outputs are checked against PyTorch's before timing.
//
// Run: npm run bench:rnn        (builds, then node --experimental-wasm-relaxed-simd bench/rnn.mjs [rounds])
// Needs the ONNX files: /usr/bin/python3 tools/export_rnn_onnx.py  (writes the git-ignored .cache/rnn/)
// Method: warm up (>= 10 calls and ~1 s per runtime), then rounds that time wasmzoo and onnxruntime-web once
// each in turn (alternating, so background load hits both alike), then TF.js alone; report the medians.
// The machine is shared: run a few times (bench/RESULTS-rnn.md).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmaPeak, gemvPeak } from './probes.mjs';
import { threadArgs } from './threads.mjs';
// threads of wasmzoo and onnxruntime-web: --threads=N (or env THREADS), 1 unless set; TF.js's wasm backend
// runs one thread in Node, so above 1 it is left out
const THREADS = threadArgs().counts[0];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'rnn');
const ROUNDS = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 30);
const STEP_ROUNDS = ROUNDS * 10;
const I = 128, H = 256, L = 2, T = 64;

const missing = ['lstm', 'gru'].flatMap((n) => [`${n}.onnx`, `${n}_step.onnx`, `${n}.safetensors`, `${n}.expected.json`]).filter((f) => !existsSync(join(cache, f)));
if (missing.length) {
  console.error(`bench:rnn: missing ${missing.map((f) => `.cache/rnn/${f}`).join(', ')}.\n` +
    'Generate them once with PyTorch (development time only, git-ignored):\n\n    /usr/bin/python3 tools/export_rnn_onnx.py\n');
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'wasmzoo.mjs'))) {
  console.error('bench:rnn: dist/wasmzoo.mjs is missing: run `npm run build` (npm run bench:rnn does it for you)');
  process.exit(2);
}

const wasmzoo = await import(join(root, 'dist', 'wasmzoo.mjs'));
const ort = await import('onnxruntime-web');
const tf = await import('@tensorflow/tfjs');
const tfwasm = await import('@tensorflow/tfjs-backend-wasm');

// ---- set-up ----
const backend = await wasmzoo.init({ threads: THREADS });
ort.env.wasm.numThreads = THREADS;
ort.env.logLevel = 'error';
const require = createRequire(import.meta.url);
tfwasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
if (tfwasm.setThreadsCount) tfwasm.setThreadsCount(1);
await tf.setBackend('wasm');
await tf.ready();

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const maxDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

function check(what, got, want) {
  const d = maxDiff(got, want);
  if (!(d < 1e-3)) throw new Error(`${what}: output differs from PyTorch by ${d}`);
  return d;
}

async function setup(kind) {
  const G = kind === 'lstm' ? 4 : 3;
  const weights = new Uint8Array(readFileSync(join(cache, `${kind}.safetensors`)));
  const expected = JSON.parse(readFileSync(join(cache, `${kind}.expected.json`), 'utf8'));
  const x = Float32Array.from(expected.x);
  const x1 = x.subarray(0, I);
  const runners = {};

  // wasmzoo
  const Layer = kind === 'lstm' ? wasmzoo.nn.LSTM : wasmzoo.nn.GRU;
  const m = new Layer(I, H, { numLayers: L }).loadStateDict(weights);
  const xt = wasmzoo.tensor(x, [T, 1, I]);
  const x1t = wasmzoo.tensor(x1.slice(), [1, I]);
  let st = m.zeroState(1);
  runners.wasmzoo = {
    seq: () => m.forward(xt).data,
    step: () => { st = m.step(x1t, st).state; },
  };
  const wz = runners.wasmzoo.seq();
  const dWz = check(`wasmzoo ${kind}`, wz.subarray((T - 1) * H), expected.y_last);

  // onnxruntime-web
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const seqS = await ort.InferenceSession.create(readFileSync(join(cache, `${kind}.onnx`)), opts);
  const stepS = await ort.InferenceSession.create(readFileSync(join(cache, `${kind}_step.onnx`)), opts);
  const feedX = { x: new ort.Tensor('float32', x, [T, 1, I]) };
  const zeros = () => new ort.Tensor('float32', new Float32Array(L * H), [L, 1, H]);
  let stepFeed = { x: new ort.Tensor('float32', x1.slice(), [1, 1, I]), h0: zeros(), ...(kind === 'lstm' ? { c0: zeros() } : {}) };
  runners.ort = {
    seq: async () => (await seqS.run(feedX)).y.data,
    step: async () => {
      const r = await stepS.run(stepFeed);
      stepFeed = { x: stepFeed.x, h0: r.h, ...(kind === 'lstm' ? { c0: r.c } : {}) };
    },
  };
  const dOrt = check(`onnxruntime-web ${kind}`, (await runners.ort.seq()).subarray((T - 1) * H), expected.y_last);

  // TensorFlow.js: Keras layers; LSTM kernel = W_ihᵀ, recurrent = W_hhᵀ, bias = b_ih + b_hh (same gate order)
  const sd = wasmzoo.readSafetensors(weights);
  const per = kind === 'lstm' ? 2 : 1; // state tensors per layer
  const build = (steps, withState) => {
    const inp = tf.input({ shape: [steps, I] });
    const inStates = [], outStates = [];
    let y = inp;
    for (let l = 0; l < L; l++) {
      const F = l ? H : I;
      const init = withState ? Array.from({ length: per }, () => tf.input({ shape: [H] })) : [];
      inStates.push(...init);
      let weightsL;
      if (kind === 'lstm') {
        const wih = sd.toFloat32(`weight_ih_l${l}`), whh = sd.toFloat32(`weight_hh_l${l}`);
        const bih = sd.toFloat32(`bias_ih_l${l}`), bhh = sd.toFloat32(`bias_hh_l${l}`);
        const k = new Float32Array(F * G * H), r = new Float32Array(H * G * H), b = new Float32Array(G * H);
        for (let o = 0; o < G * H; o++) {
          for (let i = 0; i < F; i++) k[i * G * H + o] = wih[o * F + i];
          for (let i = 0; i < H; i++) r[i * G * H + o] = whh[o * H + i];
          b[o] = bih[o] + bhh[o];
        }
        weightsL = [tf.tensor2d(k, [F, G * H]), tf.tensor2d(r, [H, G * H]), tf.tensor1d(b)];
      }
      const cfg = { units: H, returnSequences: true, returnState: withState, weights: weightsL, recurrentActivation: 'sigmoid' };
      const layer = kind === 'lstm' ? tf.layers.lstm(cfg) : tf.layers.gru(cfg);
      const out = layer.apply(y, withState ? { initialState: init } : undefined);
      if (withState) { y = out[0]; outStates.push(...out.slice(1)); } else y = out;
    }
    return tf.model({ inputs: [inp, ...inStates], outputs: withState ? [y, ...outStates] : y });
  };
  const tfSeq = build(T, false);
  const tfStep = build(1, true);
  const tx = tf.tensor3d(x, [1, T, I]);
  const tx1 = tf.tensor3d(x1.slice(), [1, 1, I]);
  let tfState = Array.from({ length: 2 * per }, () => tf.zeros([1, H]));
  runners.tfjs = {
    seq: async () => { const y = tfSeq.predict(tx); const d = await y.data(); y.dispose(); return d; },
    step: async () => {
      const outs = tfStep.predict([tx1, ...tfState]);
      await outs[0].data();
      outs[0].dispose();
      for (const s of tfState) s.dispose();
      tfState = outs.slice(1);
    },
  };
  const tfOut = await runners.tfjs.seq();
  const dTf = kind === 'lstm' ? check(`tfjs ${kind}`, tfOut.subarray((T - 1) * H), expected.y_last) : NaN;
  return { runners, diffs: { wasmzoo: dWz, ort: dOrt, tfjs: dTf } };
}

// ONLY=wasmzoo,ort limits the runtimes timed.
const ONLY = process.env.ONLY ? process.env.ONLY.split(',') : null;

/** Median ms of `which` ('seq' | 'step') for each runner in `names`, alternating them round by round. */
async function timeAll(runners, names, which, rounds) {
  names = names.filter((n) => !ONLY || ONLY.includes(n));
  const times = Object.fromEntries(names.map((n) => [n, []]));
  // warm-up: long enough for every engine to tier its wasm up (V8 compiles the optimised code in the
  // background; timing before it lands measures the baseline compiler)
  for (const n of names) {
    const t0 = performance.now();
    for (let w = 0; w < 200 && (w < 10 || performance.now() - t0 < 1000); w++) await runners[n][which]();
  }
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      // a synchronous API (wasmzoo) is timed without an await: awaiting would run other runtimes' queued
      // microtasks inside our timing window
      const t0 = performance.now();
      const r = runners[n][which]();
      if (r && typeof r.then === 'function') await r;
      times[n].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}

const fmt = (v) => (v < 1 ? v.toFixed(3) : v.toFixed(2));

// ---- roofline: the fastest any single-threaded wasm implementation could be here ----
// FLOPs of one forward pass (2 per multiply-add; gate math and biases not counted):
//   input projections W_ih x of all timesteps: one GEMM per layer (each weight reused T times) -> FMA peak;
//   recurrent products W_hh h_{t-1}: T sequential GEMVs per layer (each weight used once per step) -> GEMV peak.
// One step (T = 1) is all GEMV. The bound ignores the gate math, memory and call overheads: it is optimistic.
const fma = await fmaPeak();
const gemv = await gemvPeak();
const flops = (G, steps) => ({
  proj: 2 * steps * G * H * (I + (L - 1) * H),
  rec: 2 * steps * L * G * H * H,
});
function bound(G, steps) {
  if (!fma || !gemv) return undefined;
  const { proj, rec } = flops(G, steps);
  return steps === 1 ? (proj + rec) / (gemv * 1e6) : proj / (fma * 1e6) + rec / (gemv * 1e6);
}
if (fma && gemv) {
  console.log(`roofline probes (bench/probes.mjs): FMA peak ${fma.toFixed(1)} GFLOP/s, GEMV ${gemv.toFixed(1)} GFLOP/s; ` +
    '"bound" = input-projection FLOPs at the FMA peak + recurrent FLOPs at the GEMV rate (one step: all at the GEMV rate)');
}
console.log(`wasmzoo ${backend} vs onnxruntime-web ${ort.env.versions?.web ?? ''} (wasm, ${ort.env.wasm.numThreads} thread) vs TF.js ${tf.version.tfjs} (wasm); batch 1, median ms of ${ROUNDS} (sequence) / ${STEP_ROUNDS} (step) alternating rounds`);
console.log('| model | wasmzoo | onnxruntime-web | tfjs | wasmzoo / ort | bound | bound / ort | max |Δ| vs PyTorch (wz, ort, tfjs) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const kind of ['lstm', 'gru']) {
  const { runners, diffs } = await setup(kind);
  // wasmzoo and onnxruntime-web alternate; TF.js runs afterwards on its own: it is 4-100x slower and its
  // allocations and cache traffic between the others' calls slowed them ~2x (measured), which would
  // flatter nobody and blur the ratio that matters.
  const seq = { ...(await timeAll(runners, ['wasmzoo', 'ort'], 'seq', ROUNDS)), ...(await timeAll(runners, ['tfjs'], 'seq', Math.min(ROUNDS, 10))) };
  const step = { ...(await timeAll(runners, ['wasmzoo', 'ort'], 'step', STEP_ROUNDS)), ...(await timeAll(runners, ['tfjs'], 'step', Math.min(STEP_ROUNDS, 50))) };
  const name = kind === 'lstm' ? 'LSTM' : 'GRU';
  const d = `${diffs.wasmzoo.toExponential(1)}, ${diffs.ort.toExponential(1)}, ${Number.isNaN(diffs.tfjs) ? 'n/a' : diffs.tfjs.toExponential(1)}`;
  const f = (v) => (v === undefined ? '-' : fmt(v));
  const ratio = (r) => (r.wasmzoo && r.ort ? `${(r.wasmzoo / r.ort).toFixed(2)}x` : '-');
  const G = kind === 'lstm' ? 4 : 3;
  const bSeq = bound(G, T), bStep = bound(G, 1);
  const bRatio = (b, r) => (b !== undefined && r.ort ? `${(b / r.ort).toFixed(2)}x` : '-');
  console.log(`| 2-layer ${name}, T=${T} | ${f(seq.wasmzoo)} | ${f(seq.ort)} | ${f(seq.tfjs)} | ${ratio(seq)} | ${f(bSeq)} | ${bRatio(bSeq, seq)} | ${d} |`);
  console.log(`| 2-layer ${name}, one step | ${f(step.wasmzoo)} | ${f(step.ort)} | ${f(step.tfjs)} | ${ratio(step)} | ${f(bStep)} | ${bRatio(bStep, step)} | |`);
}
