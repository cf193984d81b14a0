// Bundles src/index.ts into every shipped format, with the three kernel variants inlined as base64
// (decoded with atob at run time: no fetch, fs or dynamic import, so one file works in Node, Deno,
// browsers, workers and edge workers).
//
//   dist/wasmzoo.mjs       ESM (npm import, Deno, browsers <script type=module>, edge workers)
//   dist/wasmzoo.cjs       CommonJS (require)
//   dist/wasmzoo.iife.js   <script> build, global `wasmzoo`
//   dist/wasmzoo.min.js    same, minified
//   dist/wasmzoo.d.ts      bundled declarations
//   dist/wasm/*.wasm       copied by build:wasm for callers that pass a precompiled Module
//   dist/cli.mjs           the command line (bin/wasmzoo.mjs), importing ./wasmzoo.mjs
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inlineBinary } from './tools/inline-binary.mjs';
import { classNames } from './tools/class-names.mjs';
import esbuild from 'rollup-plugin-esbuild';
import terser from '@rollup/plugin-terser';
import { lineLimit } from './tools/line-limit.mjs';
import dts from 'rollup-plugin-dts';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const banner = `/*! wasmzoo ${pkg.version} | ${pkg.license} */`;

// Every minified build cuts its lines at LINE_LIMIT characters: Node echoes the whole source line of an
// uncaught error, and a one-line bundle printed ~420 KB (issue 12). The kernels' base64 is put in after the
// minifier, on lines of its own (tools/inline-binary.mjs); classes keep their names (tools/class-names.mjs);
// tools/line-limit.mjs cuts the lines terser leaves long.
// Source maps ship beside each minified file.
//
// terser, not esbuild's minifier: three compress passes take 5.8 KB gzip more off the core and ONNX bundles
// together (78.4 -> 75.1 and 43.2 -> 40.7 KB, measured 2026-12-04) for ~15 s more build; issue 11 holds core +
// ONNX to 160 KB. Only comments starting `/*!` (the banner) are kept.
const LINE_LIMIT = 500;

// Class fields compile with assignment semantics (`this.x = v` in the constructor; a field without an
// initializer emits nothing) instead of ES2022 `x;` declarations: 0.8 KB gzip off the core bundle
// (118.0 -> 117.2 KB, measured 2026-12-06), the margin under issue 11's 160 KB. No class here relies on
// define semantics (no field shadows an accessor of its base class); the whole test suite runs on these bundles.
const ts = () => esbuild({ target: 'es2022', tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, verbatimModuleSyntax: false } } });
const minified = () => [
  terser({ ecma: 2020, compress: { passes: 3 }, format: { max_line_len: LINE_LIMIT, comments: /^!/ } }),
  lineLimit(LINE_LIMIT),
];

