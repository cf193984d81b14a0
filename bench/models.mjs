// Model benchmark: wasmzoo (plain SIMD and relaxed SIMD) against onnxruntime-web (wasm backend) and
// TensorFlow.js (wasm backend), single thread each, batch 1, in one Node process, on the same hashed
// weights and input (tools/hashweights.py == src/models/hashweights.ts, seed SEED).
//
// Run: npm run bench:models          (builds the kernels, then node --experimental-wasm-relaxed-simd ...)
//      node --experimental-wasm-relaxed-simd bench/models.mjs [name-regex] [--reps=N] [--no-write]
// Needs the ONNX files: /usr/bin/python3 tools/export_onnx.py  (writes the git-ignored .cache/onnx/).
//
// Method: build every runtime's model, run each once and compare its logits with PyTorch's (written by
// export_onnx.py) - so all runtimes provably compute the same network - then warm up (2 runs each), then
// `reps` rounds; in each round every runtime runs once, in a rotating order, so load changes on this
// shared 2-core machine hit all runtimes alike. Report the median. FLOPs = 2 x multiply-adds of conv and
// linear layers (counted by bench/tfjs-models.mjs from the layer shapes). Peak wasm memory of wasmzoo: the
// arena's high-water mark (weights + activation plan + scratch) and the wasm memory size, each model
// measured on a fresh runtime.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { bundleWasmzoo } from './bundle.mjs';
import { buildTfjs } from './tfjs-models.mjs';
import { threadArgs, perThreadCount } from './threads.mjs';
// threads of every runtime: --threads=N (or env THREADS); --threads=1,2 runs each count in a child and puts
// them side by side in bench/RESULTS-threads.md (bench/threads.mjs)
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { counts: THREAD_COUNTS, json: JSON_OUT } = threadArgs();
if (THREAD_COUNTS.length > 1) {
  // Each runtime in a process of its own: init({ backend }) for a second variant would replace the first's
  // runtime (and end its workers), and two thread pools in one process on 2 cores starve each other
  // (onnxruntime-web's idle threads spin: wasmzoo's LSTM took 34 ms beside it, 5 ms alone).
  const script = fileURLToPath(import.meta.url);
  const base = process.argv.slice(2);
  const relaxed = perThreadCount(script, THREAD_COUNTS, [...base, '--wasmzoo=relaxed', '--no-peers']);
  const simd = perThreadCount(script, THREAD_COUNTS, [...base, '--wasmzoo=simd', '--no-peers']);
  const peers = perThreadCount(script, THREAD_COUNTS, [...base, '--wasmzoo=none']);
  for (const n of THREAD_COUNTS) {
    for (const row of relaxed[n]) {
      for (const other of [simd[n], peers[n]]) Object.assign(row.ms, other.find((r) => r.name === row.name)?.ms);
    }
  }
  await threadsReport(relaxed);
  process.exit(0);
}
const THREADS = THREAD_COUNTS[0];

const SEED = 1; // as tools/export_onnx.py
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith('--'));
const repsArg = Number(args.find((a) => a.startsWith('--reps='))?.slice(7));
const write = !args.includes('--no-write');

// reps: rounds of timed runs (fewer for the slow models; the machine is shared)
const MODELS = [
  { name: 'lenet5', reps: 30, inner: 50 }, // ~0.1 ms: time 50 runs per sample
  { name: 'alexnet', reps: 9 },
  { name: 'resnet18', reps: 9 },
  { name: 'googlenet', reps: 9 },
  { name: 'resnet50', reps: 7 },
  { name: 'vgg16', reps: 5 },
].filter((m) => !filter || new RegExp(filter).test(m.name));

const log = (...a) => console.error(...a);

// ---- runtimes -------------------------------------------------------------------------------------------
const { path: bundlePath, skipped } = await bundleWasmzoo();
for (const s of skipped) log(`note: wasmzoo bundle leaves out ${s}`);
const wz = await import(bundlePath);

const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = THREADS;
ort.env.wasm.simd = true; // the only CPU build 1.2x ships is SIMD anyway
ort.env.logLevel = 'error';

