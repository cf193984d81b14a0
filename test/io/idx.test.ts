import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { readIdx, readIdxGz } from '../../src/io/idx.js';

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
});
