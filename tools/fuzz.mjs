#!/usr/bin/env node
/**
 * `npm run fuzz`: the long mutation fuzz of every reader of outside bytes, over the built package (dist/):
 * safetensors (read, convert, load into LeNet-5), IDX, gzip (readIdxGz), PyTorch checkpoints (readPth, then
 * load into LeNet-5), ONNX. Same engine as the short runs in
 * `npm test` (tools/fuzz-lib.mjs).
 *
 *   node tools/fuzz.mjs [--count 1000000] [--readers safetensors,idx,gzip,pth,onnx] [--seed 1] [--jobs 2] [--out fuzz-out]
 *
 * Each reader's inputs [0, count) are split over `jobs` worker threads. Counted per reader: inputs tried,
 * accepted, refused (a WasmzooError), crashes (anything else thrown), invalid results, failed loads that
 * changed the model, and hangs: an input that took over 2 s, or one a worker was stuck on for WATCHDOG_MS
 * (the worker is then terminated, the input saved, and the run resumes after it). Every finding's input is
 * written to `out/` (rebuildable from seed and index too). Prints a summary and writes out/summary.json;
 * exits 1 if anything was found.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { HANG_MS, fuzzRange, inputFor, makeReaders, onnxSeeds, pthSeeds } from './fuzz-lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WATCHDOG_MS = 10_000;
const MAX_SAVED = 50; // findings saved per reader and kind

async function readersFromDist() {
  const api = await import(join(ROOT, 'dist/wasmzoo.mjs'));
  const { inspectOnnx } = await import(join(ROOT, 'dist/onnx.mjs'));
  return makeReaders({ ...api, inspectOnnx, onnxSeeds: onnxSeeds(), pthSeeds: pthSeeds(), lenetBytes: new Uint8Array(readFileSync(join(ROOT, 'weights/lenet5-fashion.safetensors'))) });
}


if (!isMainThread) {
  // worker: run [from, to) of one reader, publishing the current index for the watchdog
  const { reader, seed, from, to, progress } = workerData;
  const cur = new Int32Array(progress);
  const readers = await readersFromDist();
  let sent = 0;
  const stats = await fuzzRange(readers[reader], {
    seed, from, to,
    onInput: (i) => Atomics.store(cur, 0, i),
    onStats: (stats) => parentPort.postMessage({ type: 'stats', stats }),
    onFinding: (kind, index, input, detail) => {
      if (sent++ < 4 * MAX_SAVED) parentPort.postMessage({ type: 'finding', kind, index, detail, input });
    },
  });
  parentPort.postMessage({ type: 'done', stats });
} else {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const count = Number(opt('count', 1_000_000));
  const seed = Number(opt('seed', 1));
  const jobs = Math.max(1, Number(opt('jobs', 2)));
  const names = opt('readers', 'safetensors,idx,gzip,pth,onnx').split(',');
  const out = resolve(ROOT, opt('out', 'fuzz-out'));
  mkdirSync(out, { recursive: true });
  const readers = await readersFromDist();
  for (const n of names) {
    if (!readers[n]) throw new Error(n === 'onnx' ? 'the onnx reader needs seed models: apt-get install -y libonnx-testdata (or pass --readers safetensors,idx,gzip)' : `unknown reader ${n} (have ${Object.keys(readers).join(', ')})`);
  }

  const summary = { seed, count, hangMs: HANG_MS, watchdogMs: WATCHDOG_MS, node: process.version, readers: {} };
  const log = (s) => console.log(`[fuzz] ${s}`);
  log(`seed ${seed}, ${count} inputs per reader, ${jobs} worker(s), findings in ${out}`);

  for (const name of names) {
    const total = { inputs: 0, accepted: 0, refused: 0, loadRefused: 0, crashes: 0, invalid: 0, changed: 0, hangs: 0, maxMs: 0, seconds: 0 };
    const saved = {};
    const save = (kind, index, input, detail) => {
      saved[kind] = (saved[kind] ?? 0) + 1;
      if (saved[kind] > MAX_SAVED) return;
      const base = join(out, `${name}-${kind}-${index}`);
      writeFileSync(`${base}.bin`, input);
      writeFileSync(`${base}.txt`, `${name} ${kind} at input ${index} (seed ${seed}): ${detail}\n`);
      log(`${name}: ${kind} at input ${index}: ${detail}`);
    };
    const t0 = performance.now();
    let ticker = setInterval(() => log(`${name}: ${done()} / ${count} inputs, ${(performance.now() - t0) / 1000 | 0} s`), 30_000);
    const progresses = [];
    const done = () => total.inputs + progresses.reduce((n, p) => n + p(), 0);

    // one worker over [from, to); on a stuck input: terminate, count the hang, resume after it
    const runSlice = (from, to) => new Promise((resolve, reject) => {
      const progress = new SharedArrayBuffer(4);
      const cur = new Int32Array(progress);
      Atomics.store(cur, 0, from);
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: { reader: name, seed, from, to, progress } });
      const slot = () => Math.max(0, Atomics.load(cur, 0) - from);
      progresses.push(slot);
      let last = from;
      let since = performance.now();
      let finished = false;
      let partial; // the worker's counts so far (kept when it has to be killed)
      const add = (stats) => {
        for (const k of Object.keys(stats)) total[k] = k === 'maxMs' ? Math.max(total[k], stats[k]) : total[k] + stats[k];
      };
      const finish = (next) => {
        finished = true;
        clearInterval(watch);
        progresses.splice(progresses.indexOf(slot), 1);
        next();
      };
      const watch = setInterval(() => {
        const i = Atomics.load(cur, 0);
        if (i !== last) {
          last = i;
          since = performance.now();
        } else if (performance.now() - since > WATCHDOG_MS && !finished) {
          finish(() => {
            void w.terminate();
            if (partial) add(partial);
            total.inputs += i - from + 1 - (partial?.inputs ?? 0); // the rest of the killed slice, the stuck input included
            total.hangs++;
            save('hang', i, inputFor(readers[name], seed, i), `no progress for ${WATCHDOG_MS} ms (worker terminated)`);
            runSlice(i + 1, to).then(resolve, reject);
          });
        }
      }, 500);
      w.on('message', (m) => {
        if (m.type === 'finding') save(m.kind, m.index, m.input, m.detail);
        else if (m.type === 'stats') partial = m.stats;
        else if (m.type === 'done' && !finished) {
          finish(() => {
            add(m.stats);
            resolve();
          });
        }
      });
      w.on('error', (e) => { if (!finished) finish(() => reject(e)); });
    });

    const per = Math.ceil(count / jobs);
    await Promise.all(Array.from({ length: jobs }, (_, j) => runSlice(j * per, Math.min(count, (j + 1) * per))));
    clearInterval(ticker);
    total.seconds = Math.round((performance.now() - t0) / 1000);
    total.maxMs = Math.round(total.maxMs);
    summary.readers[name] = total;
    log(`${name}: ${JSON.stringify(total)}`);
  }

  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log('\n| reader | inputs | accepted | refused (by loadStateDict) | crashes | hangs (> 2 s) | failed loads that changed the model | invalid results | slowest input | time |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [n, t] of Object.entries(summary.readers)) {
    console.log(`| ${n} | ${t.inputs} | ${t.accepted} | ${t.refused}${n === 'safetensors' || n === 'pth' ? ` (${t.loadRefused})` : ''} | ${t.crashes} | ${t.hangs} | ${n === 'safetensors' || n === 'pth' ? t.changed : 'n/a'} | ${t.invalid} | ${t.maxMs} ms | ${t.seconds} s |`);
  }
  const bad = Object.values(summary.readers).some((t) => t.crashes || t.hangs || t.changed || t.invalid);
  process.exitCode = bad ? 1 : 0;
}