// After bundling, no output may require/import anything at run time (the wasm must be inlined; that the
// exact bytes are inlined is checked in test/platform/bundle.test.ts). `fetch(` is allowed: model builders
// fetch weights when the caller passes a URL.
const selfContained = {
  name: 'wasmzoo-self-contained',
  generateBundle(_opts, bundle) {
    for (const [name, chunk] of Object.entries(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const bad = /\b(?:require|import)\s*\(/.exec(chunk.code);
      if (bad) this.error(`${name}: bundle is not self-contained (found \`${bad[0]}\`)`);
      if (chunk.imports.length || chunk.dynamicImports.length) this.error(`${name}: unexpected imports ${chunk.imports}`);
    }
  },
};

// import.meta.url (shipped weights are found next to the bundle): rollup's CommonJS shim calls
// require('url'); build the file URL from __filename instead (no require at run time).
const cjsImportMeta = {
  name: 'wasmzoo-cjs-import-meta',
  resolveImportMeta(prop, { format }) {
    if (format !== 'cjs' || prop !== 'url') return null;
    return "(typeof __filename !== 'undefined' ? 'file://' + (__filename[0] === '/' ? '' : '/') + __filename.replace(/\\\\/g, '/') : (typeof location !== 'undefined' ? location.href : 'file:///'))";
  },
};

const js = {
  input: 'src/index.ts',
  plugins: [inlineBinary({ deferred: true }), ts(), cjsImportMeta, classNames(), selfContained],
  output: [
    // npm / Deno / edge-worker builds are minified: the whole library (JS + every kernel variant) must stay
    // under 160 KB gzipped (tools/platform/size.mjs); dist/wasmzoo.iife.js stays readable.
    { file: 'dist/wasmzoo.mjs', format: 'es', banner, sourcemap: true, plugins: minified() },
    { file: 'dist/wasmzoo.cjs', format: 'cjs', banner, exports: 'named', sourcemap: true, plugins: minified() },
    { file: 'dist/wasmzoo.iife.js', format: 'iife', name: 'wasmzoo', banner, exports: 'named' },
    { file: 'dist/wasmzoo.min.js', format: 'iife', name: 'wasmzoo', banner, exports: 'named', sourcemap: true, plugins: minified() },
  ],
  onwarn(w, warn) {
    if (w.code === 'CIRCULAR_DEPENDENCY') return;
    warn(w);
  },
};

const types = {
  input: 'src/index.ts',
  plugins: [dts({ tsconfig: 'tsconfig.json' })],
  output: { file: 'dist/wasmzoo.d.ts', format: 'es' },
};

// The CLI (bin/wasmzoo.mjs -> dist/cli.mjs): Node only. The library stays external as ./wasmzoo.mjs (the very
// bundle users import, not a second copy); node:* builtins and the image decoders (pngjs, jpeg-js: dependencies
// of the CLI only) are imported at run time.
const LIB = 'wasmzoo:lib';
const CORE_INDEX = resolve(fileURLToPath(new URL('./src/index.js', import.meta.url)));
/** An import of the core's public index (src/index.ts) from the CLI or wasmzoo/onnx: kept external. */
function isCoreIndex(source, importer) {
  return !!importer && source.startsWith('.') && resolve(dirname(importer), source) === CORE_INDEX;
}
const libExternal = { name: 'wasmzoo-external-core', resolveId: (source, importer) => (isCoreIndex(source, importer) ? { id: LIB, external: true } : null) };
const cli = {
  input: 'src/cli/main.ts',
  plugins: [
    {
      name: 'wasmzoo-cli-external-lib',
      resolveId(source, importer) {
        if (isCoreIndex(source, importer)) return { id: LIB, external: true };
        return null;
      },
    },
    ts(),
  ],
  external: (id) => id === LIB || id.startsWith('node:') || id === 'pngjs' || id === 'jpeg-js',
  output: { file: 'dist/cli.mjs', format: 'es', banner, paths: { [LIB]: './wasmzoo.mjs' } },
};

// wasmzoo/onnx (dist/onnx.mjs, dist/onnx.cjs): the ONNX importer, apart so that the core stays within its
// size budget and code that never imports ONNX never loads it. It reaches the core only through its public
// index, kept external as ./wasmzoo.mjs / ./wasmzoo.cjs: one runtime, one Tensor class.
const onnx = {
  input: 'src/onnx/index.ts',
  plugins: [libExternal, ts(), classNames(), {
    name: 'wasmzoo-onnx-imports-only-core',
    generateBundle(_opts, bundle) {
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const bad = chunk.imports.filter((i) => !/^\.\/wasmzoo\.(mjs|cjs)$/.test(i));
        if (bad.length || chunk.dynamicImports.length) this.error(`${name}: imports something besides the core (${bad})`);
      }
    },
  }],
  external: (id) => id === LIB,
  output: [
    { file: 'dist/onnx.mjs', format: 'es', banner, paths: { [LIB]: './wasmzoo.mjs' }, sourcemap: true, plugins: minified() },
    { file: 'dist/onnx.cjs', format: 'cjs', banner, exports: 'named', paths: { [LIB]: './wasmzoo.cjs' }, sourcemap: true, plugins: minified() },
  ],
};
const onnxTypes = {
  input: 'src/onnx/index.ts',
  plugins: [libExternal, dts({ tsconfig: 'tsconfig.json' })],
  external: (id) => id === LIB,
  output: { file: 'dist/onnx.d.ts', format: 'es', paths: { [LIB]: './wasmzoo.js' } },
};

export default [js, types, cli, onnx, onnxTypes];
