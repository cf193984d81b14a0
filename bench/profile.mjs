// Per-op profile of a wasmzoo model: plans the model as forward() does (GraphBuilder + Plan), then times
// every planned op on its own (median of `reps` runs after a warm-up pass) and prints the slowest ops and
// the totals per op kind, so kernel work goes where the time is. Hashed weights (seed 1) and input, batch 1.
//
//   node --experimental-wasm-relaxed-simd bench/profile.mjs resnet18 [relaxed|simd|scalar] [top=25] [reps=5] [threads=1]
import { bundleWasmzoo } from './bundle.mjs';

const [name = 'resnet18', backend = 'relaxed', topArg = '25', repsArg = '5', threadsArg = '1'] = process.argv.slice(2);
const { path, skipped } = await bundleWasmzoo();
for (const s of skipped) console.error(`note: wasmzoo bundle leaves out ${s}`);
const wz = await import(path);
if (typeof wz[name] !== 'function') throw new Error(`wasmzoo.${name} is not there (yet)`);
await wz.init({ backend, threads: Number(threadsArg) });
const model = wz.hashWeights(await wz[name](), 1);
const shape = name === 'lenet5' ? [1, 1, 28, 28] : [1, 3, 224, 224];
const x = wz.hashTensor(1, 'input', shape);
model.forward(x); // the model's own plan: packs the weights once

const rt = wz.runtime();
const g = new wz.GraphBuilder(rt);
const input = g.value(shape);
const plan = new wz.Plan(g, input, wz.toNCHW(g, model.build(g, wz.toNHWC(g, input))));
rt.arena.write(plan.pointer(input), x.data);
// NOTE: Plan keeps its pointer table and scratch block in TS-private fields; they are plain properties at
// run time.
const { ptr, scratchPtr } = plan;
const ops = g.ops;
for (const op of ops) op(ptr, scratchPtr); // warm-up (tiers up the wasm)
const reps = Number(repsArg);
const times = ops.map((op) => {
  const t = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    op(ptr, scratchPtr);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
});
const total = times.reduce((a, b) => a + b, 0);
const pct = (v) => `${((100 * v) / total).toFixed(1)}%`;
console.log(`${name} (${wz.backend()}): ${ops.length} ops, ${total.toFixed(1)} ms summed over ops (forward() runs them back to back)`);
console.log(`\nslowest ${topArg} ops:`);
const order = times.map((t, i) => [t, i]).sort((a, b) => b[0] - a[0]).slice(0, Number(topArg));
for (const [t, i] of order) console.log(`  ${t.toFixed(2).padStart(8)} ms  ${pct(t).padStart(6)}  #${String(i).padStart(3)} ${g.names[i]}`);
// op kind: the last non-numeric name component without trailing digits, e.g. "layer1.0.conv1" -> "conv",
// "alexnet.features.3" -> "features", "inception4a.branch2.1" -> "branch"
const kinds = new Map();
for (let i = 0; i < ops.length; i++) {
  const parts = g.names[i].split('.').filter((c) => !/^[0-9]+$/.test(c));
  const last = (parts.pop() ?? g.names[i]).replace(/[0-9_]+$/, '') || g.names[i];
  kinds.set(last, (kinds.get(last) ?? 0) + times[i]);
}
console.log('\nby name kind:');
for (const [k, t] of [...kinds].sort((a, b) => b[1] - a[1])) console.log(`  ${t.toFixed(2).padStart(8)} ms  ${pct(t).padStart(6)}  ${k}`);
plan.dispose();
model.dispose();
