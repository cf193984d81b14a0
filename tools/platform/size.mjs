// The README's two targets, measured: (1) the whole library, JavaScript plus every wasm variant, gzipped
// (dist/wasmzoo.mjs inlines all three variants, so that one file is the whole library; the minified IIFE too),
// at most 160 KB (issue 10; it was 150 before the thread pool); (2) import + instantiate on one thread
// (init({ threads: 1 })) in a fresh Node process, at most 30 ms. The default init() (threads 'auto': the
// workers start too) is reported beside it.
//
//   node tools/platform/size.mjs [--json] [--runs N] [--chromium]   (npm run size; after npm run build)
//   --chromium: the same in headless Chromium too (needs /usr/bin/chromium)
//
// Start-up is timed inside each child from before `import()` to after `await init()`, so Node's own boot is
// excluded; the report gives the median and the best of N fresh processes, without and with the relaxed-SIMD
// flag (Node 20 compiles the SIMD variant without it). test/platform/size.test.ts checks both targets.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(ROOT, 'dist');
export const TARGETS = { gzipBytes: 160 * 1000, startupMs: 30 };

export function sizes() {
  const gz = (f) => gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length;
  const raw = (f) => readFileSync(join(DIST, f)).length;
  const files = ['wasmzoo.mjs', 'wasmzoo.cjs', 'wasmzoo.min.js', 'onnx.mjs', 'wasm/wasmzoo.scalar.wasm', 'wasm/wasmzoo.simd.wasm', 'wasm/wasmzoo.relaxed.wasm'];
  return Object.fromEntries(files.map((f) => [f, { raw: raw(f), gzip: gz(f) }]));
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

/** One fresh Node process: ms from before import() to after init(), and the backend. */
export function startupOnce(flags = [], threads = 1) {
  const url = pathToFileURL(join(DIST, 'wasmzoo.mjs')).href;
  const code = `const t0 = performance.now(); const w = await import(${JSON.stringify(url)}); const b = await w.init({ threads: ${JSON.stringify(threads)} });
    console.log(JSON.stringify({ ms: performance.now() - t0, backend: b.backend, threads: b.threads }));`;
  const out = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', code], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return JSON.parse(out.trim().split('\n').pop());
}

/**
 * What Node itself spends on the same path in a fresh process with the same flags: import() of an empty
 * module (the ESM loader's own modules) and loading node:zlib (which inflates the kernels). Any V8 flag, such
 * as the relaxed-SIMD one, makes Node 20 reject its built-in code cache and compile those modules from
 * source: this is most of the gap between the two start-up rows, and nothing wasmzoo can remove.
 */
export function nodeBaseline(runs = 7, flags = []) {
  const code = `const t0 = performance.now(); await import('data:text/javascript,export default 1'); process.getBuiltinModule('node:zlib');
    console.log(performance.now() - t0);`;
  const ms = Array.from({ length: runs }, () => Number(execFileSync(process.execPath, [...flags, '--input-type=module', '-e', code],
    { encoding: 'utf8', env: { PATH: process.env.PATH } }).trim()));
  return { medianMs: median(ms), bestMs: Math.min(...ms), runs };
}

/**
 * import() + init({ threads: 1 }) in headless Chromium (Debian's /usr/bin/chromium, relaxed SIMD on by
 * default), a fresh browser context per run so nothing is cached; the bundle comes from a localhost server,
 * so the import includes fetching its 281 KB. Needs playwright-core (a dev dependency) and chromium.
 */
export async function chromiumStartup(runs = 9, executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') {
  const { chromium } = await import('playwright-core');
  const { serve } = await import('./serve.mjs');
  const server = await serve();
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
  const browser = await chromium.launch({ executablePath, args, headless: true });
  const all = [];
  try {
    for (let i = 0; i < runs; i++) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${server.url}/dist/wasmzoo.d.ts`); // any page of the server's origin
      all.push(await page.evaluate(async (url) => {
        const t0 = performance.now();
        const w = await import(url);
        const t1 = performance.now();
        const b = await w.init({ threads: 1 });
        return { importMs: t1 - t0, initMs: performance.now() - t1, backend: b.backend };
      }, `${server.url}/dist/wasmzoo.mjs`));
      await ctx.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return { backend: all[0].backend, medianMs: median(all.map((r) => r.importMs + r.initMs)), importMs: median(all.map((r) => r.importMs)), initMs: median(all.map((r) => r.initMs)), runs };
}

export function startup(runs = 7, flags = [], threads = 1) {
  const all = Array.from({ length: runs }, () => startupOnce(flags, threads));
  const ms = all.map((r) => r.ms);
  return { backend: all[0].backend, threads: all[0].threads, medianMs: median(ms), bestMs: Math.min(...ms), runs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!existsSync(join(DIST, 'wasmzoo.mjs'))) {
    console.error('dist/ not found: run `npm run build` first');
    process.exit(1);
  }
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 7;
  const s = sizes();
  const plain = startup(runs);
  const relaxed = startup(runs, ['--experimental-wasm-relaxed-simd']);
  const auto = startup(runs, ['--experimental-wasm-relaxed-simd'], 'auto');
  const baseline = { plain: nodeBaseline(runs), relaxed: nodeBaseline(runs, ['--experimental-wasm-relaxed-simd']) };
  const browser = process.argv.includes('--chromium') ? await chromiumStartup(Math.max(runs, 9)) : undefined;
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ targets: TARGETS, sizes: s, startup: { plain, relaxed, auto, chromium: browser }, nodeBaseline: baseline, node: process.version }, null, 2));
  } else {
    const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
    const lib = s['wasmzoo.mjs'].gzip;
    const wasmGz = ['scalar', 'simd', 'relaxed'].map((v) => `${v} ${kb(s[`wasm/wasmzoo.${v}.wasm`].gzip)}`).join(', ');
    console.log(`whole library (dist/wasmzoo.mjs: JS + all three wasm variants inlined): ${kb(s['wasmzoo.mjs'].raw)} raw, ${kb(lib)} gzip ` +
      `(target <= ${kb(TARGETS.gzipBytes)}: ${lib <= TARGETS.gzipBytes ? 'ok' : 'OVER'}); min.js ${kb(s['wasmzoo.min.js'].gzip)} gzip`);
    console.log(`wasm files alone, gzip: ${wasmGz}`);
    console.log(`wasmzoo/onnx (dist/onnx.mjs, the ONNX importer, loaded only by code that imports it): ${kb(s['onnx.mjs'].gzip)} gzip; core + onnx ${kb(lib + s['onnx.mjs'].gzip)}`);
    for (const [name, r, b] of [['node ' + process.version, plain, baseline.plain], ['node --experimental-wasm-relaxed-simd', relaxed, baseline.relaxed]]) {
      console.log(`import + init({ threads: 1 }) in ${name}: median ${r.medianMs.toFixed(1)} ms, best ${r.bestMs.toFixed(1)} ms over ${r.runs} fresh processes ` +
        `(${r.backend}; target <= ${TARGETS.startupMs} ms: ${r.medianMs <= TARGETS.startupMs ? 'ok' : 'OVER'}); ` +
        `of which Node's own ESM loader and zlib: median ${b.medianMs.toFixed(1)} ms`);
    }
    console.log(`import + init() (threads 'auto': ${auto.threads}, workers started) with relaxed SIMD: median ${auto.medianMs.toFixed(1)} ms, best ${auto.bestMs.toFixed(1)} ms`);
    if (browser) {
      console.log(`import + init({ threads: 1 }) in headless Chromium (${browser.backend}), fresh context each: median ${browser.medianMs.toFixed(1)} ms ` +
        `(import, fetch from localhost included, ${browser.importMs.toFixed(1)} ms; init ${browser.initMs.toFixed(1)} ms) over ${browser.runs}`);
    }
  }
}
