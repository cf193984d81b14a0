/**
 * Deno (binary from the `deno` npm package): dist/wasmzoo.mjs with `deno run`, first with no permissions
 * at all, then with read access to dist/wasm for the precompiled-Module check. Relaxed SIMD is on by default.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, DIST, expectHealthy, expectThreads, expectLenet, FIXTURES, parseReport, platform, ROOT, run } from './helpers.js';

const DENO = join(ROOT, 'node_modules/.bin/deno');
const p = platform('deno', DENO, 'npm ci installs it from the `deno` devDependency');
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DENO_DIR: mkdtempSync(join(tmpdir(), 'wasmzoo-deno-')),
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
  NO_COLOR: '1',
};
const script = join(FIXTURES, 'deno.mjs');
const base = ['run', '--no-prompt', '--no-config', '--no-lock'];

describe.skipIf(p.skip)(p.title, () => {
  beforeAll(assertBuilt);

  it('the deno binary runs', async () => {
    const r = await run(DENO, ['--version'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deno \d+\.\d+/);
  });

  it('imports dist/wasmzoo.mjs with no permissions and picks relaxed SIMD', async () => {
    const report = parseReport(await run(DENO, [...base, script], { env }), 'deno run (no permissions)');
    expect(report.canRead).toBe(false);
    expectHealthy(report, 'relaxed', { module: false });
    expectThreads(report, true); // node:worker_threads in Deno: no permission needed, and the process still exits
  });

  it('accepts a precompiled WebAssembly.Module and classifies a shipped image with LeNet-5 (read access to dist/wasm, weights, assets)', async () => {
    const read = [join(DIST, 'wasm'), join(ROOT, 'weights'), join(ROOT, 'assets')].join(',');
    const report = parseReport(await run(DENO, [...base, `--allow-read=${read}`, script], { env }), 'deno run --allow-read');
    expect(report.canRead).toBe(true);
    expect(report.validates).toEqual({ scalar: true, simd: true, relaxed: true });
    expectHealthy(report, 'relaxed');
    expectLenet(report, 'simd');
  });
});
