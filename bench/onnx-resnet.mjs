// ONNX session speed on an exported ResNet-18 (issue 11: "an exported ResNet-18 runs as fast as
// wasmzoo.resnet18"): wasmzoo's ONNX session vs the core's wasmzoo.resnet18 on the same hashed weights, and
// onnxruntime-web on the same file, one thread each, batch 1, in one Node process.
//
// Run: node --experimental-wasm-relaxed-simd bench/onnx-resnet.mjs [--reps=N] [--model=resnet18] [--threads=1] [--profile]
// (--model: an export_onnx.py model, e.g. resnet18, resnet50, googlenet; compared with the zoo's own build when
// there is one)
// Needs .cache/onnx/<model>.onnx (/usr/bin/python3 tools/export_onnx.py resnet18: torchvision's network with
// tools/hashweights.py's weights, seed 1, the values wasmzoo's hashWeights(model, 1) gives), read from this
// checkout's .cache or, in a worktree, from ONNX_DIR (default /work/main/.cache/onnx).
//
// Method: load them all (the ONNX session also with { fuse: false }: every node as in the file), check each one's logits against PyTorch's (written by export_onnx.py), warm up, then
// `reps` rounds; each round runs every runtime once in a rotating order, so a neighbour's load on this shared
// machine hits all alike; report the median. --profile times the ONNX session per op type (one extra pass,
// wrapping the session's exec; not part of the timed rounds).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { bundleWasmzoo } from './bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEED = 1; // as tools/export_onnx.py
const args = process.argv.slice(2);
const opt = (name, dflt) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const reps = Number(opt('reps', 15));
const name = opt('model', 'resnet18');
const profile = args.includes('--profile');
const threads = Number(opt('threads', 1));
const log = (...a) => console.error(...a);

const dirs = [join(root, '.cache', 'onnx'), process.env.ONNX_DIR ?? '/work/main/.cache/onnx'];
const dir = dirs.find((d) => existsSync(join(d, `${name}.onnx`)));
if (!dir) throw new Error(`no ${name}.onnx in ${dirs.join(' or ')}: run \`/usr/bin/python3 tools/export_onnx.py ${name}\``);
const file = join(dir, `${name}.onnx`);
const expected = JSON.parse(readFileSync(join(dir, `${name}.expected.json`), 'utf8'));

const { path } = await bundleWasmzoo({ extra: ["export { loadOnnx, ONNX_OPS } from './src/onnx/index.ts';"], name: 'wasmzoo-onnx-bench.mjs' });
const wz = await import(path);
await wz.init({ threads });
log(`wasmzoo backend ${wz.backend()}, ${wz.threads()} thread(s)`);

const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;
ort.env.logLevel = 'error';

const shape = expected.input_shape;
const input = wz.hashInto(new Float32Array(shape.reduce((a, b) => a * b, 1)), SEED, 'input', shape);
const x = wz.tensor(input, shape);
const bytes = new Uint8Array(readFileSync(file));

let t0 = performance.now();
const onnx = await wz.loadOnnx(bytes);
const onnxLoad = performance.now() - t0;
const unfused = await wz.loadOnnx(bytes, { fuse: false }); // every node as in the file, NCHW between ops
// the zoo's own build of the network, when it has one (MobileNetV2 and others: ONNX vs onnxruntime-web only)
const zoo = typeof wz[name] === 'function' ? wz.hashWeights(await wz[name](), SEED) : undefined;
t0 = performance.now();
const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
const ortLoad = performance.now() - t0;
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, shape) };

const runners = {
  'wasmzoo onnx': () => onnx.forward(x).data,
  'wasmzoo onnx, fuse: false': () => unfused.forward(x).data,
  ...(zoo ? { [`wasmzoo.${name}`]: () => zoo.forward(x).data } : {}),
  'onnxruntime-web': async () => (await session.run(feeds))[session.outputNames[0]].data,
};

function check(out) {
  const head = expected.logits_head;
  let worst = 0;
  for (let i = 0; i < head.length; i++) worst = Math.max(worst, Math.abs(out[i] - head[i]));
  const top = [...out].map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, expected.top5.length).map((p) => p[1]);
  return `${top.join() === expected.top5.join() ? 'top-5 ok' : 'TOP-5 DIFFERS'}, max|d| vs PyTorch ${worst.toExponential(1)}`;
}

log(`${name}: onnx session ${onnx.runtimeNodes} nodes per call, load ${onnxLoad.toFixed(0)} ms (onnxruntime-web session ${ortLoad.toFixed(0)} ms)`);
for (const [label, run] of Object.entries(runners)) log(`  ${label}: ${check(await run())}`);
for (const run of Object.values(runners)) { await run(); await run(); } // warm-up (tiers wasm up)

const labels = Object.keys(runners);
const times = Object.fromEntries(labels.map((l) => [l, []]));
for (let i = 0; i < reps; i++) {
  for (let j = 0; j < labels.length; j++) {
    const l = labels[(i + j) % labels.length];
    const t = performance.now();
    await runners[l]();
    times[l].push(performance.now() - t);
  }
}
const median = (a) => { const s = [...a].sort((p, q) => p - q); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const ms = Object.fromEntries(labels.map((l) => [l, median(times[l])]));
const zooMs = ms[`wasmzoo.${name}`];
for (const l of labels) {
  const vsZoo = zooMs ? `${(ms[l] / zooMs).toFixed(2)}x wasmzoo.${name}, ` : '';
  log(`  ${l}: median ${ms[l].toFixed(1)} ms, best ${Math.min(...times[l]).toFixed(1)} ms over ${reps} (${vsZoo}${(ms[l] / ms['onnxruntime-web']).toFixed(2)}x onnxruntime-web)`);
}
console.log(JSON.stringify({ model: name, reps, ms, best: Object.fromEntries(labels.map((l) => [l, Math.min(...times[l])])) }));

if (profile) {
  // per step: wrap the session's private exec (one call per scheduled node, fused ones included)
  const spent = {};
  const exec = onnx.exec;
  onnx.exec = function (node, values) {
    const t = performance.now();
    try { return exec.call(this, node, values); } finally {
      const key = node.fused ? node.fused.nodes.map((n) => n.opType).join('+') : node.opType;
      spent[key] = (spent[key] ?? 0) + performance.now() - t;
    }
  };
  const rounds = 5;
  t0 = performance.now();
  for (let i = 0; i < rounds; i++) onnx.forward(x);
  const total = (performance.now() - t0) / rounds;
  delete onnx.exec;
  const rows = Object.entries(spent).sort((a, b) => b[1] - a[1]);
  log(`profile (ms per call, ${rounds} calls): total ${total.toFixed(1)}`);
  for (const [op, t] of rows) log(`  ${op.padEnd(28)} ${(t / rounds).toFixed(2)}`);
  log(`  ${'(session outside exec)'.padEnd(28)} ${(total - rows.reduce((a, r) => a + r[1], 0) / rounds).toFixed(2)}`);
}
session.release();
zoo?.dispose?.();
