// loadStateDict / readWeights with hostile or careless weights (issue 15, item 9): every problem in one error
// (unusable dtypes and data together with missing and unexpected keys), the object path checked like the bytes
// path (BigInt64Array converted, strings and other non-numbers refused), and the model unchanged on failure.
import { describe, expect, it } from 'vitest';
import { WasmzooError } from '../../src/errors.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { readWeights } from '../../src/io/weights.js';
import { BatchNorm1d } from '../../src/nn/layers/norm.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { Sequential } from '../../src/nn/layers/container.js';
import type { Module } from '../../src/nn/module.js';

const model = () => new Sequential(new Linear(3, 2), new Linear(2, 1));
const snapshot = (m: Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.data]]));
const good = () => ({
  '0.weight': { data: Float32Array.of(1, 2, 3, 4, 5, 6), shape: [2, 3] },
  '0.bias': { data: Float32Array.of(7, 8), shape: [2] },
  '1.weight': { data: Float32Array.of(9, 10), shape: [1, 2] },
  '1.bias': { data: Float32Array.of(11), shape: [1] },
});

/** The error of a load that must fail, after checking the model did not change. */
function failedLoad(m: Module, weights: Parameters<Module['loadStateDict']>[0], strict = true): WasmzooError {
  const before = snapshot(m);
  let err: unknown;
  try {
    m.loadStateDict(weights, { strict });
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a WasmzooError').toBeInstanceOf(WasmzooError);
  expect(snapshot(m)).toEqual(before);
  return err as WasmzooError;
}

describe('loadStateDict reports every problem at once', () => {
  it('a BOOL tensor together with missing and unexpected keys (bytes path)', () => {
    const bytes = writeSafetensors({
      '0.weight': { dtype: 'BOOL', shape: [2, 3], data: new Uint8Array(6) },
      '0.bias': { shape: [2], data: new Float32Array(2) },
      '1.weight': { shape: [1, 2], data: new Float32Array(2) },
      extra: { shape: [1], data: new Float32Array(1) },
    });
    const e = failedLoad(model(), bytes);
    expect(e.code).toBe('E_STATE_DICT');
    expect(e.message).toMatch(/0\.weight: dtype BOOL cannot feed a float parameter/);
    expect(e.message).toMatch(/missing keys: 1\.bias/);
    expect(e.message).toMatch(/unexpected keys: extra/);
  });

  it('a BOOL tensor alone is E_DTYPE naming the key; an unexpected BOOL buffer is skipped when not strict', () => {
    const sd = { ...good(), '0.weight': { dtype: 'BOOL' as const, shape: [2, 3], data: new Uint8Array(6) } };
    const bytes = writeSafetensors(sd);
    const e = failedLoad(model(), bytes);
    expect(e.code).toBe('E_DTYPE');
    expect(e.message).toMatch(/0\.weight: dtype BOOL/);
    const m = model().loadStateDict(writeSafetensors({ ...good(), mask: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(0, 1) } }), { strict: false });
    expect(snapshot(m)['1.bias']).toEqual([11]);
  });

  it('data of the wrong length together with a missing key, and the lengths named', () => {
    const sd: Record<string, unknown> = { ...good(), '0.bias': { data: Float32Array.of(1, 2, 3), shape: [2] } };
    delete sd['1.bias'];
    const e = failedLoad(model(), sd as never);
    expect(e.code).toBe('E_STATE_DICT');
    expect(e.message).toMatch(/0\.bias: shape \[2\] holds 2 values but data has 3/);
    expect(e.message).toMatch(/missing keys: 1\.bias/);
  });
});

describe('loadStateDict object path: data checked like the bytes path', () => {
  it('BigInt64Array data is converted (num_batches_tracked from a PyTorch state dict), not a TypeError', () => {
    const bn = new BatchNorm1d(2);
    const sd = Object.fromEntries(Object.entries(bn.stateDict()).map(([k, t]) => [k, { data: t.data, shape: [...t.shape] }])) as Record<string, { data: ArrayLike<number> | BigInt64Array; shape: number[] }>;
    sd.num_batches_tracked = { data: BigInt64Array.of(123n), shape: [] };
    sd.running_mean = { data: BigInt64Array.of(2n, -(2n ** 40n) - 1n), shape: [2] };
    bn.loadStateDict(sd as never);
    expect(snapshot(bn).num_batches_tracked).toEqual([123]);
    expect(snapshot(bn).running_mean).toEqual([2, -(2 ** 40)]); // rounded to float32 once, as from I64 bytes
    const m = model().loadStateDict({ ...good(), '1.bias': { data: BigUint64Array.of(5n), shape: [1] } } as never);
    expect(snapshot(m)['1.bias']).toEqual([5]);
  });

  it('an array of strings is refused with the key and element named (no silent NaN weights), model unchanged', () => {
    const sd = { ...good(), '0.weight': { data: ['1', '2', '3', 'x', '5', '6'], shape: [2, 3] } };
    const e = failedLoad(model(), sd as never);
    expect(e.code).toBe('E_DTYPE');
    expect(e.message).toMatch(/0\.weight: data\[0\] is a string \("1"\), expected numbers/);
  });

  it('refuses other non-numeric data: a string, booleans, objects, a DataView; plain number arrays and typed arrays load', () => {
    const m = model();
    for (const data of ['abcdef', [true, false, true, false, true, false], [1, 2, 3, 4, 5, {}], new DataView(new ArrayBuffer(24)), 42, null]) {
      const e = failedLoad(m, { ...good(), '0.weight': { data, shape: [2, 3] } } as never);
      expect(e.code).toBe('E_DTYPE');
      expect(e.message).toMatch(/0\.weight: data/);
    }
    m.loadStateDict({ ...good(), '0.weight': { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] }, '0.bias': { data: Int8Array.of(-1, 2), shape: [2] } });
    expect(snapshot(m)['0.bias']).toEqual([-1, 2]);
  });

  it('refuses entries that are not tensors and shapes that are not shapes, with the other problems', () => {
    const sd: Record<string, unknown> = { ...good(), '0.bias': 5, '1.weight': { data: Float32Array.of(1, 2), shape: [-1, -2] }, extra: 1 };
    const e = failedLoad(model(), sd as never);
    expect(e.code).toBe('E_STATE_DICT');
    expect(e.message).toMatch(/0\.bias: must be a Tensor or \{ data, shape \}/);
    expect(e.message).toMatch(/1\.weight: bad dimension -1/);
    expect(e.message).toMatch(/unexpected keys: extra/);
  });

  it('readWeights entries carry the problem and refuse to convert', () => {
    const w = readWeights({ a: { data: ['x'], shape: [1] }, b: { data: [1], shape: [1] } } as never);
    expect(w.get('a')!.problem).toMatchObject({ code: 'E_DTYPE' });
    expect(w.get('b')!.problem).toBeUndefined();
    expect(() => w.get('a')!.toFloat32()).toThrow(/weights\["a"\]: data\[0\] is a string/);
    expect([...w.get('b')!.toFloat32()]).toEqual([1]);
  });
});
