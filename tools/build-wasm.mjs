// Compiles assembly/ into the three kernel variants from one source:
//   scalar  - no SIMD (fallback for engines without it)
//   simd    - 128-bit SIMD              (ASC_FEATURE_SIMD)
//   relaxed - SIMD + relaxed SIMD (fma)  (ASC_FEATURE_RELAXED_SIMD)
// Output: build/wasmzoo.<variant>.wasm, build/wasmzoo.relaxed.patch (what the bundles inline: scalar, simd
// and the relaxed variant as a patch on simd), and dist/wasm/*.wasm so edge workers can import a precompiled
// WebAssembly.Module.
import asc from 'assemblyscript/asc';
import { mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const variants = {
  scalar: [],
  simd: ['--enable', 'simd'],
  relaxed: ['--enable', 'simd,relaxed-simd'],
};
const only = process.argv[2];
mkdirSync('build', { recursive: true });
mkdirSync('dist/wasm', { recursive: true });
for (const [name, features] of Object.entries(variants)) {
  if (only && only !== name) continue;
  const out = `build/wasmzoo.${name}.wasm`;
  const { error, stderr } = await asc.main([
    'assembly/index.ts',
    '--config', 'asconfig.json', '--target', 'release',
    '--outFile', out,
    ...features,
  ]);
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for variant ${name}: ${error.message}`);
    process.exit(1);
  }
  copyFileSync(out, `dist/wasm/wasmzoo.${name}.wasm`);
}

// The relaxed variant ships as a patch on the SIMD one (src/runtime/wasm-patch.ts): same sections but for
// the bodies of the functions that use relaxed instructions.
function readLeb(b, i) {
  let r = 0, shift = 0, x;
  do { x = b[i++]; r += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80);
  return [r, i];
}
function sections(b) {
  const out = [];
  for (let i = 8; i < b.length;) {
    const id = b[i];
    const [size, start] = readLeb(b, i + 1);
    out.push({ id, bytes: b.subarray(start, start + size) });
    i = start + size;
  }
  return out;
}
function bodies(code) {
  let [n, j] = readLeb(code, 0);
  const out = [];
  for (let f = 0; f < n; f++) {
    const [bs, k] = readLeb(code, j);
    out.push(code.subarray(k, k + bs));
    j = k + bs;
  }
  return out;
}
if (!only || only === 'relaxed' || only === 'simd') {
  const simd = readFileSync('build/wasmzoo.simd.wasm');
  const relaxed = readFileSync('build/wasmzoo.relaxed.wasm');
  const a = sections(simd), b = sections(relaxed);
  const same = a.length === b.length && a.every((s, i) => s.id === b[i].id && (s.id === 10 || Buffer.compare(s.bytes, b[i].bytes) === 0));
  if (!same) {
    console.error('relaxed and simd builds differ outside the code section: cannot ship relaxed as a patch');
    process.exit(1);
  }
  const ca = bodies(a.find((s) => s.id === 10).bytes), cb = bodies(b.find((s) => s.id === 10).bytes);
  if (ca.length !== cb.length) {
    console.error('relaxed and simd builds have different function counts: cannot ship relaxed as a patch');
    process.exit(1);
  }
  const chunks = [];
  let count = 0;
  for (let f = 0; f < cb.length; f++) {
    if (Buffer.compare(ca[f], cb[f]) === 0) continue;
    const head = Buffer.alloc(8);
    head.writeUInt32LE(f, 0);
    head.writeUInt32LE(cb[f].length, 4);
    chunks.push(head, cb[f]);
    count++;
  }
  const c = Buffer.alloc(4);
  c.writeUInt32LE(count, 0);
  writeFileSync('build/wasmzoo.relaxed.patch', Buffer.concat([c, ...chunks]));
}
