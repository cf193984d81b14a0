// Concurrent init() calls (issue 15, item 12): requests are served one at a time in call order, and the later
// request wins: backend() ends as the last call asked, each call resolves to the runtime it was served, and a
// plain init() queued behind a forced one gets that one. A failed request changes nothing and blocks nothing.
import { beforeEach, describe, expect, it, vi } from 'vitest';

type RuntimeModule = typeof import('../../src/runtime/runtime.js');
let rt: RuntimeModule;

beforeEach(async () => {
  vi.resetModules(); // a fresh module: no runtime yet
  rt = await import('../../src/runtime/runtime.js');
});

describe('init: serialised, the later request wins', () => {
  it('Promise.all([init(), init({ backend: "scalar" })]) ends on scalar, never a silent mix', async () => {
    const [a, b] = await Promise.all([rt.init(), rt.init({ backend: 'scalar' })]);
    expect(a.backend).not.toBe('scalar');
    expect(b.backend).toBe('scalar');
    expect(rt.backend()).toBe('scalar');
    expect(rt.runtime()).toBe(b);
  });

  it('the reverse order ends on the forced request too when a plain init() comes after it', async () => {
    const [a, b] = await Promise.all([rt.init({ backend: 'scalar' }), rt.init()]);
    expect(a.backend).toBe('scalar');
    expect(b).toBe(a); // a plain init() joins whatever is current once the requests before it are done
    expect(rt.backend()).toBe('scalar');
  });

  it('several forced requests: each resolves to its own variant, the last one is current', async () => {
    const got = await Promise.all([rt.init({ backend: 'scalar' }), rt.init({ backend: 'simd' }), rt.init({ backend: 'scalar' }), rt.init()]);
    expect(got.map((r) => r.backend)).toEqual(['scalar', 'simd', 'scalar', 'scalar']);
    expect(rt.backend()).toBe('scalar');
    expect(rt.runtime()).toBe(got[2]);
  });

  it('a refused request leaves the current runtime and does not block the next one', async () => {
    const first = await rt.init({ backend: 'simd' });
    const results = await Promise.allSettled([rt.init({ backend: 'gpu' as never }), rt.init()]);
    expect(results[0].status).toBe('rejected');
    const err = (results[0] as PromiseRejectedResult).reason;
    expect(err.code).toBe('E_ARGUMENT');
    expect(err.message).toMatch(/backend must be one of 'relaxed', 'simd', 'scalar', got "gpu"/);
    expect((results[1] as PromiseFulfilledResult<unknown>).value).toBe(first);
    expect(rt.backend()).toBe('simd');
  });
});

// init() skips a variant whose 40-byte probe module the engine does not validate (src/runtime/runtime.ts);
// each probe must say what compiling the real variant says, here (relaxed SIMD on) and in a plain Node 20
// (relaxed SIMD off, SIMD on).
describe('the SIMD and relaxed-SIMD probes agree with the variants they stand for', () => {
  const wasm = (b: string) => new URL(`../../dist/wasm/wasmzoo.${b}.wasm`, import.meta.url);

  it('in this engine', async () => {
    const { readFileSync } = await import('node:fs');
    for (const b of ['simd', 'relaxed'] as const) {
      expect(rt.engineLacks(b), b).toBe(!WebAssembly.validate(readFileSync(wasm(b))));
    }
    expect(rt.engineLacks('scalar')).toBe(false);
  });

  it('in a Node without --experimental-wasm-relaxed-simd', async () => {
    const { execFileSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = `const fs = require('node:fs'); const [p, s, r] = JSON.parse(process.argv[1]);
      const v = (b) => WebAssembly.validate(new Uint8Array(b));
      console.log(JSON.stringify({ simd: [v(p.simd), v(fs.readFileSync(s))], relaxed: [v(p.relaxed), v(fs.readFileSync(r))] }));`;
    const probes = { simd: Array.from(rt.probeModule('simd')!), relaxed: Array.from(rt.probeModule('relaxed')!) };
    const out = execFileSync(process.execPath, ['-e', script, JSON.stringify([probes, fileURLToPath(wasm('simd')), fileURLToPath(wasm('relaxed'))])], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ simd: [true, true], relaxed: [false, false] });
  });
});
