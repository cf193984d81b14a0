/**
 * A read-only zip reader for PyTorch checkpoints (torch >= 1.6 writes a zip of `<archive>/data.pkl`,
 * `<archive>/data/<key>` storages and small records; https://pytorch.org/docs/stable/notes/serialization.html).
 *
 * The central directory is the source of truth: torch's writer sets flag bit 3 and leaves the local headers'
 * sizes and CRC at 0 (they follow the data in a descriptor). Local headers are read only for their name and
 * extra lengths (torch pads the extra field, id "FB", so that data starts on a 64-byte boundary). Zip64 sizes
 * and offsets are read (checkpoints over 4 GB).
 *
 * Stored (method 0) entries are views of the file: torch never compresses. Deflated (method 8) entries, from a
 * checkpoint another zip tool re-compressed, are inflated once with the synchronous JavaScript inflater
 * (src/runtime/inflate-js.ts: loadStateDict is synchronous, DecompressionStream is not), never past the size
 * the central directory records. Other methods are refused.
 * CRC-32 is checked when an entry is first read, except for a recorded CRC of 0 (torch may skip computing it).
 *
 * Every malformed input is a WasmzooError('E_PICKLE') naming the entry. Caller: src/io/pth.ts.
 */
import { WasmzooError } from '../errors.js';
import { inflateRaw } from '../runtime/inflate-js.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate, ... */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the local file header. */
  readonly headerOffset: number;
  /** The name as stored (the local header must repeat it byte for byte). */
  readonly rawName: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const U32_MAX = 0xffffffff;

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly bytes: Uint8Array;
  private readonly where: string;
  private readonly checked = new Set<string>();
  /** Deflated entries, inflated on their first read. */
  private readonly inflated = new Map<string, Uint8Array>();

  /** @internal use {@link readZip} */
  constructor(bytes: Uint8Array, entries: Map<string, ZipEntry>, where: string) {
    this.bytes = bytes;
    this.entries = entries;
    this.where = where;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The bytes of an entry (a view of the file when stored), its CRC checked on the first read. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new WasmzooError('E_PICKLE', `${this.where}: no record ${JSON.stringify(name)} in the archive`);
    const fail = (msg: string): never => {
      throw new WasmzooError('E_PICKLE', `${this.where}: record ${JSON.stringify(name)}: ${msg}`);
    };
    const done = this.inflated.get(name);
    if (done) return done;
    if (e.method !== 0 && e.method !== 8) fail(`uses compression method ${e.method} (only stored and deflated records are read)`);
    if (e.method === 0 && e.compressedSize !== e.size) fail(`stored, yet its sizes differ (${e.compressedSize} vs ${e.size})`);
    const b = this.bytes;
    const h = e.headerOffset;
    if (h > b.length - 30 || u32(b, h) !== SIG_LOCAL) fail(`no local file header at byte ${h}`);
    const nameLen = u16(b, h + 26);
    const extraLen = u16(b, h + 28);
    const start = h + 30 + nameLen + extraLen;
    const stored = e.compressedSize;
    if (start > b.length || stored > b.length - start) fail(`data [${start}, ${start + stored}) runs past the end of the file (${b.length} bytes)`);
    if (nameLen !== e.rawName.length || e.rawName.some((x, i) => b[h + 30 + i] !== x)) fail('local header names a different file than the central directory');
    let data = b.subarray(start, start + stored);
    if (e.method === 8) {
      try {
        data = inflateRaw(data, e.size);
      } catch (err) {
        fail(`is deflate-compressed and does not inflate (${(err as Error).message}): the file is corrupt or truncated`);
      }
      if (data.length !== e.size) fail(`inflates to ${data.length} bytes, the archive records ${e.size}`);
    }
    if (!this.checked.has(name)) {
      if (e.crc32 !== 0 || e.size === 0) {
        const got = crc32(data);
        if (got !== e.crc32) fail(`CRC-32 mismatch (recorded ${hex(e.crc32)}, data has ${hex(got)}): the file is corrupt or truncated`);
      }
      this.checked.add(name);
    }
    if (e.method === 8) this.inflated.set(name, data);
    return data;
  }
}

