import { defineConfig } from 'vitest/config';
import { inlineBinary } from './tools/inline-binary.mjs';

export default defineConfig({
  // Same inlining as the rollup build (base64 strings), applied before Vite's own wasm handling.
  plugins: [inlineBinary() as any],
  test: {
    include: ['test/**/*.test.ts'],
    // Node 20 needs the flag for relaxed SIMD (Deno and Chromium have it on by default).
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
