/**
 * Weight bytes for apps: from a URL (fetch, streamed with byte-level progress and an AbortSignal), a fetch
 * Response, a Blob or File, or a file path (Node: node:fs, Deno: Deno.readFile), with an optional sha256 check
 * and an optional cache keyed by that hash (Cache Storage or IndexedDB in browsers and workers, or any object
 * with `match` / `put`).
 *
 * Order of work, so that nothing half-done is ever kept or parsed:
 *   1. with a cache: look the hash up; a hit is re-hashed (a corrupted entry is deleted and refetched);
 *   2. download into memory (progress per chunk; abort cancels the body and rejects with the signal's reason),
 *      never more than `maxBytes`: a declared Content-Length above it is refused before reading, a body that
 *      passes it or its own declared length is cancelled, and the buffer grows with what has arrived (a
 *      declared length is not trusted for the allocation);
 *   3. hash the whole download with crypto.subtle and compare, BEFORE anything parses it;
 *   4. only then store it in the cache, in one put (an aborted or failed download, or a wrong hash, stores
 *      nothing).
 * Used by resolveWeights (src/models/common.ts), so every model builder that takes a URL or path gets it.
 * No static import of a Node module: the package bundles for browsers unchanged.
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';

/** Bytes received so far; `total` is undefined when the server sends no usable Content-Length. */
export interface WeightProgress {
  loaded: number;
  total: number | undefined;
}

/** A cache of verified weight files keyed by their lowercase hex sha256. */
export interface WeightCache {
  match(sha256: string): Promise<Uint8Array | undefined>;
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  delete(sha256: string): Promise<void>;
}

export interface LoadWeightsOptions {
  /** Called for every chunk received (and once with the whole size on a cache hit or a non-streamed read). */
  onProgress?: (p: WeightProgress) => void;
  /** Aborts the download (and a cache lookup before it); the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Expected sha256 (hex, any case): the bytes are checked before they are returned or cached. */
  sha256?: string;
  /**
   * Keep verified downloads, keyed by sha256 (which is then required): 'cache-storage' (the Cache API),
   * 'indexeddb', or your own WeightCache. Default: no cache.
   */
  cache?: 'cache-storage' | 'indexeddb' | WeightCache;
  /** Name of the Cache Storage cache / IndexedDB database (default 'wasmzoo-weights'). */
  cacheName?: string;
  /** Options passed on to fetch (headers, credentials, ...); `signal` is set from the option above. */
  fetchInit?: RequestInit;
  /**
   * Refuse sources larger than this many bytes (default {@link DEFAULT_MAX_BYTES}, 4 GiB: all a wasm32 memory
   * can hold). A larger declared length is refused before reading; a body that goes past it is cancelled.
   * `Infinity` lifts the cap.
   */
  maxBytes?: number;
}

export const LOAD_WEIGHTS_OPTION_KEYS = optionKeys<LoadWeightsOptions>({
  onProgress: 1, signal: 1, sha256: 1, cache: 1, cacheName: 1, fetchInit: 1, maxBytes: 1,
});

/** Default of `maxBytes`: a wasm32 memory holds at most 4 GiB, so a larger weight file can never load. */
export const DEFAULT_MAX_BYTES = 2 ** 32;

/** Anything loadWeights reads bytes from. A string without a scheme is a file path (Node, Deno) or a relative URL. */
export type ByteSource = Uint8Array | ArrayBuffer | Blob | Response | URL | string;

const DEFAULT_CACHE_NAME = 'wasmzoo-weights';

