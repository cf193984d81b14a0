/**
 * The JavaScript inflater (src/runtime/inflate-js.ts) against node:zlib as the oracle: every level (stored,
 * fixed and dynamic Huffman blocks), data from random to repetitive, the real kernel container; corrupt
 * and truncated input fails with a WasmzooError; and inflate() takes this path when an engine has neither
 * node:zlib nor DecompressionStream.
 */
import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inflateZlib } from '../../src/runtime/inflate-js.js';
import { inflate } from '../../src/runtime/inflate.js';
import { WasmzooError } from '../../src/errors.js';

/** Bytes from an LCG, drawn from `alphabet` symbols in runs up to `run` long: random to repetitive. */
function sample(n: number, seed: number, alphabet: number, run: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8;
  for (let i = 0; i < n;) {
    const v = next() % alphabet, len = 1 + (next() % run);
    for (let k = 0; k < len && i < n; k++) out[i++] = v;
  }
  return out;
}

const kernels = new Uint8Array(readFileSync(new URL('../../build/wasmzoo.kernels.zlib', import.meta.url)));

describe('inflateZlib', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(7)],
    ['random', sample(70_000, 1, 256, 1)],
    ['text-like', sample(50_000, 2, 40, 3)],
    ['long runs', sample(200_000, 3, 4, 300)],
  ];
  it.each(inputs)('%s at every level matches node:zlib', (_, data) => {
    for (let level = 0; level <= 9; level++) {
      const packed = new Uint8Array(deflateSync(data, { level }));
      expect(Buffer.from(inflateZlib(packed)).equals(Buffer.from(data)), `level ${level}`).toBe(true);
    }
  });

  it('the embedded kernel container (zopfli output) inflates as node:zlib does', () => {
    expect(Buffer.from(inflateZlib(kernels)).equals(inflateSync(kernels))).toBe(true);
  });

  it('every truncation fails with a WasmzooError; every flipped bit fails so, or decodes as node:zlib does', () => {
    const data = sample(4000, 5, 30, 4);
    const packed = new Uint8Array(deflateSync(data, { level: 6 }));
    for (let n = 0; n < packed.length; n++) {
      expect(() => inflateZlib(packed.subarray(0, n)), `first ${n} bytes`).toThrow(WasmzooError);
    }
    for (let i = 0; i < packed.length; i++) {
      const bad = packed.slice();
      bad[i] ^= 1 << (i % 8);
      // node:zlib decides: a flip in the padding bits after the last block is still valid data.
      let expected: Buffer | undefined;
      try { expected = inflateSync(bad); } catch { /* corrupt */ }
      if (expected) expect(Buffer.from(inflateZlib(bad)).equals(expected), `flip at byte ${i}`).toBe(true);
      else expect(() => inflateZlib(bad), `flip at byte ${i}`).toThrow(WasmzooError);
    }
  });

  it('refuses output past maxBytes, and a stream that is not zlib', () => {
    const packed = new Uint8Array(deflateSync(new Uint8Array(100_000)));
    expect(() => inflateZlib(packed, 50_000)).toThrow(/limit of 50000 bytes/);
    expect(inflateZlib(packed, 100_000).length).toBe(100_000);
    expect(() => inflateZlib(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0))).toThrow(/not a zlib deflate stream/);
  });
});

describe('inflate() fallback', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('uses the JavaScript inflater where neither node:zlib nor DecompressionStream exists', async () => {
    const hiddenProcess = { ...process, getBuiltinModule: undefined };
    vi.stubGlobal('process', hiddenProcess);
    vi.stubGlobal('DecompressionStream', undefined);
    const data = sample(30_000, 9, 20, 5);
    const out = await inflate(new Uint8Array(deflateSync(data)));
    vi.unstubAllGlobals();
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
    // And the corrupt-input error is the inflater's own, which shows that path ran.
    vi.stubGlobal('process', hiddenProcess);
    vi.stubGlobal('DecompressionStream', undefined);
    await expect(inflate(Uint8Array.of(0x78, 0x9c, 3, 0))).rejects.toThrow(/cannot inflate/);
  });
});
