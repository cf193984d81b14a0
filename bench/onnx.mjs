// ONNX benchmark (issue 11): the same .onnx files through wasmzoo/onnx and onnxruntime-web (wasm), one Node
// process, batch 1, N threads each (--threads=N, default 1): load time (parse + plan: wasmzoo's loadOnnx from
// bytes, onnxruntime-web's InferenceSession.create from bytes) and run time (median of alternating rounds),
// after checking both give the same outputs.
//
//   npm run bench:onnx [-- name-regex] [--reps=N] [--threads=N]
// Needs the git-ignored files: /usr/bin/python3 tools/export_onnx.py (convnets, hashed weights) and
// /usr/bin/python3 tools/export_rnn_onnx.py (the 2-layer LSTM, T = 64).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { threadArgs } from './threads.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith('--'));
const reps = Number(args.find((a) => a.startsWith('--reps='))?.slice(7)) || 9;
const THREADS = threadArgs(args).counts[0];
// --only=wasmzoo|ort: time one runtime (above 1 thread each runs in a process of its own: two thread pools
// in one process on 2 cores starve each other; onnxruntime-web's idle threads spin)
const ONLY = args.find((a) => a.startsWith('--only='))?.slice(7);

const MODELS = [
  { name: 'resnet18', file: '.cache/onnx/resnet18.onnx', input: [1, 3, 224, 224] },
  { name: 'resnet50', file: '.cache/onnx/resnet50.onnx', input: [1, 3, 224, 224] },
  { name: 'mobilenet_v2', file: '.cache/onnx/mobilenet_v2.onnx', input: [1, 3, 224, 224] },
  { name: 'squeezenet1_1', file: '.cache/onnx/squeezenet1_1.onnx', input: [1, 3, 224, 224] },
  { name: 'googlenet', file: '.cache/onnx/googlenet.onnx', input: [1, 3, 224, 224] },
  { name: 'lstm 2x256 T64', file: '.cache/rnn/lstm.onnx', input: [64, 1, 128] },
].filter((m) => !filter || new RegExp(filter).test(m.name));

const wz = await import(join(root, 'dist', 'wasmzoo.mjs'));
const wzOnnx = await import(join(root, 'dist', 'onnx.mjs'));
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = THREADS;
ort.env.logLevel = 'error';
await wz.init({ threads: THREADS });

const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
const log = (...a) => console.error(...a);
const rows = [];
for (const m of MODELS) {
  const path = join(root, m.file);
  if (!existsSync(path)) {
    log(`${m.name}: skipped, no ${m.file} (see the header for the export command)`);
    continue;
  }
  const bytes = new Uint8Array(readFileSync(path));
  const n = m.input.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5);
  // load: best of 3 (the first includes V8's compilation of the loader code)
  let model, session;
  const loadWz = [], loadOrt = [];
  for (let i = 0; i < 3; i++) {
    let t0 = performance.now();
    model = await wzOnnx.loadOnnx(bytes);
    loadWz.push(performance.now() - t0);
    if (ONLY === 'wasmzoo') continue; // no onnxruntime-web session at all: its threads would share the cores
    t0 = performance.now();
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    loadOrt.push(performance.now() - t0);
  }
  const inName = model.inputs[0].name, outName = model.outputs[0].name;
  const runWz = () => model.run({ [inName]: wz.tensor(x, m.input) })[outName].data;
  const runOrt = session
    ? async () => (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, m.input) }))[session.outputNames[0]].data
    : async () => runWz();
  const a = runWz(), b = await runOrt();
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) { diff = Math.max(diff, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
  // warm-up: >= 10 calls and ~1 s each, so V8 has tiered the wasm up (timing earlier measures its baseline compiler)
  for (const [who, f] of [['w', async () => runWz()], ['o', runOrt]]) {
    if (ONLY && (who === 'w') !== (ONLY === 'wasmzoo')) continue;
    const t0 = performance.now();
    for (let i = 0; i < 200 && (i < 10 || performance.now() - t0 < 1000); i++) await f();
  }
  const tw = [], to = [];
  for (let r = 0; r < reps; r++) {
    const order = (r % 2 ? ['o', 'w'] : ['w', 'o']).filter((w) => !ONLY || (w === 'w') === (ONLY === 'wasmzoo'));
    for (const who of order) {
      const t0 = performance.now();
      if (who === 'w') runWz(); else await runOrt();
      (who === 'w' ? tw : to).push(performance.now() - t0);
    }
  }
  const row = { name: m.name, wz: tw.length ? median(tw) : NaN, ort: to.length ? median(to) : NaN, loadWz: Math.min(...loadWz), loadOrt: loadOrt.length ? Math.min(...loadOrt) : NaN, diff, scale, nodes: model.runtimeNodes };
  rows.push(row);
  log(`${m.name}: wasmzoo ${row.wz.toFixed(1)} ms, onnxruntime-web ${row.ort.toFixed(1)} ms (${(row.wz / row.ort).toFixed(2)}x); load ${row.loadWz.toFixed(0)} / ${row.loadOrt.toFixed(0)} ms; max |d| ${diff.toExponential(1)} (|y| <= ${scale.toFixed(1)})`);
  await session?.release();
}

console.log(`\nwasmzoo/onnx vs onnxruntime-web ${ort.env.versions?.web ?? ''} (wasm), ${THREADS} thread${THREADS > 1 ? 's' : ''}, batch 1, Node ${process.version}, ` +
  `${os.cpus()[0]?.model ?? ''} x${os.cpus().length} (load average ${os.loadavg()[0].toFixed(1)}), median of ${reps} alternating rounds; load = best of 3, from bytes\n`);
console.log('| model | wasmzoo ms | onnxruntime-web ms | wasmzoo / ort | load wasmzoo ms | load ort ms | max abs diff |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.wz.toFixed(1)} | ${r.ort.toFixed(1)} | ${(r.wz / r.ort).toFixed(2)}x | ${r.loadWz.toFixed(0)} | ${r.loadOrt.toFixed(0)} | ${r.diff.toExponential(1)} |`);
}
process.exit(0);
