/**
 * loadWeights' browser caches in headless Chromium (dist/wasmzoo.mjs in a page on 127.0.0.1): Cache Storage and
 * IndexedDB, keyed by sha256. A wrong hash and an aborted download leave nothing cached; a verified download is
 * cached and the next load makes no request.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { serve, type Served } from '../../tools/platform/serve.mjs';
import { assertBuilt, platform, ROOT } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const p = platform('chromium', CHROMIUM, 'apt-get install -y chromium, or set CHROMIUM_PATH');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const bytes = readFileSync(join(ROOT, 'weights/lenet5-fashion.safetensors'));
const SHA = createHash('sha256').update(bytes).digest('hex');

describe.skipIf(p.skip)(`${p.title}: loadWeights caches`, () => {
  let browser: Browser;
  let server: Served;
  const hits: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    // /dl/weights/<tag>: the LeNet-5 file in 16 KiB chunks; /dl/stall/<tag>: two chunks, then nothing.
    server = await serve({
      handler: (req, res, path) => {
        const m = /^\/dl\/(weights|stall)\//.exec(path);
        if (!m) return false;
        hits.push(path);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength), 'cache-control': 'no-store' });
        let off = 0;
        const next = () => {
          if (res.destroyed) return;
          if (m[1] === 'stall' && off >= 32768) return;
          if (off >= bytes.byteLength) return void res.end();
          res.write(bytes.subarray(off, (off += 16384)));
          setTimeout(next, 2);
        };
        next();
        return true;
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('Cache Storage and IndexedDB: nothing cached after a wrong hash or an abort; a verified file is served from the cache', async () => {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${server.url}/fixtures/blank.html`);
    // (a module script, not import() inside evaluate: vitest rewrites dynamic imports in this file)
    await page.addScriptTag({ type: 'module', content: "import * as w from '/dist/wasmzoo.mjs'; globalThis.__w = w;" });
    await page.waitForFunction(() => (globalThis as any).__w);
    const out = await page.evaluate(async (sha) => {
      const w = (globalThis as any).__w;
      const idbCount = (name: string) => new Promise<number>((ok, fail) => {
        const req = indexedDB.open(name);
        req.onerror = () => fail(req.error);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('files')) return db.close(), ok(0);
          const c = db.transaction('files').objectStore('files').count();
          c.onsuccess = () => (db.close(), ok(c.result));
        };
      });
      const results: Record<string, Record<string, unknown>> = {};
      for (const cache of ['cache-storage', 'indexeddb']) {
        const cacheName = `test-${cache}`;
        const count = async () => (cache === 'cache-storage' ? (await (await caches.open(cacheName)).keys()).length : idbCount(cacheName));
        const r: Record<string, unknown> = {};
        try {
          await w.loadWeights(`/dl/weights/${cache}-wrong`, { cache, cacheName, sha256: 'ab'.repeat(32) });
          r.wrong = 'no error';
        } catch (e: any) {
          r.wrong = { name: e.name, code: e.code, isWasmzooError: e instanceof w.WasmzooError, message: e.message };
        }
        r.afterWrong = await count();
        const ac = new AbortController();
        let seen = 0;
        try {
          await w.loadWeights(`/dl/stall/${cache}`, { cache, cacheName, sha256: sha, signal: ac.signal, onProgress: ({ loaded }: { loaded: number }) => { seen = loaded; if (loaded > 0) ac.abort(); } });
          r.abort = 'no error';
        } catch (e: any) {
          r.abort = e.name;
        }
        r.seen = seen;
        r.afterAbort = await count();
        const events: number[] = [];
        const a = await w.loadWeights(`/dl/weights/${cache}-ok`, { cache, cacheName, sha256: sha, onProgress: (p: { loaded: number }) => events.push(p.loaded) });
        r.okBytes = a.byteLength;
        r.progressEvents = events.length;
        r.afterOk = await count();
        const b = await w.loadWeights(`/dl/weights/${cache}-again`, { cache, cacheName, sha256: sha });
        r.sameBytes = b.length === a.length && b.every((v: number, i: number) => v === a[i]);
        // and a model builds from the cached bytes
        const model = await w.lenet5({ weights: b });
        r.params = model.parameterCount();
        model.dispose();
        results[cache] = r;
      }
      return results;
    }, SHA);
    await page.close();
    for (const cache of ['cache-storage', 'indexeddb']) {
      const r = out[cache];
      expect(r.wrong, `${cache} ${logs.join('\n')}`).toMatchObject({ name: 'WasmzooError', code: 'E_IO', isWasmzooError: true });
      expect((r.wrong as { message: string }).message).toMatch(new RegExp(`sha256 mismatch .*expected ${'ab'.repeat(32)}, got ${SHA}`));
      expect(r.afterWrong, `${cache}: nothing cached after a wrong hash`).toBe(0);
      expect(r.abort).toBe('AbortError');
      expect(r.seen).toBeGreaterThan(0);
      expect(r.seen).toBeLessThan(bytes.byteLength);
      expect(r.afterAbort, `${cache}: nothing cached after an abort`).toBe(0);
      expect(r).toMatchObject({ okBytes: bytes.byteLength, afterOk: 1, sameBytes: true, params: 61706 });
      expect(r.progressEvents as number).toBeGreaterThan(5);
      expect(hits, `${cache}: the second load came from the cache`).not.toContain(`/dl/weights/${cache}-again`);
      expect(hits).toContain(`/dl/weights/${cache}-ok`);
    }
  });
});
