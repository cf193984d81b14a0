/**
 * Test harness for kernels: one runtime per variant, helpers to put arrays in the arena and read them back,
 * and the tolerance check used by every float comparison.
 */
import { BACKENDS, instantiate, type Backend, type Runtime } from '../../src/runtime/runtime.js';
import { splitLimits } from '../../src/runtime/parallel.js';

/**
 * Threads of the kernel runtimes: 1, or WASMZOO_TEST_THREADS (vitest.config.ts runs test/kernels a second
 * time with 3). With threads every call is split however small (odd parts, tile edges inside parts).
 */
export const THREADS = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.WASMZOO_TEST_THREADS ?? 1);
if (THREADS > 1) {
  splitLimits.flops = 0;
  splitLimits.elements = 0;
  splitLimits.stepFlops = 0;
  splitLimits.windows = 0;
}

const cache = new Map<Backend, Promise<Runtime>>();
/** A fresh runtime per variant (cached per test file), on THREADS threads. */
export function variant(b: Backend): Promise<Runtime> {
  let p = cache.get(b);
  if (!p) {
    p = instantiate({ backend: b, threads: THREADS }).then((rt) => {
      if (rt.threads !== THREADS) throw new Error(`kernel runtime runs ${rt.threads} threads, wanted ${THREADS}: ${rt.threadsNote}`);
      return rt;
    });
    cache.set(b, p);
  }
  return p;
}
export { BACKENDS };

/** Allocates arena blocks for a test and frees them all at the end. */
export class Scope {
  private ptrs: number[] = [];
  constructor(readonly rt: Runtime) {}
  /** Allocate and fill with data (or zeros of length n). Returns the byte pointer. */
  put(data: ArrayLike<number> | number): number {
    const n = typeof data === 'number' ? data : data.length;
    const p = this.rt.arena.alloc(Math.max(4, n * 4));
    this.ptrs.push(p);
    if (typeof data === 'number') this.rt.arena.f32.fill(0, p >>> 2, (p >>> 2) + n);
    else this.rt.arena.write(p, data);
    return p;
  }
  /** Fill a new block with a sentinel so writes outside the intended range are visible. */
  poisoned(n: number, value = 12345.5): number {
    const p = this.put(n);
    this.rt.arena.f32.fill(value, p >>> 2, (p >>> 2) + n);
    return p;
  }
  get(p: number, n: number): Float32Array {
    return this.rt.arena.read(p, n);
  }
  free(): void {
    for (const p of this.ptrs) this.rt.arena.release(p);
    this.ptrs = [];
  }
}

/**
 * |actual - expected| <= atol + rtol*|expected| for every element; on failure, the message names the
 * first bad index and the worst error. Returns the max abs error for reporting.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what = ''): number {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  let worst = 0;
  let firstBad = -1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= atol + rtol * Math.abs(expected[i]))) { if (firstBad < 0) firstBad = i; }
    if (d > worst || Number.isNaN(d)) worst = Number.isNaN(d) ? Infinity : d;
  }
  if (firstBad >= 0) {
    throw new Error(`${what}: mismatch at ${firstBad}: got ${actual[firstBad]}, expected ${expected[firstBad]} (atol ${atol}, rtol ${rtol}, worst abs err ${worst})`);
  }
  return worst;
}

/**
 * The channel slice [outOff, outOff + OC) of P pixels written with pixel stride outPs, as a dense [P, OC] array;
 * throws (naming `what`) if anything outside the slice no longer holds the poison value.
 */
export function outputSlice(out: Float32Array, P: number, OC: number, outPs: number, outOff: number, poison: number, what: string): Float32Array {
  const got = new Float32Array(P * OC);
  for (let p = 0; p < P; p++) for (let o = 0; o < OC; o++) got[p * OC + o] = out[p * outPs + outOff + o];
  for (let i = 0; i < out.length; i++) {
    const p = Math.floor(i / outPs), ch = (i % outPs) - outOff;
    if (p < P && ch >= 0 && ch < OC) continue;
    if (out[i] !== poison) throw new Error(`${what}: wrote outside the output slice at pixel ${p} channel ${ch + outOff}: ${out[i]}`);
  }
  return got;
}
