// Roofline probes: what this CPU delivers to wasm right now, measured with tiny kernels compiled here by asc
// (independent of wasmzoo's kernels), for reading benchmark numbers against a ceiling.
//   - fmaPeak():  10 independent f32x4.relaxed_madd chains, no memory traffic: the multiply-add peak (GEMMs,
//                 which reuse each loaded value many times, can reach it).
//   - gemvPeak(): a matrix-vector product laid out like the recurrent step kernels (h[k] broadcast, one weight
//                 vector load per multiply-add, 6 to 12 accumulators, ~1 MB of weights): the best of the
//                 accumulator counts. Batch-1 recurrences are GEMVs, each weight used once per step, so this
//                 is their ceiling: V8 emits a load and an FMA per 4 multiply-adds (it does not fold loads
//                 into SIMD arithmetic), and the loop then runs out of issue slots, not of FMA units.
// Both return GFLOP/s (best of several runs), or null when asc or relaxed SIMD is not available.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function compile(src) {
  let asc;
  try { asc = (await import('assemblyscript/asc')).default; } catch { return null; }
  const r = await asc.compileString(src, { optimizeLevel: 3, runtime: 'stub', enable: ['simd', 'relaxed-simd'], initialMemory: 64 });
  if (r.error) return null;
  try { return new WebAssembly.Instance(new WebAssembly.Module(r.binary), {}).exports; } catch { return null; }
}

/** Best GFLOP/s of `run(reps)` doing `flop` FLOPs per rep, after warm-up calls that let V8 tier the code up. */
async function best(run, flop, reps) {
  for (let i = 0; i < 20; i++) { run(1); await sleep(2); } // V8 compiles optimised wasm in the background
  let g = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    run(reps);
    g = Math.max(g, (flop * reps) / ((performance.now() - t0) * 1e6));
  }
  return g;
}

export async function fmaPeak() {
  const acc = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const k = await compile(`export function fma(n: i32): f32 {
    const a = f32x4.splat(1), b = f32x4.splat(0.999);
    let ${acc.map((c) => `${c} = f32x4.splat(0)`).join(', ')};
    for (let i = 0; i < n; i++) {
      ${acc.map((c) => `${c} = f32x4.relaxed_madd(a, b, ${c});`).join(' ')}
    }
    let s = f32x4.splat(0);
    ${acc.map((c) => `s = f32x4.add(s, ${c});`).join(' ')}
    return f32x4.extract_lane(s, 0);
  }`);
  if (!k) return null;
  const n = 1e6;
  return best((reps) => k.fma(n * reps), n * 80, 20);
}

export async function gemvPeak() {
  let top = null;
  for (const n of [6, 8, 10, 12]) {
    const acc = Array.from({ length: n }, (_, i) => `c${i}`);
    // one pass = n accumulators (4n rows) over K columns, as assembly/rnn.ts's passes
    const k = await compile(`function pass(p: usize, hp: usize, w: usize, bytes: usize): void {
      ${acc.map((c, i) => `let ${c} = v128.load(p, ${16 * i});`).join(' ')}
      let h = hp;
      const wend = w + bytes;
      while (w < wend) {
        const vh = v128.load32_splat(h);
        h += 4;
        ${acc.map((c, i) => `${c} = f32x4.relaxed_madd(vh, v128.load(w, ${16 * i}), ${c});`).join(' ')}
        w += ${16 * n};
      }
      ${acc.map((c, i) => `v128.store(p, ${c}, ${16 * i});`).join(' ')}
    }
    export function gemv(p: usize, hp: usize, w: usize, K: i32, passes: i32, reps: i32): void {
      const bytes = <usize>K * ${16 * n};
      for (let r = 0; r < reps; r++) for (let i = 0; i < passes; i++) pass(p + <usize>i * ${16 * n}, hp, w + <usize>i * bytes, bytes);
    }`);
    if (!k) return null;
    const K = 256, passes = Math.floor(1024 / (4 * n)); // ~1024 x 256: one W_hh of the benchmark's LSTM
    const g = await best((reps) => k.gemv(1 << 16, 1 << 17, 1 << 20, K, passes, reps), 2 * K * passes * 4 * n, 300);
    top = Math.max(top ?? 0, g);
  }
  return top;
}