const tf = await import('@tensorflow/tfjs');
const tfwasm = await import('@tensorflow/tfjs-backend-wasm');
tfwasm.setWasmPaths(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
tfwasm.setThreadsCount(THREADS); // Node: TF.js runs its wasm backend on one thread whatever is asked (left out above 1)
await tf.setBackend('wasm');
await tf.ready();
tf.enableProdMode();

// `keys`: all state_dict keys of the model (the residual batch-norm rule of the hash looks at them)
const hash = (key, shape, keys) => wz.hashInto(new Float32Array(shape.reduce((a, b) => a * b, 1)), SEED, key, shape, keys);
async function stateKeys(name) {
  if (typeof wz[name] !== 'function') return new Set();
  const m = await wz[name]();
  const keys = new Set(Object.keys(m.stateDict()));
  m.dispose?.();
  return keys;
}

function nchwToNhwc(x, [n, c, h, w]) {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + k] = x[(b * c + k) * h * w + i];
  return out;
}

async function wasmzooRunner(name, backend, input, shape) {
  if (typeof wz[name] !== 'function') return { missing: `wasmzoo.${name} builder not there yet` };
  await wz.init({ backend, threads: THREADS });
  if (wz.backend() !== backend) return { missing: `backend ${backend} unavailable` };
  const model = wz.hashWeights(await wz[name](), SEED);
  const x = wz.tensor(input, shape);
  const rt = wz.runtime();
  const out = model.forward(x).data;
  return {
    run: () => model.forward(x).data,
    out,
    mem: { highWater: rt.arena.highWater, memory: rt.arena.memory.buffer.byteLength, live: rt.arena.used, params: model.parameterCount(), activations: model.planFor(shape).activationBytes },
    dispose: () => model.dispose(),
  };
}

async function ortRunner(name, input, shape) {
  const file = join(root, '.cache', 'onnx', `${name}.onnx`);
  if (!existsSync(file)) return { missing: `no ${file}: run \`/usr/bin/python3 tools/export_onnx.py ${name}\`` };
  const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, shape) };
  const run = async () => (await session.run(feeds))[session.outputNames[0]].data;
  return { run, out: await run(), dispose: () => session.release() };
}

function tfjsRunner(built, input) {
  const x = tf.tensor(nchwToNhwc(input, built.nchwShape), built.inputShape);
  const run = () => {
    const y = built.model.predict(x);
    const d = y.dataSync();
    y.dispose();
    return d;
  };
  return { run, out: run(), dispose: () => { x.dispose(); built.model.dispose(); } };
}

// ---- measure --------------------------------------------------------------------------------------------
const median = (a) => { const s = [...a].sort((p, q) => p - q); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

function check(out, expected) {
  if (!expected) return 'no reference';
  const head = expected.logits_head;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < head.length; i++) { worst = Math.max(worst, Math.abs(out[i] - head[i])); scale = Math.max(scale, Math.abs(head[i])); }
  const top = [...out].map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, expected.top5.length).map((p) => p[1]);
  const sameTop = top.join() === expected.top5.join();
  return `${sameTop ? 'top-5 ok' : 'TOP-5 DIFFERS'}, max|d| ${worst.toExponential(1)} (|logit| <= ${scale.toFixed(1)})`;
}

const rows = [];
for (const { name, reps: defaultReps, inner = 1 } of MODELS) {
  const reps = repsArg || defaultReps;
  log(`\n== ${name}`);
  const keys = await stateKeys(name);
  const built = buildTfjs(tf, name, (key, shape) => hash(key, shape, keys));
  const shape = built.nchwShape;
  const gflop = (2 * built.macs) / 1e9;
  const input = wz.hashInto(new Float32Array(shape.reduce((a, b) => a * b, 1)), SEED, 'input', shape);
  const expFile = join(root, '.cache', 'onnx', `${name}.expected.json`);
  const expected = existsSync(expFile) ? JSON.parse(readFileSync(expFile, 'utf8')) : undefined;
  const only = args.find((a) => a.startsWith('--wasmzoo='))?.slice(10); // one variant per process (threads)
  const peers = !args.includes('--no-peers');
  const skip = (what) => ({ missing: what });
  const runners = {
    'wasmzoo simd': only && only !== 'simd' ? skip('other process') : await wasmzooRunner(name, 'simd', input, shape),
    'wasmzoo relaxed': only && only !== 'relaxed' ? skip('other process') : await wasmzooRunner(name, 'relaxed', input, shape),
    'onnxruntime-web': peers ? await ortRunner(name, input, shape) : skip('--no-peers'),
    'tfjs-wasm': !peers ? skip('--no-peers') : THREADS === 1 ? tfjsRunner(built, input) : skip('TF.js wasm runs one thread in Node'),
  };
  const active = Object.entries(runners).filter(([label, r]) => {
    if (r.missing) log(`  ${label}: skipped (${r.missing})`);
    else log(`  ${label}: ${check(r.out, expected)}`);
    return !r.missing;
  });
  for (const [, r] of active) { await r.run(); await r.run(); } // warm-up (also tiers up wasm)
  const times = Object.fromEntries(active.map(([l]) => [l, []]));
  for (let i = 0; i < reps; i++) {
    for (let j = 0; j < active.length; j++) {
      const [label, r] = active[(i + j) % active.length];
      const t0 = performance.now();
      for (let k = 0; k < inner; k++) await r.run();
      times[label].push((performance.now() - t0) / inner);
    }
  }
  const ms = Object.fromEntries(Object.entries(times).map(([l, t]) => [l, median(t)]));
  const best = Object.fromEntries(Object.entries(times).map(([l, t]) => [l, Math.min(...t)]));
  const spread = Object.fromEntries(Object.entries(times).map(([l, t]) => [l, (Math.max(...t) - Math.min(...t)) / median(t)]));
  for (const [l, v] of Object.entries(ms)) log(`  ${l}: median ${v.toFixed(3)} ms over ${reps}${inner > 1 ? `x${inner}` : ''} (spread ${(100 * spread[l]).toFixed(0)}%), ${(gflop / v * 1e3).toFixed(1)} GFLOP/s`);
  const mem = runners['wasmzoo relaxed'].mem ?? runners['wasmzoo simd'].mem; // undefined in a --wasmzoo= child
  rows.push({ name, gflop, ms, best, spread, mem, checks: Object.fromEntries(active.map(([l, r]) => [l, check(r.out, expected)])) });
  for (const [, r] of active) r.dispose?.();
}

