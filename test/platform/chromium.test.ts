/**
 * Headless Chromium (the system /usr/bin/chromium, driven by playwright-core; never `playwright install`)
 * against a localhost server of dist/ and test/platform/fixtures/: the <script> IIFE builds exposing the
 * global `wasmzoo`, the ESM build in a page, and both inside Web Workers (module worker importing
 * dist/wasmzoo.mjs, classic worker with importScripts of the IIFE). Relaxed SIMD is on by default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { serve, type Served } from '../../tools/platform/serve.mjs';
import { assertBuilt, expectHealthy, expectLenet, expectThreads, platform, type Report } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const p = platform('chromium', CHROMIUM, 'apt-get install -y chromium, or set CHROMIUM_PATH');
/** What init({ threads: 2 }) says in a page served without COOP/COEP. */
const NOT_ISOLATED = /not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe.skipIf(p.skip)(p.title, () => {
  let browser: Browser;
  let server: Served;
  let isolated: Served;

  beforeAll(async () => {
    assertBuilt();
    server = await serve();
    isolated = await serve({ coi: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await isolated?.close();
  });

  async function load(path: string, srv = server): Promise<{ report: Report; logs: string[] }> {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => logs.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    try {
      await page.goto(`${srv.url}${path}`);
      const handle = await page.waitForFunction(() => (globalThis as any).__result, undefined, { timeout: 30_000 }).catch((e) => {
        throw new Error(`${path}: no result (${e.message})\n${logs.join('\n')}\nserver:\n${server.log.slice(-20).join('\n')}`);
      });
      return { report: (await handle.jsonValue()) as Report, logs };
    } finally {
      await page.close();
    }
  }

  it('reports its version', () => {
    expect(browser.version()).toMatch(/^\d+\./);
    console.info(`[platform] chromium ${browser.version()}`);
  });

  it.each(['wasmzoo.iife.js', 'wasmzoo.min.js'])('<script src=dist/%s> exposes the global `wasmzoo`', async (file) => {
    const { report, logs } = await load(`/fixtures/script.html?file=${file}`);
    expect(report.global, logs.join('\n')).toBe('object');
    expectHealthy(report, 'relaxed');
    expectLenet(report, 'simd');
    expectThreads(report, NOT_ISOLATED);
  });

  it('<script type=module> importing dist/wasmzoo.mjs (no global leaks)', async () => {
    const { report, logs } = await load('/fixtures/esm.html');
    expect(report.global, logs.join('\n')).toBe('undefined');
    expectHealthy(report, 'relaxed');
    expectLenet(report, 'simd');
    expectThreads(report, NOT_ISOLATED);
  });

  it('module Web Worker importing dist/wasmzoo.mjs', async () => {
    const { report, logs } = await load('/fixtures/worker.html?kind=module');
    expect(report.inWorker, logs.join('\n')).toBe(true);
    expectHealthy(report, 'relaxed');
    expectLenet(report, 'simd');
    expectThreads(report, NOT_ISOLATED);
  });

  it('classic Web Worker with importScripts(dist/wasmzoo.iife.js)', async () => {
    const { report, logs } = await load('/fixtures/worker.html?kind=classic');
    expect(report.inWorker, logs.join('\n')).toBe(true);
    expect(report.global).toBe('object');
    expectHealthy(report, 'relaxed');
    expectLenet(report, 'simd');
    expectThreads(report, NOT_ISOLATED);
  });

  // served with COOP/COEP: threads run, in the page (whose main thread spins, it may not Atomics.wait) and
  // in workers, with the bits of one thread
  it.each([
    ['<script type=module> page', '/fixtures/esm.html'],
    ['module Web Worker', '/fixtures/worker.html?kind=module'],
    ['classic Web Worker', '/fixtures/worker.html?kind=classic'],
    ['<script> IIFE page', '/fixtures/script.html?file=wasmzoo.min.js'],
  ])('cross-origin isolated %s: 2 threads, same bits', async (_what, path) => {
    const { report, logs } = await load(path, isolated);
    expect(report.errors, logs.join('\n')).toEqual([]);
    expectThreads(report, true);
  });
});