/** Parse the central directory of a zip file. */
export function readZip(b: Uint8Array, where: string): ZipArchive {
  const fail = (msg: string): never => {
    throw new WasmzooError('E_PICKLE', `${where}: not a readable zip archive: ${msg}`);
  };
  // End of central directory: 22 bytes plus a comment of at most 65535, at the very end.
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (u32(b, i) === SIG_EOCD && i + 22 + u16(b, i + 20) === b.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail(`no end-of-central-directory record (file is ${b.length} bytes: truncated?)`);
  if (u16(b, eocd + 4) !== 0 || u16(b, eocd + 6) !== 0) fail('multi-disk archives are not supported');
  let count = u16(b, eocd + 10);
  let cdSize = u32(b, eocd + 12);
  let cdOffset = u32(b, eocd + 16);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || u32(b, loc) !== SIG_EOCD64_LOCATOR) fail('zip64 sizes without a zip64 end-of-central-directory locator');
    const at = u64(b, loc + 8, fail);
    if (at > b.length - 56 || u32(b, at) !== SIG_EOCD64) fail(`no zip64 end-of-central-directory record at byte ${at}`);
    count = u64(b, at + 32, fail);
    cdSize = u64(b, at + 40, fail);
    cdOffset = u64(b, at + 48, fail);
  }
  if (cdOffset > b.length || cdSize > b.length - cdOffset) fail(`central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the end of the file (${b.length} bytes)`);
  if (count > cdSize / 46) fail(`${count} entries cannot fit a ${cdSize}-byte central directory`);
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let k = 0; k < count; k++) {
    if (p > end - 46 || u32(b, p) !== SIG_CENTRAL) fail(`central directory entry ${k} at byte ${p} is malformed`);
    const flags = u16(b, p + 8);
    const method = u16(b, p + 10);
    const crc = u32(b, p + 16);
    let compressedSize = u32(b, p + 20);
    let size = u32(b, p + 24);
    const nameLen = u16(b, p + 28);
    const extraLen = u16(b, p + 30);
    const commentLen = u16(b, p + 32);
    let headerOffset = u32(b, p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > end) fail(`central directory entry ${k} runs past the directory`);
    const name = (flags & 0x800 ? decodeUtf8(b, p + 46, nameLen) : undefined) ?? latin1(b, p + 46, nameLen);
    if (flags & 1) fail(`entry ${JSON.stringify(name)} is encrypted`);
    // zip64 extra field: the 64-bit values of exactly the fields set to 0xffffffff, in this order
    if (size === U32_MAX || compressedSize === U32_MAX || headerOffset === U32_MAX) {
      let q = p + 46 + nameLen;
      const qEnd = q + extraLen;
      let found = false;
      while (q + 4 <= qEnd) {
        const id = u16(b, q);
        const len = u16(b, q + 2);
        if (q + 4 + len > qEnd) break;
        if (id === 1) {
          let r = q + 4;
          const take = (): number => {
            if (r + 8 > q + 4 + len) fail(`entry ${JSON.stringify(name)}: zip64 extra field too short`);
            const v = u64(b, r, fail);
            r += 8;
            return v;
          };
          if (size === U32_MAX) size = take();
          if (compressedSize === U32_MAX) compressedSize = take();
          if (headerOffset === U32_MAX) headerOffset = take();
          found = true;
          break;
        }
        q += 4 + len;
      }
      if (!found) fail(`entry ${JSON.stringify(name)}: 32-bit sizes at their maximum but no zip64 extra field`);
    }
    if (entries.has(name)) fail(`two entries named ${JSON.stringify(name)}`);
    entries.set(name, { name, method, crc32: crc, compressedSize, size, headerOffset, rawName: b.subarray(p + 46, p + 46 + nameLen) });
    p = next;
  }
  return new ZipArchive(b, entries, where);
}

function u16(b: Uint8Array, at: number): number {
  return at >= 0 && at + 2 <= b.length ? b[at]! | (b[at + 1]! << 8) : -1;
}

function u32(b: Uint8Array, at: number): number {
  return at >= 0 && at + 4 <= b.length ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0 : -1;
}

/** A u64 that must be a safe integer (no file this size fits in memory otherwise). */
function u64(b: Uint8Array, at: number, fail: (msg: string) => never): number {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  if (lo < 0 || hi < 0) fail(`truncated 64-bit field at byte ${at}`);
  if (hi > 0x1fffff) fail(`64-bit field at byte ${at} is too large`);
  return hi * 2 ** 32 + lo;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeUtf8(b: Uint8Array, at: number, n: number): string | undefined {
  try {
    return utf8.decode(b.subarray(at, at + n));
  } catch {
    return undefined;
  }
}

function latin1(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = at; i < at + n && i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3, reflected, as zip). */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
