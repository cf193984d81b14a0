/**
 * loadWeights against servers and sources that lie or never stop (issue 15, items 6 and 7): a declared
 * Content-Length is not trusted for the allocation, a body that disagrees with it is an E_IO error, and a
 * size cap (`maxBytes`, default DEFAULT_MAX_BYTES) stops endless bodies. Every refusal cancels the body.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BYTES, loadWeights, type LoadWeightsOptions } from '../../src/io/fetch.js';
import { WasmzooError } from '../../src/errors.js';

/** A body stream that counts what was pulled and whether it was cancelled; `chunks` undefined is endless. */
function body(chunk: number, chunks?: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (chunks !== undefined && seen.pulled >= chunks) {
        c.close();
        return;
      }
      seen.pulled++;
      c.enqueue(new Uint8Array(chunk).fill(7));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

function response(stream: ReadableStream<Uint8Array>, length?: string): Response {
  return new Response(stream, { headers: length === undefined ? {} : { 'content-length': length } });
}

async function ioError(p: Promise<unknown>): Promise<WasmzooError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected a rejection').toBeInstanceOf(WasmzooError);
  expect((e as WasmzooError).code).toBe('E_IO');
  return e as WasmzooError;
}

describe('loadWeights: declared lengths are checked, not trusted', () => {
  it('defaults the cap to what a wasm32 memory can hold (4 GiB)', () => {
    expect(DEFAULT_MAX_BYTES).toBe(2 ** 32);
  });

  it('Content-Length 1e15 is refused at once with the limit named, no RangeError, and the body is cancelled', async () => {
    const { stream, seen } = body(16);
    const e = await ioError(loadWeights(response(stream, '1000000000000000')));
    expect(e.message).toMatch(/declares 1000000000000000 bytes \(Content-Length\)/);
    expect(e.message).toContain(`limit of ${2 ** 32} bytes`);
    expect(e.message).toMatch(/maxBytes/);
    expect(seen.cancelled).toBe(true);
  });

  it('without a cap, Content-Length 1e15 is still not allocated: a short body is an E_IO error', async () => {
    const { stream } = body(16, 2);
    const e = await ioError(loadWeights(response(stream, '1000000000000000'), { maxBytes: Infinity }));
    expect(e.message).toMatch(/ended after 32 of 1000000000000000 bytes/);
  });

  it('allocates no more up front than has arrived, even for a declared length under the cap', async () => {
    const { stream, seen } = body(1024);
    const ac = new AbortController();
    const before = process.memoryUsage().arrayBuffers;
    let grown = -1;
    const opts: LoadWeightsOptions = {
      signal: ac.signal,
      onProgress: ({ loaded }) => {
        if (loaded > 0 && grown < 0) {
          grown = process.memoryUsage().arrayBuffers - before;
          ac.abort();
        }
      },
    };
    // 3 GB declared, 1 KB sent: the old reader allocated all 3 GB before the first byte.
    await expect(loadWeights(response(stream, String(3e9)), opts)).rejects.toMatchObject({ name: 'AbortError' });
    expect(grown).toBeGreaterThanOrEqual(0);
    expect(grown).toBeLessThan(64 * 2 ** 20);
    expect(seen.cancelled).toBe(true);
  });

  it('a body longer than its Content-Length is refused as soon as it overruns, and cancelled', async () => {
    const { stream, seen } = body(64);
    const e = await ioError(loadWeights(response(stream, '100')));
    expect(e.message).toMatch(/sent more than the 100 bytes its Content-Length declares/);
    expect(seen.pulled).toBe(2);
    expect(seen.cancelled).toBe(true);
  });

  it('a body shorter than its Content-Length is an E_IO error', async () => {
    const { stream } = body(30, 1);
    expect((await ioError(loadWeights(response(stream, '100')))).message).toMatch(/ended after 30 of 100 bytes/);
  });

  it('an honest length still gives exactly the bytes, in one buffer of that size', async () => {
    const { stream } = body(1000, 5);
    const b = await loadWeights(response(stream, '5000'));
    expect(b.byteLength).toBe(5000);
    expect(b.buffer.byteLength).toBe(5000);
  });
});