// ---- report ---------------------------------------------------------------------------------------------
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(rows));
const mb = (b) => (b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 2 : 0);
const fmt = (v, g) => (v === undefined ? '-' : `${v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(1) : v.toFixed(0)}${g ? ` (${(g / v * 1e3).toFixed(0)})` : ''}`);
const lines = [
  '| model | GFLOP | wasmzoo simd ms | wasmzoo relaxed ms | onnxruntime-web ms | tfjs wasm ms | simd / faster peer | relaxed / faster peer | wasmzoo wasm memory MB: arena high water / memory size (live after run; fp32 weights; activation plan) |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const peer = Math.min(r.ms['onnxruntime-web'] ?? Infinity, r.ms['tfjs-wasm'] ?? Infinity);
  const ratio = (l, target) => {
    const v = r.ms[l];
    if (v === undefined || peer === Infinity) return '-';
    const q = v / peer;
    return `${q.toFixed(2)}x ${r.name === 'lenet5' ? '' : q <= target ? '(meets ' + target + ')' : '(target ' + target + ')'}`.trim();
  };
  const g = r.name === 'lenet5' ? 0 : r.gflop; // GFLOP/s is meaningless at 0.0008 GFLOP
  lines.push(`| ${r.name} | ${r.gflop < 0.01 ? r.gflop.toFixed(4) : r.gflop.toFixed(2)} | ${fmt(r.ms['wasmzoo simd'], g)} | ${fmt(r.ms['wasmzoo relaxed'], g)} | ${fmt(r.ms['onnxruntime-web'], g)} | ${fmt(r.ms['tfjs-wasm'], g)} | ${ratio('wasmzoo simd', 0.75)} | ${ratio('wasmzoo relaxed', 0.6)} | ${r.mem ? `${mb(r.mem.highWater)} / ${mb(r.mem.memory)} (${mb(r.mem.live)}; ${mb(r.mem.params * 4)}; ${mb(r.mem.activations)})` : '-'} |`);
}
const table = lines.join('\n');
// The same ratios from each runtime's fastest run: less sensitive to a neighbour's burst than the median.
const bestLines = ['| model | simd / faster peer (best runs) | relaxed / faster peer (best runs) |', '|---|---|---|'];
for (const r of rows) {
  const peer = Math.min(r.best['onnxruntime-web'] ?? Infinity, r.best['tfjs-wasm'] ?? Infinity);
  const q = (l) => (r.best[l] === undefined || peer === Infinity ? '-' : `${(r.best[l] / peer).toFixed(2)}x`);
  bestLines.push(`| ${r.name} | ${q('wasmzoo simd')} | ${q('wasmzoo relaxed')} |`);
}
const bestTable = bestLines.join('\n');
console.log(table);
console.log();
console.log(bestTable);