/** Weight file bytes from any ByteSource, verified and cached as the options say. */
export async function loadWeights(src: ByteSource, opts: LoadWeightsOptions = {}): Promise<Uint8Array> {
  opts = checkOptions('loadWeights', opts, LOAD_WEIGHTS_OPTION_KEYS);
  const want = opts.sha256 === undefined ? undefined : normaliseHash(opts.sha256);
  const what = describeSource(src);
  const cap = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof cap !== 'number' || !(cap >= 0)) throw new WasmzooError('E_ARGUMENT', `weights: maxBytes must be a non-negative number of bytes (or Infinity), got ${JSON.stringify(opts.maxBytes)}`);
  const max = Math.floor(cap);
  checkAborted(opts.signal);
  let cache: WeightCache | undefined;
  if (opts.cache !== undefined) {
    if (!want) throw new WasmzooError('E_ARGUMENT', `weights: cache ${JSON.stringify(typeof opts.cache === 'string' ? opts.cache : 'custom')} is keyed by sha256: pass { sha256 } too`);
    cache = openCache(opts.cache, opts.cacheName ?? DEFAULT_CACHE_NAME);
    const hit = await cache.match(want);
    checkAborted(opts.signal);
    if (hit) {
      if (hit.byteLength > max) throw tooLarge(`the cached copy of ${what} is ${hit.byteLength} bytes`, max);
      if ((await sha256Hex(hit)) === want) {
        opts.onProgress?.({ loaded: hit.byteLength, total: hit.byteLength });
        return hit;
      }
      await cache.delete(want); // corrupted in storage: drop it and download again
    }
  }
  const bytes = await readSource(src, what, max, opts);
  if (bytes.byteLength > max) throw tooLarge(`${what} is ${bytes.byteLength} bytes`, max); // bytes given in memory; a file that grew
  if (want) {
    const got = await sha256Hex(bytes);
    if (got !== want) {
      throw new WasmzooError('E_IO', `weights: sha256 mismatch for ${what}: expected ${want}, got ${got} (${bytes.byteLength} bytes); refusing to use or cache them`);
    }
  }
  checkAborted(opts.signal);
  if (cache && want) await cache.put(want, bytes);
  return bytes;
}

/** Lowercase hex sha256 of bytes, with Web Crypto (browsers in a secure context, workers, Deno, Node >= 19). */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) throw new WasmzooError('E_ARGUMENT', 'weights: a sha256 check needs crypto.subtle (browsers offer it in secure contexts only: https or localhost)');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as BufferSource));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function normaliseHash(h: string): string {
  const s = typeof h === 'string' ? h.trim().toLowerCase() : '';
  if (!/^[0-9a-f]{64}$/.test(s)) throw new WasmzooError('E_ARGUMENT', `weights: sha256 must be 64 hex digits, got ${JSON.stringify(h)}`);
  return s;
}

function describeSource(src: ByteSource): string {
  if (typeof src === 'string') return src.length > 200 ? `${src.slice(0, 200)}...` : src;
  if (src instanceof URL) return src.href;
  if (typeof Response !== 'undefined' && src instanceof Response) return src.url || 'a Response';
  if (typeof File !== 'undefined' && src instanceof File) return `file ${JSON.stringify(src.name)}`;
  if (typeof Blob !== 'undefined' && src instanceof Blob) return `a Blob of ${src.size} bytes`;
  return 'bytes';
}

function tooLarge(subject: string, max: number): WasmzooError {
  return new WasmzooError('E_IO', `weights: ${subject}, more than the limit of ${max} bytes; pass { maxBytes } to loadWeights (or download: { maxBytes } to a model builder) to raise it`);
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

async function readSource(src: ByteSource, what: string, max: number, opts: LoadWeightsOptions): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (typeof Response !== 'undefined' && src instanceof Response) return readResponse(src, what, max, opts);
  if (typeof Blob !== 'undefined' && src instanceof Blob) {
    if (src.size > max) throw tooLarge(typeof File !== 'undefined' && src instanceof File ? `${what} is ${src.size} bytes` : what, max);
    return readStream(src.stream(), src.size, what, max, opts);
  }
  if (src instanceof URL || typeof src === 'string') {
    const s = src instanceof URL ? src.href : src;
    if (/^file:/i.test(s)) return readFile(decodeURIComponent(new URL(s).pathname), s, max, opts);
    if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s)) return fetchBytes(s, max, opts);
    return readFile(s, s, max, opts);
  }
  throw new WasmzooError('E_ARGUMENT', `weights: expected bytes, a Blob or File, a Response, a URL or a file path, got ${src === null ? 'null' : typeof src}`);
}

