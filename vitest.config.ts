import { defineConfig } from 'vitest/config';
import { inlineBinary } from './tools/inline-binary.mjs';

export default defineConfig({
  // Same inlining as the rollup build (base64 strings), applied before Vite's own wasm handling.
  plugins: [inlineBinary() as any],
  test: {
    // Node 20 needs the flag for relaxed SIMD (Deno and Chromium have it on by default).
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'all', include: ['test/**/*.test.ts'] } },
      // every kernel test again on 3 threads with every call split (test/kernels/harness.ts)
      { extends: true, test: { name: 'kernels-3-threads', include: ['test/kernels/**/*.test.ts'], env: { WASMZOO_TEST_THREADS: '3' } } },
    ],
  },
});
