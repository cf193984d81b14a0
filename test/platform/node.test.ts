/**
 * Node: the built ESM (import, by path and through the package's "exports") and CJS (require) bundles in
 * fresh child processes, with and without the relaxed-SIMD flag Node 20 needs.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, DIST, expectHealthy, expectThreads, expectLenet, FIXTURES, parseReport, run } from './helpers.js';

const RELAXED = '--experimental-wasm-relaxed-simd';
const esm = join(FIXTURES, 'node-esm.mjs');
const cjs = join(FIXTURES, 'node-cjs.cjs');
// A clean environment: vitest's own NODE_OPTIONS / loaders must not leak into the child.
const env = { PATH: process.env.PATH, HOME: process.env.HOME };

describe(`node ${process.version}`, () => {
  beforeAll(assertBuilt);

  const cases: [string, string[], string, 'auto' | 'relaxed'][] = [
    ['ESM import of dist/wasmzoo.mjs', [esm, join(DIST, 'wasmzoo.mjs')], 'node-esm', 'auto'],
    ['ESM import of dist/wasmzoo.mjs with relaxed SIMD on', [RELAXED, esm, join(DIST, 'wasmzoo.mjs')], 'node-esm', 'relaxed'],
    ["ESM import('wasmzoo') through package.json exports", [esm, 'wasmzoo'], 'node-esm', 'auto'],
    ['CJS require of dist/wasmzoo.cjs', [cjs, join(DIST, 'wasmzoo.cjs')], 'node-cjs', 'auto'],
    ['CJS require of dist/wasmzoo.cjs with relaxed SIMD on', [RELAXED, cjs, join(DIST, 'wasmzoo.cjs')], 'node-cjs', 'relaxed'],
    ["CJS require('wasmzoo') through package.json exports", [cjs, 'wasmzoo'], 'node-cjs', 'auto'],
  ];
  it.each(cases)('%s', async (_title, args, what, expected) => {
    const report = parseReport(await run(process.execPath, args, { env }), what);
    expectHealthy(report, expected);
    expectLenet(report, 'simd'); // after the probe's init({ module }) of the simd variant
    expectThreads(report, true); // worker_threads over one shared memory
    if (what === 'node-cjs') expect(report.loadedBy, 'the bundle came through require()').toBe('object');
  });

  it('runs from `node --input-type=module -e` as the README shows', async () => {
    const code = `import * as wasmzoo from ${JSON.stringify('file://' + join(DIST, 'wasmzoo.mjs'))};
      await wasmzoo.init();
      console.log(JSON.stringify({ backend: wasmzoo.backend(), shape: wasmzoo.tensor([1, 2, 3], [3]).shape }));`;
    const r = await run(process.execPath, [RELAXED, '--input-type=module', '-e', code], { env });
    expect(r.stderr.replace(/.*ExperimentalWarning.*\n?|.*--trace-warnings.*\n?/g, '')).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ backend: 'relaxed', shape: [3] });
  });
});