async function fetchBytes(url: string, max: number, opts: LoadWeightsOptions): Promise<Uint8Array> {
  let r: Response;
  try {
    r = await fetch(url, { ...opts.fetchInit, signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    throw new WasmzooError('E_IO', `weights: cannot fetch ${url}: ${(e as Error).message}`);
  }
  return readResponse(r, url, max, opts);
}

async function readResponse(r: Response, what: string, max: number, opts: LoadWeightsOptions): Promise<Uint8Array> {
  if (!r.ok) {
    await r.body?.cancel().catch(() => {});
    throw new WasmzooError('E_IO', `weights: fetching ${what} failed: HTTP ${r.status} ${r.statusText}`);
  }
  // Content-Length counts encoded bytes; the body stream gives decoded ones: only use it unencoded. It is a
  // claim to check against the body, never the size of an allocation.
  const enc = r.headers.get('content-encoding');
  const header = r.headers.get('content-length')?.trim() ?? '';
  const len = /^[0-9]+$/.test(header) ? Number(header) : NaN;
  const total = (!enc || enc === 'identity') && Number.isSafeInteger(len) ? len : undefined;
  if (total !== undefined && total > max) {
    await r.body?.cancel().catch(() => {});
    throw tooLarge(`${what} declares ${total} bytes (Content-Length)`, max);
  }
  if (!r.body) {
    const b = new Uint8Array(await r.arrayBuffer());
    opts.onProgress?.({ loaded: b.byteLength, total: b.byteLength });
    return b;
  }
  return readStream(r.body, total, what, max, opts);
}

/** First buffer of a stream read; it doubles as bytes arrive, up to the declared length or the cap. */
const FIRST_BUFFER = 1 << 20;

/** Drain a byte stream into one buffer, reporting progress; cancels the stream on abort or failure. */
async function readStream(stream: ReadableStream<Uint8Array>, total: number | undefined, what: string, max: number, opts: LoadWeightsOptions): Promise<Uint8Array> {
  const reader = stream.getReader();
  const { signal, onProgress } = opts;
  const onAbort = () => void reader.cancel(abortReason(signal!)).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  const limit = Math.min(total ?? Infinity, max);
  let buf: Uint8Array = new Uint8Array(0);
  let loaded = 0;
  try {
    buf = allocate(Math.min(limit, FIRST_BUFFER), what);
    onProgress?.({ loaded: 0, total });
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal?.aborted) throw abortReason(signal);
        throw new WasmzooError('E_IO', `weights: reading ${what} failed after ${loaded} bytes: ${(e as Error).message}`);
      }
      if (signal?.aborted) throw abortReason(signal);
      if (chunk.done) break;
      const c = chunk.value;
      const end = loaded + c.byteLength;
      if (total !== undefined && end > total) {
        throw new WasmzooError('E_IO', `weights: ${what} sent more than the ${total} bytes its Content-Length declares (${end} so far); refusing a body that disagrees with its length`);
      }
      if (end > max) throw tooLarge(`${what} sent ${end} bytes so far`, max);
      if (end > buf.byteLength) {
        const grown = allocate(Math.min(limit, Math.max(buf.byteLength * 2, end)), what);
        grown.set(buf.subarray(0, loaded));
        buf = grown;
      }
      buf.set(c, loaded);
      loaded += c.byteLength;
      onProgress?.({ loaded, total });
    }
  } catch (e) {
    void reader.cancel().catch(() => {});
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (total !== undefined && loaded !== total) {
    throw new WasmzooError('E_IO', `weights: ${what} ended after ${loaded} of ${total} bytes (connection cut?)`);
  }
  return loaded === buf.byteLength ? buf : buf.slice(0, loaded);
}

/** A buffer for a download; an engine out of memory gives a RangeError, which becomes an E_IO naming the size. */
function allocate(n: number, what: string): Uint8Array {
  try {
    return new Uint8Array(n);
  } catch (e) {
    throw new WasmzooError('E_IO', `weights: cannot allocate ${n} bytes to read ${what}: ${(e as Error).message}`);
  }
}

/** node:fs/promises and Deno share these two calls. */
interface FileReader {
  readFile(path: string, opts?: { signal?: AbortSignal }): Promise<Uint8Array>;
  stat(path: string): Promise<{ size: number | bigint }>;
}

