// Rollup / Vite plugin: `import b64 from './x.wasm'` (or `.patch`) gives the file's bytes as a base64 string,
// inlined in the bundle. The runtime decodes and compiles them itself (src/runtime/runtime.ts), so it can
// also rebuild the relaxed variant from the SIMD one plus a patch, and nothing is fetched at run time.
import { readFileSync } from 'node:fs';

export function inlineBinary() {
  return {
    name: 'wasmzoo-inline-binary',
    enforce: 'pre', // before Vite's own .wasm handling
    load(id) {
      const file = id.split('?')[0];
      if (!/\.(wasm|patch)$/.test(file)) return null;
      return `export default ${JSON.stringify(readFileSync(file).toString('base64'))};`;
    },
  };
}
