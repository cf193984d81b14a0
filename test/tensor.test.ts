// Shapes handed to Tensor / tensor() / reshape(): every dimension a non-negative integer (at most one -1 where
// it is inferred), and the data length equal to the shape's product. Issue 15, items 2 and 10.
import { describe, expect, it } from 'vitest';
import { Tensor, tensor } from '../src/tensor.js';
import { WasmzooError } from '../src/errors.js';

function errorOf(fn: () => unknown): WasmzooError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WasmzooError);
    return e as WasmzooError;
  }
  throw new Error('expected a WasmzooError, nothing was thrown');
}

describe('tensor shapes', () => {
  const data = new Float32Array(12);

  it('refuses two -1 dimensions (tensor and reshape) instead of inventing negative sizes', () => {
    for (const fn of [() => tensor(data, [-1, -1]), () => tensor(data, [2, -1, -1]), () => tensor(data, [3, 4]).reshape([-1, -1])]) {
      const e = errorOf(fn);
      expect(e.code).toBe('E_SHAPE');
      expect(e.message).toMatch(/at most one -1/);
      expect(e.message).toMatch(/\[(2, )?-1, -1\]/);
    }
  });

  it('refuses negative, fractional and non-number dimensions other than a single -1', () => {
    for (const s of [[-2, 6], [-2, -6], [6, -2], [1.5, 8], [NaN, 12], [Infinity, 0], ['3', 4] as unknown as number[]]) {
      const e = errorOf(() => tensor(data, s));
      expect(e.code).toBe('E_SHAPE');
      expect(e.message).toContain('dimension');
    }
    expect(errorOf(() => tensor(data, 12 as unknown as number[])).code).toBe('E_SHAPE');
    expect(tensor(data, [2, -1]).shape).toEqual([2, 6]);
    expect(tensor(data, [-1]).shape).toEqual([12]);
    expect(tensor(new Float32Array(0), [0, 5]).shape).toEqual([0, 5]);
  });

  it('new Tensor checks the dimensions and the data length against the shape', () => {
    const short = errorOf(() => new Tensor(new Float32Array(5), [2, 3]));
    expect(short.code).toBe('E_SHAPE');
    expect(short.message).toBe('Tensor: shape [2, 3] holds 6 values but data has 5');
    expect(errorOf(() => new Tensor(new Float32Array(7), [2, 3])).message).toMatch(/holds 6 values but data has 7/);
    const neg = errorOf(() => new Tensor(new Float32Array(6), [-2, -3]));
    expect(neg.code).toBe('E_SHAPE');
    expect(neg.message).toMatch(/dimension -2/);
    expect(errorOf(() => new Tensor(new Float32Array(6), [-1, 6])).code).toBe('E_SHAPE'); // no inference in the constructor
    expect(new Tensor(new Float32Array(6), Object.freeze([2, 3])).shape).toEqual([2, 3]);
    expect(new Tensor(new Float32Array(1), []).shape).toEqual([]);
  });

  it('tensor() names the shape and the length when they disagree', () => {
    const e = errorOf(() => tensor([1, 2, 3, 4, 5], [2, 3]));
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toMatch(/\[2, 3\].*6.*5/);
  });
});
