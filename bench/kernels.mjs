// Kernel benchmark: GFLOP/s (FLOPs = 2*M*N*K, for conv M = N*OH*OW, N = OC, K = KH*KW*C/groups) of GEMM and
// conv2d (rows "... winograd": the F(2x2, 3x3) kernel on the 3x3 stride-1 shapes, same FLOP count, so an
// effective rate), for the scalar, simd and relaxed builds, single thread, on square GEMMs and the real layer shapes of
// LeNet-5, ResNet-18 and VGG-16. Loads build/wasmzoo.<variant>.wasm directly (no vitest, no bundler).
//
// Run: npm run bench:kernels   (Node 20 needs --experimental-wasm-relaxed-simd for the relaxed build)
//      node --experimental-wasm-relaxed-simd bench/kernels.mjs [filter-regex] [variant,...]
// Method: warm up (~WARM_MS, tier-up), then repeat until ~TARGET_MS of work or MAX_RUNS samples; report the
// median (samples of sub-millisecond shapes are batches of calls).
// Scalar gets a smaller time budget (it is ~10x slower). The machine is shared: run several times and
// keep the best median (see bench/RESULTS-kernels.md).
import { readFileSync } from 'node:fs';
import { fmaPeak } from './probes.mjs';

const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const variants = (process.argv[3] ?? 'scalar,simd,relaxed').split(',');
const TARGET_MS = { scalar: 150, simd: 300, relaxed: 300 };
const WARM_MS = { scalar: 50, simd: 100, relaxed: 100 };
const MAX_RUNS = Number(process.env.BENCH_RUNS ?? 15);
const MIN_RUNS = 3;
/** BENCH_STAT=min reports the fastest sample instead of the median (closer to an idle machine's number). */
const STAT = process.env.BENCH_STAT ?? 'median';

function load(name) {
  const bytes = readFileSync(new URL(`../build/wasmzoo.${name}.wasm`, import.meta.url));
  let inst;
  try {
    inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  } catch (e) {
    return null; // e.g. relaxed SIMD without the flag
  }
  return inst.exports;
}

/** Bump allocator over the module memory, reset per shape; 64-byte aligned. */
class Mem {
  constructor(k) { this.k = k; this.base = k.heap_base(); this.top = this.base; }
  reset() { this.top = this.base; }
  alloc(floats) {
    const p = this.top;
    this.top = Math.ceil((p + Math.max(4, floats * 4)) / 64) * 64;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return p;
  }
  fill(p, n, seed) {
    const f = new Float32Array(this.k.memory.buffer, p, n);
    let s = seed >>> 0;
    for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; f[i] = s / 4294967296 - 0.5; }
  }
}

function time(variant, fn) {
  // Warm-up: V8 first runs wasm in its baseline tier (Liftoff) and swaps in TurboFan code compiled in the
  // background, so keep calling until ~WARM_MS have passed (and at least twice).
  const w0 = performance.now();
  let calls = 0;
  while (calls < 2 || (performance.now() - w0 < WARM_MS[variant] && calls < 200)) { fn(); calls++; }
  // Tiny shapes (batch-1 fc, LeNet) take microseconds: time a batch of calls per sample.
  const one = (performance.now() - w0) / calls;
  const reps = Math.max(1, Math.floor(1 / Math.max(one, 1e-4)));
  const times = [];
  let total = 0;
  while (times.length < MIN_RUNS || (total < TARGET_MS[variant] && times.length < MAX_RUNS)) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = performance.now() - t0;
    times.push(dt / reps);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return STAT === 'min' ? times[0] : times[times.length >> 1];
}

