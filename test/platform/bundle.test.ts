/**
 * Static checks of the built files: every bundle inlines all three kernel variants (the exact bytes of
 * the compressed kernel container build/wasmzoo.kernels.zlib, as base64), loads nothing at run time (no
 * require/import; no fetch of the wasm), the IIFE defines the global, and dist/wasmzoo.d.ts is one self-contained file a NodeNext TypeScript user can compile against.
 */
import { inlinedBase64 } from '../../tools/inline-binary.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BUNDLES, DIST, FIXTURES, ROOT, run, VARIANTS } from './helpers.js';

describe('dist bundles', () => {
  beforeAll(assertBuilt);
  const read = (f: string) => readFileSync(join(DIST, f), 'utf8');

  it.each(BUNDLES)('%s inlines the three variants and loads nothing at run time', (file) => {
    const code = read(file);
    // all three variants travel in one deflated container (tools/wasm-delta.mjs); that it rebuilds each
    // build/wasmzoo.<v>.wasm byte for byte is checked in test/runtime/runtime.test.ts
    expect(code.includes(inlinedBase64(join(ROOT, 'build/wasmzoo.kernels.zlib'))), `${file} holds the kernel container (stale build?)`).toBe(true);
    for (const v of VARIANTS) {
      const b64 = readFileSync(join(ROOT, `build/wasmzoo.${v}.wasm`)).toString('base64');
      expect(readFileSync(join(DIST, `wasm/wasmzoo.${v}.wasm`)).toString('base64'), `dist/wasm/wasmzoo.${v}.wasm = build/`).toBe(b64);
    }
    expect(code).toMatch(/\batob\b/);
    expect(code).not.toMatch(/\b(require|import)\s*\(/);
    // fetch( appears only where a caller passes weights as a URL; the wasm loader never fetches.
    expect(code).not.toMatch(/fetch\(filepath\)|instantiateStreaming\(\s*fetch/);
    expect(code).not.toMatch(/^\s*import\s[^(]/m);
  });

  it('formats: ESM exports, CJS exports, IIFE global', () => {
    expect(read('wasmzoo.mjs')).toMatch(/export\s*\{[^}]*\binit\b[^}]*\};?\s*(\/\/# sourceMappingURL=wasmzoo\.mjs\.map\s*)?$/);
    expect(read('wasmzoo.cjs')).toMatch(/exports\.init\s*=/);
    expect(read('wasmzoo.iife.js')).toMatch(/^var wasmzoo = \(function \(exports\) \{$/m);
    expect(read('wasmzoo.min.js')).toMatch(/^(\/\*![^*]*\*\/)?\s*var wasmzoo=\(?function\(/m);
  });

  it('wasmzoo.d.ts is bundled (no relative imports, no *.wasm modules left)', () => {
    const dts = read('wasmzoo.d.ts');
    expect(dts).not.toMatch(/from\s+['"]\.{1,2}\//);
    expect(dts).not.toMatch(/^\s*(import|export)\s[^\n]*from\s*['"][^'"]*\.wasm['"]/m);
    expect(dts).not.toMatch(/declare module\s*['"][^'"]*\.wasm['"]/);
    expect(dts).toMatch(/^export \{.*\binit\b.*\};$/m);
  });

  // lib DOM: the public types name WebAssembly.Module/Memory, which @types/node 20 does not declare.
  it('a TypeScript consumer (NodeNext, lib ES2022+DOM) type-checks against it through package.json "exports"', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', join(FIXTURES, 'tsconfig.consumer.json')]);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