async function readFile(path: string, what: string, max: number, opts: LoadWeightsOptions): Promise<Uint8Array> {
  const g = globalThis as { process?: { getBuiltinModule?: (m: string) => unknown }; Deno?: FileReader };
  const fs = g.process?.getBuiltinModule?.('node:fs/promises') as FileReader | undefined;
  const reader = fs ?? g.Deno;
  if (reader) {
    let b: Uint8Array;
    try {
      const size = Number((await reader.stat(path)).size);
      if (size > max) throw tooLarge(`${what} is ${size} bytes`, max);
      const raw = await reader.readFile(path, { signal: opts.signal });
      // A plain Uint8Array (Node gives a Buffer, whose slice() is a view).
      b = raw.constructor === Uint8Array ? raw : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (e) {
      if (opts.signal?.aborted) throw abortReason(opts.signal);
      if (e instanceof WasmzooError) throw e;
      throw new WasmzooError('E_IO', `weights: cannot read ${what}: ${(e as Error).message}`);
    }
    opts.onProgress?.({ loaded: b.byteLength, total: b.byteLength });
    return b;
  }
  if (/^file:/i.test(what)) throw new WasmzooError('E_IO', `weights: no file system to read ${what} (pass bytes or an http(s) URL)`);
  return fetchBytes(path, max, opts); // browsers and workers: a relative URL
}

// ---- caches -------------------------------------------------------------------------------------------

function openCache(kind: NonNullable<LoadWeightsOptions['cache']>, name: string): WeightCache {
  if (typeof kind === 'object' && kind && typeof kind.match === 'function' && typeof kind.put === 'function') return kind;
  if (kind === 'cache-storage') return cacheStorage(name);
  if (kind === 'indexeddb') return indexedDbCache(name);
  throw new WasmzooError('E_ARGUMENT', `weights: cache must be 'cache-storage', 'indexeddb' or an object with match/put/delete, got ${JSON.stringify(kind)}`);
}

/** Entries are synthetic same-key requests: the Cache API only stores http(s) URLs. */
function cacheStorage(name: string): WeightCache {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) throw new WasmzooError('E_ARGUMENT', "weights: cache 'cache-storage' is not available here (no globalThis.caches: browsers in a secure context, workers, Deno)");
  const key = (h: string) => `https://wasmzoo.invalid/weights/sha256/${h}`;
  return {
    async match(h) {
      const r = await (await storage.open(name)).match(key(h));
      return r ? new Uint8Array(await r.arrayBuffer()) : undefined;
    },
    async put(h, bytes) {
      const body = new Blob([bytes as BlobPart], { type: 'application/octet-stream' });
      await (await storage.open(name)).put(key(h), new Response(body, { headers: { 'content-length': String(bytes.byteLength) } }));
    },
    async delete(h) {
      await (await storage.open(name)).delete(key(h));
    },
  };
}

const IDB_STORE = 'files';

function indexedDbCache(name: string): WeightCache {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) throw new WasmzooError('E_ARGUMENT', "weights: cache 'indexeddb' is not available here (no globalThis.indexedDB)");
  const open = () =>
    new Promise<IDBDatabase>((ok, fail) => {
      const req = idb.open(name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(IDB_STORE);
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(new WasmzooError('E_IO', `weights: cannot open IndexedDB ${JSON.stringify(name)}: ${req.error?.message}`));
    });
  // One transaction per call: a put either commits whole or not at all.
  const run = async <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest | undefined): Promise<T> => {
    const db = await open();
    try {
      return await new Promise<T>((ok, fail) => {
        const tx = db.transaction(IDB_STORE, mode);
        const req = fn(tx.objectStore(IDB_STORE));
        tx.oncomplete = () => ok(req?.result as T);
        tx.onerror = tx.onabort = () => fail(new WasmzooError('E_IO', `weights: IndexedDB ${mode} failed: ${tx.error?.message}`));
      });
    } finally {
      db.close();
    }
  };
  return {
    async match(h) {
      const v = await run<ArrayBuffer | undefined>('readonly', (s) => s.get(h));
      return v instanceof ArrayBuffer ? new Uint8Array(v) : undefined;
    },
    async put(h, bytes) {
      const copy = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
      await run('readwrite', (s) => s.put(copy, h));
    },
    async delete(h) {
      await run('readwrite', (s) => s.delete(h));
    },
  };
}