// ---- shapes ----
const convOut = (H, K, S, P, D = 1) => Math.floor((H + 2 * P - D * (K - 1) - 1) / S) + 1;
/** [name, C, H, W, OC, KH, S, P, groups] (square kernels, batch 1) */
const convs = [
  ['lenet c1 1x32x32 6@5x5', 1, 32, 32, 6, 5, 1, 0],
  ['lenet c3 6x14x14 16@5x5', 6, 14, 14, 16, 5, 1, 0],
  ['resnet18 stem 3x224 64@7x7/2', 3, 224, 224, 64, 7, 2, 3],
  ['resnet18 3x3 64@56', 64, 56, 56, 64, 3, 1, 1],
  ['resnet18 3x3/2 64->128@56', 64, 56, 56, 128, 3, 2, 1],
  ['resnet18 1x1/2 64->128@56', 64, 56, 56, 128, 1, 2, 0],
  ['resnet18 3x3 128@28', 128, 28, 28, 128, 3, 1, 1],
  ['resnet18 3x3/2 128->256@28', 128, 28, 28, 256, 3, 2, 1],
  ['resnet18 1x1/2 128->256@28', 128, 28, 28, 256, 1, 2, 0],
  ['resnet18 3x3 256@14', 256, 14, 14, 256, 3, 1, 1],
  ['resnet18 3x3/2 256->512@14', 256, 14, 14, 512, 3, 2, 1],
  ['resnet18 1x1/2 256->512@14', 256, 14, 14, 512, 1, 2, 0],
  ['resnet18 3x3 512@7', 512, 7, 7, 512, 3, 1, 1],
  ['vgg16 3x3 3->64@224', 3, 224, 224, 64, 3, 1, 1],
  ['vgg16 3x3 64@224', 64, 224, 224, 64, 3, 1, 1],
  ['vgg16 3x3 128@112', 128, 112, 112, 128, 3, 1, 1],
  ['vgg16 3x3 256@56', 256, 56, 56, 256, 3, 1, 1],
  ['vgg16 3x3 512@28', 512, 28, 28, 512, 3, 1, 1],
  ['vgg16 3x3 512@14', 512, 14, 14, 512, 3, 1, 1],
];
/** [name, M, N, K] for GEMM (C = A·B, A row-major, B pre-packed as a layer's weights would be) */
const gemms = [
  ['gemm 256', 256, 256, 256],
  ['gemm 512', 512, 512, 512],
  ['gemm 1024', 1024, 1024, 1024],
  ['lenet fc 400->120 (batch 1)', 1, 120, 400],
  ['lenet fc 120->84 (batch 1)', 1, 84, 120],
  ['lenet fc 84->10 (batch 1)', 1, 10, 84],
  ['alexnet fc6 9216->4096 (batch 1)', 1, 4096, 9216],
];

function benchGemm(k, mem, variant, [, M, N, K]) {
  mem.reset();
  const a = mem.alloc(M * K), b = mem.alloc(K * N), c = mem.alloc(M * N), bias = mem.alloc(N);
  const pb = mem.alloc(k.gemm_packed_b_size(K, N));
  mem.fill(a, M * K, 1); mem.fill(b, K * N, 2); mem.fill(bias, N, 3);
  k.gemm_pack_b(pb, b, K, N, N, 1);
  const ms = time(variant, () => k.gemm_packed(c, a, pb, bias, M, N, K, K, 1, N, 0, 0));
  return { ms, gflops: (2 * M * N * K) / (ms * 1e6) };
}

