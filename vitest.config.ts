import { defineConfig } from 'vitest/config';
import wasm from '@rollup/plugin-wasm';

export default defineConfig({
  // Same inlining as the rollup build, applied before Vite's own wasm handling (which would try to
  // compile the relaxed module itself and fail on engines without it).
  plugins: [{ ...wasm({ targetEnv: 'browser', maxFileSize: Infinity }), enforce: 'pre' } as any],
  test: {
    include: ['test/**/*.test.ts'],
    // Node 20 needs the flag for relaxed SIMD (Deno and Chromium have it on by default).
    execArgv: ['--experimental-wasm-relaxed-simd'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
