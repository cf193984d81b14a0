// Rollup / Vite plugin: `import b64 from './x.wasm'` (or `.zlib`) gives the file's bytes as a base64 string,
// inlined in the bundle. The runtime decodes and compiles them itself (src/runtime/runtime.ts), so it can
// also rebuild the relaxed and scalar variants from the SIMD one plus a delta; nothing is fetched at run time.
//
// The string is a template literal whose base64 sits on a line of its own (atob skips the ASCII whitespace
// around it, as the HTML spec's forgiving-base64 decode requires). Base64 has no backtick, `$` or `\`, so
// the literal needs no escaping.
//
// `deferred` (the rollup build): the module holds a short placeholder instead, and the bytes replace it in
// generateBundle, after the minifier has run. The minifier cuts lines at a limit (Node echoes the whole source
// line of an uncaught error: issue 12), and would cut the base64 too, which costs ~3 KB gzip (a line break
// every few hundred characters breaks the compressor's matches); deferred, every line of code stays short and
// the base64 is one line apart from any code. The placeholder line holds no code, so replacing it moves no
// mapped position: the source maps stay valid, and `{ mappings: '' }` keeps the bytes out of their sources.
//
// The kernels arrive already compressed (build/wasmzoo.kernels.zlib, tools/build-wasm.mjs): gzip cannot find
// a wasm file's repeats through base64's 6-bit alphabet, so the bytes are deflated before base64.
import { readFileSync } from 'node:fs';

/** The base64 a module of `id` exports: the file's bytes. */
export function inlinedBase64(id) {
  return readFileSync(id).toString('base64');
}

const PLACEHOLDER = /WASMZOO_INLINE_BINARY_(\d+)_/;
const ON_OWN_LINE = /`\nWASMZOO_INLINE_BINARY_(\d+)_\n`/g;

export function inlineBinary({ deferred = false } = {}) {
  const files = [];
  return {
    name: 'wasmzoo-inline-binary',
    enforce: 'pre', // before Vite's own .wasm handling
    load(id) {
      if (!/\.(wasm|zlib)$/.test(id)) return null;
      if (!deferred) return { code: `export default \`\n${inlinedBase64(id)}\n\`;`, map: { mappings: '' } };
      let i = files.indexOf(id);
      if (i < 0) i = files.push(id) - 1;
      // String.raw: a minifier (terser) folds a plain template literal into a one-line string, but leaves a
      // tagged one as written
      return { code: `export default String.raw\`\nWASMZOO_INLINE_BINARY_${i}_\n\`;`, map: { mappings: '' } };
    },
    generateBundle(_opts, bundle) {
      if (!deferred) return;
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type !== 'chunk') continue;
        chunk.code = chunk.code.replace(ON_OWN_LINE, (_, i) => `\`\n${inlinedBase64(files[Number(i)])}\n\``);
        const left = PLACEHOLDER.exec(chunk.code);
        if (left) this.error(`${name}: ${files[Number(left[1])]} is not alone on its line in a template literal (did the minifier change it?)`);
      }
    },
  };
}
