/**
 * Pure shape math with PyTorch's formulas (no wasm): conv and pooling output sizes, ceil_mode, adaptive
 * windows. Table-tested in test/shape.test.ts against values PyTorch prints.
 */
import { WasmzooError } from './errors.js';

export type Pair = [number, number];

/** PyTorch accepts an int or a pair for kernel_size, stride, padding, dilation. */
export function pair(v: number | readonly number[], what: string): Pair {
  const p: number[] = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new WasmzooError('E_ARGUMENT', `${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as Pair;
}

/** Conv2d output size along one axis: floor((in + 2p - d*(k-1) - 1) / s) + 1. */
export function convOut(input: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((input + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * Pooling output size along one axis, as torch's pooling_output_shape: with ceil_mode the last window
 * may run past the input but must start inside it (or inside the left padding).
 */
export function poolOut(input: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const num = input + 2 * p - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0);
  let out = Math.floor(num / s) + 1;
  if (ceilMode && (out - 1) * s >= input + p) out--;
  return out;
}
