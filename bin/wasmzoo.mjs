#!/usr/bin/env node
// `npx wasmzoo`: the command line (src/cli/main.ts, built into dist/cli.mjs). Node 20 runs relaxed SIMD only
// behind a V8 flag; setting it here, before any wasm is compiled, lets the CLI pick the relaxed kernels
// (Node 21+ has them on by default).
import { setFlagsFromString } from 'node:v8';

if (Number(process.versions.node.split('.')[0]) <= 20) {
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {}
}
let cli;
try {
  cli = await import('../dist/cli.mjs');
} catch (e) {
  console.error(`wasmzoo: cannot load dist/cli.mjs (${e.message.split('\n')[0]}): run \`npm run build\` in the package`);
  process.exit(70);
}
await cli.run(process.argv.slice(2));
