// Rollup / Vite plugin: `import b64 from './x.wasm'` (or `.patch`) gives the file's bytes as a base64 string,
// inlined in the bundle. The runtime decodes and compiles them itself (src/runtime/runtime.ts), so it can
// also rebuild the relaxed variant from the SIMD one plus a patch, and nothing is fetched at run time.
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
// `?deflate` (`import b64 from './x.wasm?deflate'`): the bytes are zlib-compressed before base64 (level 9):
// gzip cannot find the repeats of a wasm file through base64's 6-bit alphabet, so this shrinks the gzipped
// bundle by a third of each such file (SIMD kernels: 42.6 -> 29.2 KB). The runtime inflates them with
// DecompressionStream('deflate') (src/runtime/inflate.ts).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

/** The base64 a module of `id` exports: the file's bytes, compressed first when the id asks `?deflate`. */
export function inlinedBase64(id) {
  const [file, query] = id.split('?');
  const bytes = readFileSync(file);
  return (query === 'deflate' ? deflateSync(bytes, { level: 9 }) : bytes).toString('base64');
}

const PLACEHOLDER = /WASMZOO_INLINE_BINARY_(\d+)_/;
const ON_OWN_LINE = /`\nWASMZOO_INLINE_BINARY_(\d+)_\n`/g;

export function inlineBinary({ deferred = false } = {}) {
  const files = [];
  return {
    name: 'wasmzoo-inline-binary',
    enforce: 'pre', // before Vite's own .wasm handling
    resolveId(source, importer) {
      // rollup's own resolver does not know queries; Vite's does
      if (!importer || !/\.(wasm|patch)\?deflate$/.test(source) || !source.startsWith('.')) return null;
      return resolve(dirname(importer.split('?')[0]), source);
    },
    load(id) {
      const file = id.split('?')[0];
      if (!/\.(wasm|patch)$/.test(file)) return null;
      if (!deferred) return { code: `export default \`\n${inlinedBase64(id)}\n\`;`, map: { mappings: '' } };
      let i = files.indexOf(id);
      if (i < 0) i = files.push(id) - 1;
      return { code: `export default \`\nWASMZOO_INLINE_BINARY_${i}_\n\`;`, map: { mappings: '' } };
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
