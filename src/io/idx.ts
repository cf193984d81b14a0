/**
 * IDX files (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/): a big-endian header
 * `0 0 <type> <ndim>`, ndim u32 dimensions, then the data. Gzipped files are inflated with the platform's
 * DecompressionStream (Node >= 18, Deno, browsers), so nothing here depends on Node.
 *
 * Both take bytes from anywhere: every malformed input is a WasmzooError('E_ARGUMENT') (corrupt gzip
 * included), and inflating stops at `maxBytes` (default DEFAULT_MAX_BYTES), so a gzip bomb cannot fill memory.
 */
import { WasmzooError } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';
import { DEFAULT_MAX_BYTES } from './fetch.js';

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'u8', size: 1 },
  0x09: { name: 'i8', size: 1 },
  0x0b: { name: 'i16', size: 2 },
  0x0c: { name: 'i32', size: 4 },
  0x0d: { name: 'f32', size: 4 },
  0x0e: { name: 'f64', size: 8 },
};

export interface IdxArray {
  dims: number[];
  /** Values widened to numbers' typed array: Uint8Array for u8 (no copy), else a converted copy. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Parse IDX bytes (already inflated). Checks the magic, dims and that the data length matches. */
export function readIdx(bytes: Uint8Array): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new WasmzooError('E_ARGUMENT', `idx: expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new WasmzooError('E_ARGUMENT', 'idx: not an IDX file (magic must start with two zero bytes; gzipped? use readIdxGz)');
  }
  const type = TYPES[bytes[2]];
  if (!type) throw new WasmzooError('E_ARGUMENT', `idx: unknown element type 0x${bytes[2].toString(16)}`);
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * ndim) throw new WasmzooError('E_ARGUMENT', `idx: truncated header (${ndim} dims need ${4 + 4 * ndim} bytes, file has ${bytes.length})`);
  const dims: number[] = [];
  let n = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    n *= d;
  }
  const start = 4 + 4 * ndim;
  if (bytes.length - start !== n * type.size) {
    throw new WasmzooError('E_ARGUMENT', `idx: dims [${dims.join(', ')}] of ${type.name} need ${n * type.size} data bytes, file has ${bytes.length - start}`);
  }
  if (type.size === 1) {
    const u8 = bytes.subarray(start, start + n);
    return { dims, data: type.name === 'u8' ? u8 : new Int8Array(u8.buffer, u8.byteOffset, n) };
  }
  const read = (i: number): number => {
    const o = start + i * type.size;
    switch (type.name) {
      case 'i16': return view.getInt16(o, false);
      case 'i32': return view.getInt32(o, false);
      case 'f32': return view.getFloat32(o, false);
      default: return view.getFloat64(o, false);
    }
  };
  const Out = { i16: Int16Array, i32: Int32Array, f32: Float32Array, f64: Float64Array }[type.name as 'i16' | 'i32' | 'f32' | 'f64'];
  const data = new Out(n);
  for (let i = 0; i < n; i++) data[i] = read(i);
  return { dims, data };
}

export interface GunzipOptions {
  /** Refuse to inflate past this many bytes (default DEFAULT_MAX_BYTES, 4 GiB). */
  maxBytes?: number;
}

const GUNZIP_OPTION_KEYS = optionKeys<GunzipOptions>({ maxBytes: 1 });

/** Inflate gzip bytes with the platform's DecompressionStream, at most `maxBytes` of output. */
export async function gunzip(bytes: Uint8Array, opts: GunzipOptions = {}): Promise<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) throw new WasmzooError('E_ARGUMENT', `gunzip: expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  opts = checkOptions('gunzip', opts, GUNZIP_OPTION_KEYS);
  if (typeof DecompressionStream === 'undefined') throw new WasmzooError('E_RUNTIME', 'gunzip: this runtime has no DecompressionStream');
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw new WasmzooError('E_ARGUMENT', `gunzip: not valid gzip data (${bytes.length} bytes): ${(e as Error)?.message ?? String(e)}`);
      }
      if (r.done) break;
      n += r.value.byteLength;
      if (n > max) throw new WasmzooError('E_ARGUMENT', `gunzip: ${bytes.length} bytes inflate to more than the limit of ${max} bytes; pass { maxBytes } to raise it`);
      chunks.push(r.value);
    }
  } catch (e) {
    void reader.cancel().catch(() => {});
    throw e;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Parse a gzipped IDX file (as Debian's dataset-fashion-mnist ships). */
export async function readIdxGz(bytes: Uint8Array, opts: GunzipOptions = {}): Promise<IdxArray> {
  return readIdx(await gunzip(bytes, opts));
}
