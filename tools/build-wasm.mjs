// Compiles assembly/ into the three kernel variants from one source:
//   scalar  - no SIMD (fallback for engines without it)
//   simd    - 128-bit SIMD              (ASC_FEATURE_SIMD)
//   relaxed - SIMD + relaxed SIMD (fma)  (ASC_FEATURE_RELAXED_SIMD)
// Output: build/wasmzoo.<variant>.wasm, build/wasmzoo.kernels.zlib (what the bundles inline: the three
// variants in one compressed container, see tools/wasm-delta.mjs), and dist/wasm/*.wasm so edge workers can import a
// precompiled WebAssembly.Module.
import asc from 'assemblyscript/asc';
import { mkdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { kernelContainer } from './wasm-delta.mjs';
import { zlibAsync } from '@gfx/zopfli';

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

// What the bundles inline: one container, SIMD whole and the other two as deltas against it
// (tools/wasm-delta.mjs), zlib-compressed by zopfli (a deflate encoder that searches harder: 38 964 bytes
// against 41 338 for zlib -9, the same format for the runtime's inflate; ~2 s). It needs every variant, so a
// partial build (`node tools/build-wasm.mjs simd`) leaves it as it was.
if (!only) {
  const [simd, relaxed, scalar] = ['simd', 'relaxed', 'scalar'].map((v) => readFileSync(`build/wasmzoo.${v}.wasm`));
  writeFileSync('build/wasmzoo.kernels.zlib', await zlibAsync(kernelContainer(simd, relaxed, scalar), { numiterations: 15 }));
}
