import { describe, expect, it } from 'vitest';
import { instantiate, BACKENDS } from '../../src/runtime/runtime.js';
import { Arena } from '../../src/runtime/arena.js';

describe('runtime', () => {
  it.each(BACKENDS)('instantiates the %s variant and labels it', async (b) => {
    const rt = await instantiate({ backend: b });
    expect(rt.backend).toBe(b);
    expect(rt.k.heap_base()).toBeGreaterThan(0);
    expect(rt.k.heap_base() % 64).toBe(0);
  });

  it('picks relaxed SIMD first when the engine has it (Node runs with the flag here)', async () => {
    const rt = await instantiate();
    expect(rt.backend).toBe('relaxed');
  });

  it('accepts a precompiled WebAssembly.Module and labels it from its own export', async () => {
    const { readFileSync } = await import('node:fs');
    const mod = new WebAssembly.Module(readFileSync('build/wasmzoo.scalar.wasm'));
    const rt = await instantiate({ module: mod });
    expect(rt.backend).toBe('scalar');
    await expect(instantiate({ module: mod, backend: 'simd' })).rejects.toThrow(/'simd' requested but the given module is the 'scalar'/);
  });
});

describe('arena', () => {
  const mem = () => new WebAssembly.Memory({ initial: 1 });

  it('aligns to 64 bytes, grows memory, and reuses freed blocks', () => {
    const a = new Arena(mem(), 100);
    const p1 = a.alloc(10);
    const p2 = a.alloc(100_000);
    expect(p1 % 64).toBe(0);
    expect(p2 % 64).toBe(0);
    expect(p2).toBeGreaterThanOrEqual(p1 + 64);
    expect(a.memory.buffer.byteLength).toBeGreaterThanOrEqual(p2 + 100_000);
    a.release(p1);
    expect(a.alloc(64)).toBe(p1);
  });

  it('coalesces neighbours and keeps the high-water mark flat under alloc/free cycles', () => {
    const a = new Arena(mem(), 0);
    const hw0 = a.highWater;
    for (let i = 0; i < 100; i++) {
      const x = a.alloc(1000), y = a.alloc(5000), z = a.alloc(300);
      a.release(y); a.release(x); a.release(z);
    }
    expect(a.used).toBe(0);
    expect(a.highWater - hw0).toBeLessThanOrEqual(1024 + 5056 + 320);
  });

  it('refuses double free', () => {
    const a = new Arena(mem(), 0);
    const p = a.alloc(8);
    a.release(p);
    expect(() => a.release(p)).toThrow(/unknown block/);
  });

  it('re-makes views after growth', () => {
    const a = new Arena(mem(), 0);
    const p = a.alloc(16);
    a.write(p, [1, 2, 3]);
    a.alloc(1 << 20);
    expect(Array.from(a.read(p, 3))).toEqual([1, 2, 3]);
  });
});

describe('memoryStats', () => {
  it('reports the current runtime', async () => {
    const { init, memoryStats } = await import('../../src/runtime/runtime.js');
    await init();
    const s = memoryStats()!;
    expect(s.memoryBytes).toBeGreaterThanOrEqual(s.arenaHighWater);
    expect(s.arenaUsed).toBeGreaterThanOrEqual(0);
  });
});

describe('embedded kernels', () => {
  it('each variant rebuilt from the container (SIMD + deltas) equals its build byte for byte', async () => {
    const { readFileSync } = await import('node:fs');
    const { variantBytes } = await import('../../src/runtime/runtime.js');
    for (const v of ['scalar', 'simd', 'relaxed'] as const) {
      expect(Buffer.from(await variantBytes(v)).equals(readFileSync(`build/wasmzoo.${v}.wasm`)), v).toBe(true);
    }
  });
});