describe('loadWeights: the size cap (maxBytes)', () => {
  it('an endless body without Content-Length stops at the cap, is cancelled, and the error says how to raise it', async () => {
    const { stream, seen } = body(64 * 1024);
    const e = await ioError(loadWeights(response(stream), { maxBytes: 2 ** 20 }));
    expect(e.message).toMatch(/more than the limit of 1048576 bytes/);
    expect(e.message).toMatch(/\{ maxBytes \}.*download: \{ maxBytes \}/);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(17);
  });

  it('a declared length above the cap is refused before reading', async () => {
    const { stream, seen } = body(16);
    const e = await ioError(loadWeights(response(stream, '2000'), { maxBytes: 1000 }));
    expect(e.message).toMatch(/declares 2000 bytes.*limit of 1000 bytes/);
    expect(seen.pulled).toBeLessThanOrEqual(1);
    expect(seen.cancelled).toBe(true);
  });

  it('applies to every source: Blob, file path and bytes in memory; exactly maxBytes is fine', async () => {
    const bytes = new Uint8Array(2000).fill(1);
    expect((await ioError(loadWeights(new Blob([bytes]), { maxBytes: 1000 }))).message).toMatch(/a Blob of 2000 bytes.*limit of 1000 bytes/);
    expect((await ioError(loadWeights(bytes, { maxBytes: 1000 }))).message).toMatch(/2000 bytes.*limit of 1000 bytes/);
    const dir = mkdtempSync(join(tmpdir(), 'wasmzoo-cap-'));
    try {
      const path = join(dir, 'big.safetensors');
      writeFileSync(path, bytes);
      expect((await ioError(loadWeights(path, { maxBytes: 1000 }))).message).toMatch(/big\.safetensors.*2000 bytes.*limit of 1000 bytes/);
      expect((await loadWeights(path, { maxBytes: 2000 })).byteLength).toBe(2000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await loadWeights(new Blob([bytes]), { maxBytes: 2000 })).byteLength).toBe(2000);
  });

  it('maxBytes must be a non-negative number', async () => {
    for (const m of [-1, NaN, '10' as unknown as number]) {
      const e = await loadWeights(new Uint8Array(1), { maxBytes: m }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WasmzooError);
      expect((e as WasmzooError).code).toBe('E_ARGUMENT');
    }
  });
});

describe('loadWeights: lying servers over HTTP (127.0.0.1)', () => {
  let server: Server;
  let base = '';
  const closedEarly: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      res.on('close', () => { if (!res.writableFinished) closedEarly.push(path); });
      if (path === '/huge') {
        // declares a petabyte, sends a little and keeps the connection open
        res.writeHead(200, { 'content-length': '1000000000000000' });
        res.write(new Uint8Array(1024));
        return;
      }
      // /endless: no length, never ends
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = new Uint8Array(64 * 1024);
      const next = () => { if (!res.destroyed && res.write(chunk)) setImmediate(next); else if (!res.destroyed) res.once('drain', next); };
      next();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  const waitClosed = async (path: string) => {
    for (let i = 0; i < 200 && !closedEarly.includes(path); i++) await new Promise((r) => setTimeout(r, 10));
    return closedEarly.includes(path);
  };

  it('Content-Length 1e15: refused with E_IO and the connection is closed', async () => {
    const e = await ioError(loadWeights(`${base}/huge`));
    expect(e.message).toMatch(/declares 1000000000000000 bytes/);
    expect(await waitClosed('/huge')).toBe(true);
  });

  it('an endless body stops at maxBytes and the connection is closed', async () => {
    const e = await ioError(loadWeights(`${base}/endless`, { maxBytes: 4 * 2 ** 20 }));
    expect(e.message).toMatch(/limit of 4194304 bytes/);
    expect(await waitClosed('/endless')).toBe(true);
  });
});
