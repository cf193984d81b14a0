import { describe, expect, it } from 'vitest';
import { convOut, pair, poolOut } from '../src/shape.js';
import { assignOffsets } from '../src/graph/graph.js';
import { tensor } from '../src/tensor.js';

describe('shape math (values printed by torch 1.13)', () => {
  // [input, kernel, stride, padding, dilation, ceil_mode, F.max_pool2d output size]
  const pools: [number, number, number, number, number, boolean, number][] = [
    [10, 3, 2, 0, 1, true, 5],
    [10, 3, 2, 0, 1, false, 4],
    [9, 3, 2, 1, 1, true, 5],
    [6, 2, 2, 0, 1, true, 3],
    [5, 3, 3, 1, 1, true, 2],
    [112, 3, 2, 0, 1, true, 56],
    [55, 3, 2, 0, 1, false, 27],
    [13, 3, 2, 1, 1, true, 7],
    [7, 3, 2, 1, 2, true, 3],
    [4, 3, 3, 1, 1, true, 2],
    [14, 2, 2, 0, 1, true, 7],
    [3, 3, 2, 1, 1, true, 2],
  ];
  it.each(pools)('pool in=%i k=%i s=%i p=%i d=%i ceil=%s -> %i', (h, k, s, p, d, c, out) => {
    expect(poolOut(h, k, s, p, d, c)).toBe(out);
  });

  it('conv output sizes', () => {
    expect(convOut(224, 7, 2, 3, 1)).toBe(112); // resnet stem
    expect(convOut(224, 11, 4, 2, 1)).toBe(55); // alexnet stem
    expect(convOut(32, 5, 1, 0, 1)).toBe(28); // lenet conv1
    expect(convOut(8, 3, 1, 2, 2)).toBe(8); // dilated
  });

  it('pair() accepts ints and pairs, refuses the rest with the argument name', () => {
    expect(pair(3, 'k')).toEqual([3, 3]);
    expect(pair([1, 2], 'k')).toEqual([1, 2]);
    expect(() => pair([1, 2, 3], 'Conv2d stride')).toThrow(/Conv2d stride must be/);
    expect(() => pair(-1, 'k')).toThrow();
  });
});

describe('activation planner', () => {
  it('shares memory between buffers whose lifetimes do not overlap', () => {
    // a chain: 0 -> 1 -> 2 -> 3, each buffer read only by the next op
    const bufs = [
      { floats: 100, first: -1, last: 0 },
      { floats: 50, first: 0, last: 1 },
      { floats: 100, first: 1, last: 2 },
      { floats: 50, first: 2, last: Number.MAX_SAFE_INTEGER },
    ];
    const { offset, total } = assignOffsets(bufs);
    expect(total).toBe(112 + 64); // two live at a time: the 100-float pair + a 50-float, aligned to 16
    for (let i = 0; i < bufs.length; i++) {
      for (let j = i + 1; j < bufs.length; j++) {
        const overlapLife = bufs[i].first <= bufs[j].last && bufs[j].first <= bufs[i].last;
        const ei = offset[i] + bufs[i].floats, ej = offset[j] + bufs[j].floats;
        const overlapMem = offset[i] < ej && offset[j] < ei;
        expect(overlapLife && overlapMem).toBe(false);
      }
    }
  });
});

describe('tensor', () => {
  it('infers shapes from nested arrays and checks sizes', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.reshape([3, -1]).shape).toEqual([3, 2]);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/holds 4 elements but the data has 3/);
    expect(t.argmax()).toEqual([2, 2]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });
});
