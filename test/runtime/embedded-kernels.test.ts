/**
 * The kernel container's delta codec (tools/wasm-delta.mjs encodes, src/runtime/embedded-kernels.ts
 * decodes): round trips on made-up data, and corrupt deltas fail with a WasmzooError, never an out-of-bounds
 * read or a loop. That the real container rebuilds every build byte for byte is in runtime.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { encodeDelta, kernelContainer } from '../../tools/wasm-delta.mjs';
import { applyDelta, variantFromContainer } from '../../src/runtime/embedded-kernels.js';
import { WasmzooError } from '../../src/errors.js';

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** `ref` with runs moved, dropped, duplicated and edited: what a sibling build looks like. */
function sibling(ref: Uint8Array, seed: number): Uint8Array {
  const r = random(64, seed);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) {
    const a = (r[i] * 977 + r[i + 16] * 13) % ref.length;
    parts.push(ref.subarray(a, Math.min(ref.length, a + 20 + r[i + 32] * 3)), random(r[i + 48] % 12, seed + i));
  }
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

describe('kernel container delta', () => {
  it.each([1, 2, 3, 4])('round trip, seed %i', (seed) => {
    const ref = random(5000, seed);
    for (const target of [sibling(ref, seed), random(300, seed + 9), new Uint8Array(0), ref]) {
      const d = new Uint8Array(encodeDelta(Buffer.from(ref), Buffer.from(target)));
      expect(Array.from(applyDelta(ref, d))).toEqual(Array.from(target));
    }
  });

  it('copies make a sibling small', () => {
    const ref = random(20000, 7), target = sibling(ref, 7);
    expect(encodeDelta(Buffer.from(ref), Buffer.from(target)).length).toBeLessThan(target.length / 3);
  });

  it('the container gives back each part', () => {
    const simd = random(3000, 1), relaxed = sibling(simd, 2), scalar = sibling(simd, 3);
    const c = new Uint8Array(kernelContainer(Buffer.from(simd), Buffer.from(relaxed), Buffer.from(scalar)));
    expect(Array.from(variantFromContainer(c, 'simd'))).toEqual(Array.from(simd));
    expect(Array.from(variantFromContainer(c, 'relaxed'))).toEqual(Array.from(relaxed));
    expect(Array.from(variantFromContainer(c, 'scalar'))).toEqual(Array.from(scalar));
    expect(() => variantFromContainer(c.subarray(0, c.length - 1), 'scalar')).toThrow(WasmzooError);
  });

  it('every truncation and every flipped byte of a delta either decodes or throws a WasmzooError', () => {
    const ref = random(4000, 5);
    const d = new Uint8Array(encodeDelta(Buffer.from(ref), Buffer.from(sibling(ref, 5))));
    const tryDecode = (x: Uint8Array) => {
      try {
        applyDelta(ref, x);
      } catch (e) {
        expect(e).toBeInstanceOf(WasmzooError);
        expect((e as Error).message).toMatch(/embedded kernels are corrupt/);
      }
    };
    for (let n = 0; n < d.length; n++) tryDecode(d.subarray(0, n));
    for (let i = 0; i < d.length; i++) {
      for (const v of [0, 0xff, d[i] ^ 0x80]) {
        const x = d.slice();
        x[i] = v;
        tryDecode(x);
      }
    }
  });
});
