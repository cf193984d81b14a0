// How the thread speedup grows with the work: wasmzoo's ResNet-18 (hashed weights, relaxed SIMD when the
// engine has it) at batch 1, 4, 16 on 224x224 and at batch 1 on 112, 224, 448, timed at every thread count
// (each count in its own process, bench/threads.mjs), then the speedup of the highest count over the lowest.
// Small work (batch 1 at 112) is where the split stops paying: per-op dispatch (~5-20 us) and the serial
// parts (packing, the last layers) weigh more.
//
//   npm run build:wasm && node --experimental-wasm-relaxed-simd bench/scaling.mjs [--threads=1,2] [--reps=N] [--no-write]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { bundleWasmzoo } from './bundle.mjs';
import { threadArgs, perThreadCount } from './threads.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const reps = Number(args.find((a) => a.startsWith('--reps='))?.slice(7)) || 5;
const CASES = [[1, 224], [4, 224], [16, 224], [1, 112], [1, 448]];
const { counts, json } = threadArgs(args.some((a) => a.startsWith('--threads=')) ? args : [...args, '--threads=1,2']);
const median = (a) => { const s = [...a].sort((p, q) => p - q); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

if (counts.length > 1) {
  const byCount = perThreadCount(fileURLToPath(import.meta.url), counts, args);
  const [lo, hi] = [Math.min(...counts), Math.max(...counts)];
  const head = ['batch', 'image', ...counts.map((n) => `${n}t ms`), `speedup ${lo}t/${hi}t`, `GFLOP/s at ${hi}t`];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  CASES.forEach(([b, s], i) => {
    const ms = counts.map((n) => byCount[n][i].ms);
    const g = byCount[hi][i].gflop;
    lines.push(`| ${b} | ${s} | ${ms.map((v) => v.toFixed(1)).join(' | ')} | ${(byCount[lo][i].ms / byCount[hi][i].ms).toFixed(2)}x | ${(g / byCount[hi][i].ms * 1e3).toFixed(0)} |`);
  });
  const table = lines.join('\n');
  console.log(table);
  if (!args.includes('--no-write')) {
    writeFileSync(join(root, 'bench', 'RESULTS-scaling.md'), `# Thread speedup against the work (node bench/scaling.mjs)

wasmzoo ResNet-18, ${byCount[lo][0].backend}, Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} vCPU (load average at the end
${os.loadavg().map((v) => v.toFixed(1)).join(', ')}), ${new Date().toISOString().slice(0, 10)}. Median of ${reps} runs per case; each thread count in its own process.

${table}
`);
    console.error('wrote bench/RESULTS-scaling.md');
  }
  process.exit(0);
}

const { path } = await bundleWasmzoo();
const wz = await import(path);
const info = await wz.init({ threads: counts[0] });
const model = wz.hashWeights(await wz.resnet18(), 1);
const rows = [];
for (const [b, s] of CASES) {
  const x = wz.hashTensor(1, 'input', [b, 3, s, s]);
  model.forward(x);
  model.forward(x);
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    model.forward(x);
    t.push(performance.now() - t0);
  }
  // ResNet-18's 1.82 GMAC at 224, scaling with batch and pixels
  const gflop = 2 * 1.8186 * b * (s / 224) ** 2;
  rows.push({ batch: b, size: s, ms: median(t), gflop, backend: String(info) });
  console.error(`  ${counts[0]}t batch ${b} ${s}x${s}: ${median(t).toFixed(1)} ms`);
}
if (json) writeFileSync(json, JSON.stringify(rows));
