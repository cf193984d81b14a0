// Compiles assembly/ into the three kernel variants from one source:
//   scalar  - no SIMD (fallback for engines without it)
//   simd    - 128-bit SIMD              (ASC_FEATURE_SIMD)
//   relaxed - SIMD + relaxed SIMD (fma)  (ASC_FEATURE_RELAXED_SIMD)
// Output: build/wasmzoo.<variant>.wasm (imported and inlined by rollup) and a copy in dist/wasm/
// so edge workers can import a precompiled WebAssembly.Module.
import asc from 'assemblyscript/asc';
import { mkdirSync, copyFileSync } from 'node:fs';

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
