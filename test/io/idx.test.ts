import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { gunzip, readIdx, readIdxGz } from '../../src/io/idx.js';
import { WasmzooError } from '../../src/errors.js';

function idx(type: number, dims: number[], body: number[]): Uint8Array {
  const h = [0, 0, type, dims.length];
  for (const d of dims) h.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return new Uint8Array([...h, ...body]);
}

describe('IDX reader', () => {
  it('reads u8 images and i32 big-endian values', async () => {
    const a = readIdx(idx(0x08, [2, 2], [1, 2, 3, 4]));
    expect(a.dims).toEqual([2, 2]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4]);
    const b = readIdx(idx(0x0c, [2], [0, 0, 1, 0, 255, 255, 255, 255]));
    expect(Array.from(b.data)).toEqual([256, -1]);
    const c = await readIdxGz(gzipSync(idx(0x08, [3], [7, 8, 9])));
    expect(Array.from(c.data)).toEqual([7, 8, 9]);
  });

  it('refuses bad magic, unknown types and wrong lengths with the numbers', () => {
    expect(() => readIdx(new Uint8Array([1, 0, 8, 1]))).toThrow(/not an IDX file/);
    expect(() => readIdx(idx(0x07, [1], [0]))).toThrow(/unknown element type 0x7/);
    expect(() => readIdx(idx(0x08, [2, 3], [1, 2]))).toThrow(/need 6 data bytes, file has 2/);
    expect(() => readIdx(new Uint8Array([0, 0, 8, 2, 0, 0]))).toThrow(/truncated header/);
  });

  it('refuses input that is not bytes with a WasmzooError', () => {
    for (const v of [null, undefined, 'abc', [0, 0, 8, 0]]) expect(() => readIdx(v as never)).toThrow(WasmzooError);
  });
});

describe('gunzip: hostile gzip (issue 15)', () => {
  const reason = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e, 'expected a WasmzooError').toBeInstanceOf(WasmzooError);
    expect((e as WasmzooError).code).toBe('E_ARGUMENT');
    return (e as WasmzooError).message;
  };

  it('corrupt, truncated, empty and junk-followed gzip are WasmzooErrors, not zlib errors', async () => {
    const good = gzipSync(idx(0x08, [3], [7, 8, 9]));
    expect(await reason(gunzip(new Uint8Array([1, 2, 3])))).toMatch(/gunzip: not valid gzip data \(3 bytes\)/);
    expect(await reason(gunzip(good.subarray(0, 12)))).toMatch(/not valid gzip data/);
    expect(await reason(gunzip(new Uint8Array(0)))).toMatch(/not valid gzip data/);
    expect(await reason(readIdxGz(new Uint8Array([...good, 1, 2])))).toMatch(/not valid gzip data/);
    expect(await reason(gunzip('gz' as never))).toMatch(/expected a Uint8Array/);
  });

  it('stops inflating at maxBytes (a gzip bomb), naming the limit', async () => {
    const bomb = gzipSync(new Uint8Array(8 << 20)); // 8 MiB of zeros in ~8 KB
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await reason(gunzip(bomb, { maxBytes: 1 << 20 }))).toMatch(/inflate to more than the limit of 1048576 bytes.*maxBytes/);
    expect((await gunzip(bomb, { maxBytes: 8 << 20 })).length).toBe(8 << 20);
  });
});