if (write) {
  const checks = rows.map((r) => `- ${r.name}: ${Object.entries(r.checks).map(([l, c]) => `${l} ${c}`).join('; ')}`).join('\n');
  const spreads = rows.map((r) => `${r.name} ${Object.entries(r.spread).map(([l, s]) => `${l} ${(100 * s).toFixed(0)}%`).join(', ')}`).join('; ');
  const md = `# Model benchmark (npm run bench:models)

Single thread, batch 1, Node ${process.version} (\`--experimental-wasm-relaxed-simd\`), ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} vCPU
shared with other work (load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(', ')}). ${new Date().toISOString().slice(0, 10)}.
Median milliseconds, GFLOP/s in brackets (FLOPs = 2 x multiply-adds of conv and linear layers). Peers: onnxruntime-web
(wasm backend, numThreads 1, graph optimisation 'all', BN folded by the ONNX export) and TensorFlow.js with its wasm
backend (1 thread; BN folded into the convolutions by bench/tfjs-models.mjs). Same hashed weights and input everywhere.
Targets (issue 3): wasmzoo <= 0.75x the faster peer with plain SIMD, <= 0.6x with relaxed SIMD.

${table}

The same ratios from each runtime's fastest run:

${bestTable}

Noise: rounds alternate the runtimes; max-min spread of the timed runs relative to the median: ${spreads}.
A busy neighbour on these 2 cores slows single-thread runs by up to 2x; compare ratios, not absolute times.

Output check against PyTorch's logits (first 16 values, top-5), per runtime:
${checks}
`;
  writeFileSync(join(root, 'bench', 'RESULTS-models.md'), md);
  log('\nwrote bench/RESULTS-models.md');
}

/**
 * The thread table: per model, each runtime at every count, wasmzoo's speedup over its own 1-thread run and
 * its time over onnxruntime-web's at the same count (issue 10's targets: 2 threads >= 1.85x faster than 1,
 * <= 0.6x of onnxruntime-web with 2 threads). Counts ran in separate processes one after the other, so a
 * neighbour's load between them shows in the speedups; the ratios to onnxruntime-web come from one process.
 */
async function threadsReport(byCount) {
  const counts = Object.keys(byCount).map(Number);
  const [lo, hi] = [Math.min(...counts), Math.max(...counts)];
  const names = byCount[lo].map((r) => r.name);
  const f = (v) => (v === undefined ? '-' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(1) : v.toFixed(0));
  const x = (a, b) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
  const head = ['model', 'GFLOP'];
  for (const l of ['wasmzoo simd', 'wasmzoo relaxed', 'onnxruntime-web']) for (const n of counts) head.push(`${l} ${n}t ms`);
  head.push(`simd ${lo}t/${hi}t`, `relaxed ${lo}t/${hi}t`, `onnxruntime-web ${lo}t/${hi}t`, `simd / ort at ${hi}t`, `relaxed / ort at ${hi}t`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const name of names) {
    const row = (n) => byCount[n].find((r) => r.name === name)?.ms ?? {};
    const cells = [name, byCount[lo].find((r) => r.name === name).gflop.toFixed(2)];
    for (const l of ['wasmzoo simd', 'wasmzoo relaxed', 'onnxruntime-web']) for (const n of counts) cells.push(f(row(n)[l]));
    for (const l of ['wasmzoo simd', 'wasmzoo relaxed', 'onnxruntime-web']) cells.push(x(row(lo)[l], row(hi)[l]));
    cells.push(x(row(hi)['wasmzoo simd'], row(hi)['onnxruntime-web']), x(row(hi)['wasmzoo relaxed'], row(hi)['onnxruntime-web']));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const table = lines.join('\n');
  console.log(table);
  if (!process.argv.includes('--no-write')) {
    writeFileSync(join(root, 'bench', 'RESULTS-threads.md'), `# Threads: models at ${counts.join(' and ')} threads (npm run bench:models -- --threads=${counts.join(',')})

Batch 1, Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} vCPU (load average at the end:
${os.loadavg().map((v) => v.toFixed(1)).join(', ')}), ${new Date().toISOString().slice(0, 10)}. Median ms over alternating rounds; each thread count
in its own process (wasmzoo \`init({ threads: n })\`, onnxruntime-web \`env.wasm.numThreads = n\`; TF.js's wasm
backend runs one thread in Node, so it is left out here: see bench/RESULTS-models.md). Every runtime and count ran in a process of
its own, one after the other (two thread pools in one process on 2 cores starve each other).
Targets (issue 10): ${lo}t/${hi}t >= 1.85x for the convnets; wasmzoo <= 0.6x of onnxruntime-web at ${hi} threads.

${table}
`);
    console.error('\nwrote bench/RESULTS-threads.md');
  }
}