function benchConv(k, mem, variant, [, C, H, W, OC, KS, S, P, groups = 1]) {
  if (!k.conv2d_nhwc) return null;
  mem.reset();
  const N = 1, OH = convOut(H, KS, S, P), OW = convOut(W, KS, S, P), ICg = C / groups;
  const inp = mem.alloc(N * H * W * C), out = mem.alloc(N * OH * OW * OC), bias = mem.alloc(OC);
  const w = mem.alloc(OC * ICg * KS * KS);
  const pw = mem.alloc(k.conv2d_packed_size(OC, ICg, KS, KS, groups));
  const scratchBytes = k.conv2d_scratch_size(N, H, W, C, OH, OW, OC, KS, KS, S, S, P, P, 1, 1, groups);
  const scratch = mem.alloc(Math.ceil(scratchBytes / 4));
  mem.fill(inp, N * H * W * C, 1); mem.fill(w, OC * ICg * KS * KS, 2); mem.fill(bias, OC, 3);
  k.conv2d_pack_weights(pw, w, OC, ICg, KS, KS, groups);
  const ms = time(variant, () => k.conv2d_nhwc(out, inp, pw, bias, N, H, W, C, OH, OW, OC, KS, KS, S, S, P, P, 1, 1,
    groups, OC, 2 /* relu */, scratch, 0));
  const flops = 2 * N * OH * OW * OC * ICg * KS * KS;
  return { ms, gflops: flops / (ms * 1e6), scratchBytes };
}

/** Winograd F(2x2, 3x3) on the 3x3 stride-1 shapes; GFLOP/s counts the direct conv's FLOPs (effective rate). */
function benchWinograd(k, mem, variant, [, C, H, W, OC, KS, S, P, groups = 1]) {
  if (!k.conv2d_winograd || KS !== 3 || S !== 1 || groups !== 1) return null;
  mem.reset();
  const N = 1, OH = convOut(H, KS, S, P), OW = convOut(W, KS, S, P);
  const inp = mem.alloc(N * H * W * C), out = mem.alloc(N * OH * OW * OC), bias = mem.alloc(OC);
  const w = mem.alloc(OC * C * 9);
  const pw = mem.alloc(k.conv2d_winograd_packed_size(OC, C));
  const scratch = mem.alloc(Math.ceil(k.conv2d_winograd_scratch_size(N, OH, OW, C, OC) / 4));
  mem.fill(inp, N * H * W * C, 1); mem.fill(w, OC * C * 9, 2); mem.fill(bias, OC, 3);
  k.conv2d_winograd_pack(pw, w, OC, C);
  const ms = time(variant, () => k.conv2d_winograd(out, inp, pw, bias, N, H, W, C, OH, OW, OC, P, P, OC, 2, scratch, 0));
  const flops = 2 * N * OH * OW * OC * C * 9;
  return { ms, gflops: flops / (ms * 1e6) };
}

const peak = await fmaPeak();
if (peak) console.log(`# FMA peak probe (bench/probes.mjs): ${peak.toFixed(1)} GFLOP/s`);
const loaded = Object.fromEntries(variants.map((v) => [v, load(v)]));
for (const v of variants) if (!loaded[v]) console.log(`# ${v}: not available in this engine (relaxed needs --experimental-wasm-relaxed-simd)`);
const rows = [
  ...gemms.map((g) => ({ name: g[0], run: (k, m, v) => benchGemm(k, m, v, g) })),
  ...convs.map((c) => ({ name: c[0], run: (k, m, v) => benchConv(k, m, v, c) })),
  ...convs.filter((c) => c[5] === 3 && c[6] === 1).map((c) => ({ name: `${c[0]} winograd`, run: (k, m, v) => benchWinograd(k, m, v, c) })),
];
const head = `| shape | ${variants.map((v) => `${v} GFLOP/s (ms)`).join(' | ')} |`;
console.log(head);
console.log(`|---|${variants.map(() => '---').join('|')}|`);
const t0 = performance.now();
for (const row of rows) {
  if (filter && !filter.test(row.name)) continue;
  const cells = [];
  for (const v of variants) {
    const k = loaded[v];
    const r = k ? row.run(k, new Mem(k), v) : null;
    cells.push(r ? `${r.gflops.toFixed(1)} (${r.ms < 1 ? r.ms.toFixed(3) : r.ms.toFixed(1)})` : '-');
  }
  console.log(`| ${row.name} | ${cells.join(' | ')} |`);
}
const peak2 = await fmaPeak();
if (peak2) console.log(`# peak probe again: ${peak2.toFixed(1)} GFLOP/s`);
console.log(`# total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
