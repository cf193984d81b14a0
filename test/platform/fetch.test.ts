/**
 * Weight loading for apps (src/io/fetch.ts through resolveWeights) in Node against a local HTTP server on
 * 127.0.0.1: byte-level progress, abort mid-download, sha256 checked before anything is parsed or cached,
 * nothing cached after a failure, Blob/File and file paths. The browser caches (Cache Storage, IndexedDB)
 * are tested in Chromium (fetch-chromium.test.ts); here a Map-backed WeightCache stands in for them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWeights, type WeightCache, type WeightProgress } from '../../src/io/fetch.js';
import { resolveWeights } from '../../src/models/common.js';
import { lenet5 } from '../../src/models/lenet.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { tensor } from '../../src/tensor.js';
import { WasmzooError } from '../../src/errors.js';
import { ROOT } from './helpers.js';

const WEIGHTS = join(ROOT, 'weights/lenet5-fashion.safetensors');
const bytes = new Uint8Array(readFileSync(WEIGHTS));
const SHA = createHash('sha256').update(bytes).digest('hex');
const CHUNK = 16 * 1024;

class MapCache implements WeightCache {
  readonly map = new Map<string, Uint8Array>();
  puts = 0;
  async match(h: string) { return this.map.get(h); }
  async put(h: string, b: Uint8Array) { this.puts++; this.map.set(h, b.slice()); }
  async delete(h: string) { this.map.delete(h); }
}

describe('loadWeights / resolveWeights over HTTP (Node, 127.0.0.1)', () => {
  let server: Server;
  let base = '';
  const hits: string[] = [];
  const closedEarly: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      hits.push(path);
      res.on('close', () => { if (!res.writableFinished) closedEarly.push(path); });
      if (path === '/missing') { res.writeHead(404).end('no'); return; }
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (path !== '/nolength') headers['content-length'] = String(bytes.byteLength);
      res.writeHead(200, headers);
      // Chunks with a pause between them, so the client sees several progress events; /stall stops after
      // two chunks and keeps the connection open (a slow server), /cut closes it (a broken one).
      let off = 0;
      const next = () => {
        if (res.destroyed) return;
        if ((path === '/stall' || path === '/cut') && off >= 2 * CHUNK) {
          if (path === '/cut') res.destroy();
          return;
        }
        if (off >= bytes.byteLength) { res.end(); return; }
        res.write(bytes.subarray(off, off + CHUNK));
        off += CHUNK;
        setTimeout(next, 2);
      };
      next();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  it('streams with byte-level progress, checks sha256, and the bytes run LeNet-5', async () => {
    const events: WeightProgress[] = [];
    const got = await resolveWeights(`${base}/weights`, { sha256: SHA.toUpperCase(), onProgress: (p) => events.push({ ...p }) });
    expect(got).toEqual(bytes);
    expect(events.length).toBeGreaterThanOrEqual(Math.ceil(bytes.byteLength / CHUNK));
    expect(events[0]).toEqual({ loaded: 0, total: bytes.byteLength });
    expect(events.at(-1)).toEqual({ loaded: bytes.byteLength, total: bytes.byteLength });
    for (let i = 1; i < events.length; i++) expect(events[i].loaded).toBeGreaterThan(events[i - 1].loaded);

    const samples = readSafetensors(new Uint8Array(readFileSync(join(ROOT, 'assets/fashion-samples.safetensors'))));
    const px = samples.get('images').bytes.subarray(0, 784);
    const model = await lenet5({ weights: got as Uint8Array });
    expect(model.forward(tensor(Float32Array.from(px, (p) => (p / 255 - 0.286) / 0.353), [1, 1, 28, 28])).argmax()).toEqual([9]); // ankle boot
    model.dispose();
  });

  it('without Content-Length: total undefined, still complete', async () => {
    const events: WeightProgress[] = [];
    expect(await loadWeights(`${base}/nolength`, { onProgress: (p) => events.push(p) })).toEqual(bytes);
    expect(events.every((e) => e.total === undefined)).toBe(true);
    expect(events.at(-1)!.loaded).toBe(bytes.byteLength);
  });

  it('abort mid-download rejects with the AbortError, closes the connection and caches nothing', async () => {
    const cache = new MapCache();
    const ac = new AbortController();
    let seen = 0;
    const p = loadWeights(`${base}/stall`, {
      signal: ac.signal, cache, sha256: SHA,
      onProgress: ({ loaded }) => { seen = loaded; if (loaded >= CHUNK) ac.abort(); },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(bytes.byteLength);
    expect(cache.puts).toBe(0);
    for (let i = 0; i < 50 && !closedEarly.includes('/stall'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(closedEarly).toContain('/stall');
    // An already aborted signal never starts a request.
    const before = hits.length;
    await expect(loadWeights(`${base}/weights`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(hits.length).toBe(before);
  });

  it('a wrong sha256 is refused with a clear WasmzooError before parsing, and nothing is cached', async () => {
    const cache = new MapCache();
    const wrong = 'ab'.repeat(32);
    const err = await loadWeights(`${base}/weights`, { sha256: wrong, cache }).catch((e) => e);
    expect(err).toBeInstanceOf(WasmzooError);
    expect(err.code).toBe('E_IO');
    expect(err.message).toBe(`weights: sha256 mismatch for ${base}/weights: expected ${wrong}, got ${SHA} (${bytes.byteLength} bytes); refusing to use or cache them`);
    expect(cache.map.size).toBe(0);
  });

  it('a cut connection and HTTP errors fail with E_IO and cache nothing', async () => {
    const cache = new MapCache();
    await expect(loadWeights(`${base}/cut`, { sha256: SHA, cache })).rejects.toThrow(/weights: (reading .* failed after|.* ended after) \d+/);
    await expect(loadWeights(`${base}/missing`, { sha256: SHA, cache })).rejects.toThrow(/HTTP 404/);
    await expect(loadWeights('http://127.0.0.1:9/nothing-listens')).rejects.toThrow(/cannot fetch/);
    expect(cache.map.size).toBe(0);
  });

  it('caches a verified download by sha256: the second load makes no request; a corrupted entry is refetched', async () => {
    const cache = new MapCache();
    await loadWeights(`${base}/weights?a`, { sha256: SHA, cache });
    expect([...cache.map.keys()]).toEqual([SHA]);
    const n = hits.length;
    const events: WeightProgress[] = [];
    expect(await loadWeights(`${base}/weights?a`, { sha256: SHA, cache, onProgress: (p) => events.push(p) })).toEqual(bytes);
    expect(hits.length).toBe(n);
    expect(events).toEqual([{ loaded: bytes.byteLength, total: bytes.byteLength }]);
    cache.map.get(SHA)![100] ^= 1;
    expect(await loadWeights(`${base}/weights?a`, { sha256: SHA, cache })).toEqual(bytes);
    expect(hits.length).toBe(n + 1);
    expect(cache.map.get(SHA)).toEqual(bytes);
  });

  it('argument errors name what is wrong', async () => {
    await expect(loadWeights(`${base}/weights`, { cache: new MapCache() })).rejects.toThrow(/keyed by sha256: pass \{ sha256 \}/);
    await expect(loadWeights(`${base}/weights`, { sha256: 'xyz' })).rejects.toThrow(/sha256 must be 64 hex digits/);
    await expect(loadWeights(`${base}/weights`, { sha256: SHA, cache: 'cache-storage' })).rejects.toThrow(/'cache-storage' is not available here/);
    await expect(loadWeights(`${base}/weights`, { sha256: SHA, cache: 'indexeddb' })).rejects.toThrow(/'indexeddb' is not available here/);
  });

  it('Blob and File (with progress and sha256), paths and file: URLs', async () => {
    const events: WeightProgress[] = [];
    expect(await loadWeights(new Blob([bytes]), { sha256: SHA, onProgress: (p) => events.push(p) })).toEqual(bytes);
    expect(events.at(-1)).toEqual({ loaded: bytes.byteLength, total: bytes.byteLength });
    const file = new File([bytes], 'lenet.safetensors');
    await expect(loadWeights(file, { sha256: 'cd'.repeat(32) })).rejects.toThrow(/sha256 mismatch for file "lenet.safetensors"/);
    expect(await resolveWeights(file)).toEqual(bytes);
    const fromPath = (await resolveWeights(WEIGHTS, { sha256: SHA })) as Uint8Array;
    expect(fromPath.constructor).toBe(Uint8Array); // not a Buffer
    expect(fromPath).toEqual(bytes);
    expect(await resolveWeights(pathToFileURL(WEIGHTS))).toEqual(bytes);
    await expect(resolveWeights(join(ROOT, 'weights/none.safetensors'))).rejects.toThrow(/cannot read/);
  });
});
