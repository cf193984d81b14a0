// Bundles wasmzoo from src/ (with esbuild, the three kernel variants from build/ inlined) into
// .cache/bench/wasmzoo-bench.mjs for bench/models.mjs, adding what the public API does not export (yet):
// the model files present under src/models/, the hashed weights, the runtime (for the arena's
// high-water mark) and the graph planner (bench/profile.mjs times each planned op). A model file that does not compile yet (work in progress) is left out, with a note,
// so the benchmark still runs the others.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { inlinedBase64 } from '../tools/inline-binary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OPTIONAL = ['registry', 'alexnet', 'zfnet', 'vgg', 'resnet', 'googlenet'].map((m) => `src/models/${m}.ts`);

// The build's contract (tools/inline-binary.mjs), which src/runtime/runtime.ts relies on: a .wasm or .zlib
// file (the kernel container, build/wasmzoo.kernels.zlib) imports as its bytes in base64.
const wasmPlugin = {
  name: 'wasm-inline',
  setup(build) {
    // `x.wasm?deflate`: esbuild knows no queries; keep the query in a namespace of our own
    build.onResolve({ filter: /\.(wasm|zlib)(\?deflate)?$/ }, (args) => ({ path: join(args.resolveDir, args.path), namespace: 'wasm-inline' }));
    build.onLoad({ filter: /.*/, namespace: 'wasm-inline' }, (args) => ({
      loader: 'js',
      contents: `export default ${JSON.stringify(inlinedBase64(args.path))};`,
    }));
  },
};

// `extra`: more export lines for the entry (bench/onnx-resnet.mjs adds the ONNX importer), bundled to `name`.
export async function bundleWasmzoo({ extra = [], name = 'wasmzoo-bench.mjs' } = {}) {
  const outfile = join(root, '.cache', 'bench', name);
  mkdirSync(dirname(outfile), { recursive: true });
  for (const v of ['simd', 'relaxed']) {
    if (!existsSync(join(root, 'build', `wasmzoo.${v}.wasm`))) throw new Error(`build/wasmzoo.${v}.wasm is missing: run \`npm run build:wasm\``);
  }
  let files = OPTIONAL.filter((f) => existsSync(join(root, f)));
  const skipped = [];
  for (;;) {
    const contents = [
      "export * from './src/index.ts';",
      "export { hashWeights, hashTensor, hashInto } from './src/models/hashweights.ts';",
      "export { runtime } from './src/runtime/runtime.ts';",
      "export { GraphBuilder, Plan, toNCHW, toNHWC } from './src/graph/graph.ts';",
      ...files.map((f) => `export * from './${f}';`),
      ...extra,
    ].join('\n');
    try {
      await esbuild.build({
        stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'bench-entry.ts' },
        bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile, logLevel: 'silent',
        plugins: [wasmPlugin],
      });
      return { path: outfile, skipped };
    } catch (e) {
      const bad = files.find((f) => (e.errors ?? []).some((m) => m.location?.file?.endsWith(f.slice(4)) || m.text.includes(f.slice(4))));
      if (!bad) {
        // e.g. two model files exporting the same name: drop the last optional file and retry
        if (files.length === 0) throw e;
        skipped.push(`${files[files.length - 1]} (${e.errors?.[0]?.text ?? e.message})`);
        files = files.slice(0, -1);
      } else {
        skipped.push(`${bad} (${e.errors.find((m) => m.location?.file?.endsWith(bad.slice(4)))?.text ?? 'does not compile'})`);
        files = files.filter((f) => f !== bad);
      }
    }
  }
}
