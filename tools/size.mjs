// Size report: raw, gzip (-9) and brotli sizes of every dist/ file and each wasm kernel variant.
//   npm run size            (after npm run build)
//   node tools/size.mjs --json
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
if (!existsSync(dist)) {
  console.error('dist/ not found: run `npm run build` first');
  process.exit(1);
}
const walk = (d) => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
const rows = walk(dist)
  .sort()
  .map((f) => {
    const b = readFileSync(f);
    return {
      file: relative(root, f),
      raw: b.length,
      gzip: gzipSync(b, { level: 9 }).length,
      brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
  });

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const kb = (n) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
  const w = Math.max(...rows.map((r) => r.file.length));
  console.log(`${'file'.padEnd(w)}  ${'raw'.padStart(10)}  ${'gzip'.padStart(10)}  ${'brotli'.padStart(10)}`);
  for (const r of rows) console.log(`${r.file.padEnd(w)}  ${kb(r.raw).padStart(10)}  ${kb(r.gzip).padStart(10)}  ${kb(r.brotli).padStart(10)}`);
  const wasm = rows.filter((r) => r.file.endsWith('.wasm'));
  const wasmSum = wasm.reduce((a, r) => a + r.raw, 0);
  const mjs = rows.find((r) => r.file.endsWith('wasmzoo.mjs'));
  if (mjs && wasmSum) {
    console.log(`\nwasm variants: ${wasm.map((r) => `${r.file.split('.').at(-2)} ${kb(r.raw)}`).join(', ')}; ` +
      `base64-inlined they make ${kb(Math.ceil(wasmSum / 3) * 4)} of wasmzoo.mjs (${kb(mjs.raw)} raw, ${kb(mjs.gzip)} gzip)`);
  }
}
