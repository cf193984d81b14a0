/**
 * The activation approximations of assembly/activation.ts, tested directly: the helpers are @inline and
 * not exported by the kernel module, so this test compiles a small probe module that wraps them (vector
 * and scalar twin) for each variant's feature set, then sweeps 1e6+ points per function against f64
 * Math.exp / Math.tanh. The bounds asserted are the ones stated in activation.ts's header.
 */
import asc from 'assemblyscript/asc';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './harness.js';

const PROBE = `
import { exp_f32x4, exp_f32, sigmoid_f32x4, sigmoid_f32, tanh_f32x4, tanh_f32, act_f32x4, act_f32, set_act_alpha } from './activation';
export function alpha(a: f32): void { set_act_alpha(a); }
// fn: 0 exp, 1 sigmoid, 2 tanh, 10+a: act code a. n must be a multiple of 4.
export function vec(out: usize, inp: usize, n: i32, fn: i32): void {
  if (ASC_FEATURE_SIMD) {
    for (let i = 0; i < n; i += 4) {
      const x = v128.load(inp + (<usize>i << 2));
      let y: v128;
      if (fn == 0) y = exp_f32x4(x);
      else if (fn == 1) y = sigmoid_f32x4(x);
      else if (fn == 2) y = tanh_f32x4(x);
      else y = act_f32x4(x, fn - 10);
      v128.store(out + (<usize>i << 2), y);
    }
  } else {
    sca(out, inp, n, fn);
  }
}
export function sca(out: usize, inp: usize, n: i32, fn: i32): void {
  for (let i = 0; i < n; i++) {
    const x = load<f32>(inp + (<usize>i << 2));
    let y: f32;
    if (fn == 0) y = exp_f32(x);
    else if (fn == 1) y = sigmoid_f32(x);
    else if (fn == 2) y = tanh_f32(x);
    else y = act_f32(x, fn - 10);
    store<f32>(out + (<usize>i << 2), y);
  }
}
`;
const FEATURES: Record<string, string[]> = { scalar: [], simd: ['--enable', 'simd'], relaxed: ['--enable', 'simd,relaxed-simd'] };

interface Probe { run(fn: number, x: Float32Array, vector: boolean, alpha?: number): Float32Array }

async function probe(variant: string): Promise<Probe> {
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main([
    'assembly/__activation_probe__.ts', '--config', 'asconfig.json', '--target', 'release', '--outFile', 'probe.wasm',
    ...FEATURES[variant],
  ], {
    readFile: (f: string, base: string) => {
      if (f.endsWith('__activation_probe__.ts')) return PROBE;
      try { return readFileSync(`${base}/${f}`, 'utf8'); } catch { return null; }
    },
    writeFile: (f: string, contents: Uint8Array | string) => { if (f.endsWith('.wasm')) binary = contents as Uint8Array; },
  });
  if (error || !binary) throw new Error(`probe compile failed (${variant}): ${error?.message}\n${stderr.toString()}`);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), {});
  const ex = instance.exports as any;
  const mem = ex.memory as WebAssembly.Memory;
  return {
    run(fn, x, vector, alpha = 0) {
      ex.alpha(alpha);
      const n = x.length;
      const need = 65536 + 8 * n + 64;
      if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
      const inp = 65536, out = 65536 + 4 * n;
      new Float32Array(mem.buffer, inp, n).set(x);
      (vector ? ex.vec : ex.sca)(out, inp, n, fn);
      return new Float32Array(mem.buffer, out, n).slice();
    },
  };
}

function linspace(lo: number, hi: number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + ((hi - lo) * i) / (n - 1);
  return x;
}

/** Max abs and max relative error of y against f(x) in f64, over the points where keep(x). */
function errors(x: Float32Array, y: Float32Array, f: (x: number) => number, keepRel: (x: number, r: number) => boolean = () => true) {
  let abs = 0, rel = 0, at = 0;
  for (let i = 0; i < x.length; i++) {
    const r = f(x[i]);
    const d = Math.abs(y[i] - r);
    if (!(d <= abs)) { abs = d; }
    if (r !== 0 && keepRel(x[i], r)) { const q = d / Math.abs(r); if (!(q <= rel)) { rel = q; at = x[i]; } }
  }
  // WASMZOO_REPORT=1 prints the measured errors (the bracketed values in activation.ts's header)
  if (process.env.WASMZOO_REPORT) console.log(`[${x[0]}, ${x[x.length - 1]}] max abs ${abs.toExponential(2)} max rel ${rel.toExponential(2)} at ${at}`);
  return { abs, rel, at };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const N = 1_000_000;

describe.each(BACKENDS)('activation approximations, %s', (b) => {
  let p: Probe;
  it('compiles the probe', async () => { p = await probe(b); }, 120_000);

  for (const vector of [true, false]) {
    const kind = vector ? 'f32x4' : 'scalar twin';
    it(`exp (${kind}): rel <= 2e-7 on [-87.33, 88.37], saturation, NaN`, () => {
      const x = linspace(-87.33, 88.37, N);
      const e = errors(x, p.run(0, x, vector), Math.exp);
      expect(e.rel, `worst at ${e.at}`).toBeLessThanOrEqual(2e-7);
      const s = p.run(0, Float32Array.from([-87.34, -88, -1e30, -Infinity, 88.38, 1e30, Infinity, NaN]), vector);
      expect(Array.from(s.slice(0, 4))).toEqual([0, 0, 0, 0]);
      for (const v of s.slice(4, 7)) { expect(v).toBeGreaterThan(2.4e38); expect(Number.isFinite(v)).toBe(true); }
      expect(Number.isNaN(s[7])).toBe(true);
    });

    it(`sigmoid (${kind}): abs <= 1.5e-7 everywhere, rel <= 3e-7 for x >= -87`, () => {
      for (const [lo, hi] of [[-100, 100], [-10, 10]]) {
        const x = linspace(lo, hi, N);
        const e = errors(x, p.run(1, x, vector), sigmoid, (v) => v >= -87);
        expect(e.abs).toBeLessThanOrEqual(1.5e-7);
        expect(e.rel, `worst at ${e.at}`).toBeLessThanOrEqual(3e-7);
      }
      const s = p.run(1, Float32Array.from([-Infinity, -1e30, 1e30, Infinity, NaN, 0, -0, 1e-30]), vector);
      expect(s[0]).toBeGreaterThanOrEqual(0); expect(s[0]).toBeLessThan(1e-38);
      expect(s[1]).toBeGreaterThanOrEqual(0); expect(s[1]).toBeLessThan(1e-38);
      expect(s[2]).toBe(1); expect(s[3]).toBe(1);
      expect(Number.isNaN(s[4])).toBe(true);
      expect(s[5]).toBe(0.5); expect(s[6]).toBe(0.5); expect(s[7]).toBe(0.5);
    });

    it(`tanh (${kind}): abs <= 1.5e-7, rel <= 3e-7 everywhere, odd, saturating`, () => {
      for (const [lo, hi] of [[-20, 20], [-1, 1], [-1e-3, 1e-3]]) {
        const x = linspace(lo, hi, N);
        const e = errors(x, p.run(2, x, vector), Math.tanh);
        expect(e.abs).toBeLessThanOrEqual(1.5e-7);
        expect(e.rel, `worst at ${e.at}`).toBeLessThanOrEqual(3e-7);
      }
      const s = p.run(2, Float32Array.from([-Infinity, -1e30, 1e30, Infinity, NaN, -0, 1e-30, -1e-40]), vector);
      expect(Array.from(s.slice(0, 4))).toEqual([-1, -1, 1, 1]);
      expect(Number.isNaN(s[4])).toBe(true);
      expect(Object.is(s[5], -0)).toBe(true);
      expect(s[6]).toBe(Math.fround(1e-30)); expect(s[7]).toBe(Math.fround(-1e-40));
    });

    it(`act dispatch (${kind}): codes 0..3 route to identity, relu (exact, NaN kept), tanh, sigmoid; relu and relu_cap as torch at -0, NaN, inf`, () => {
      const x = linspace(-9, 9, 4096);
      x[5] = NaN;
      const id = p.run(10, x, vector), relu = p.run(11, x, vector);
      for (let i = 0; i < x.length; i++) {
        expect(Object.is(id[i], x[i]) || (Number.isNaN(id[i]) && Number.isNaN(x[i]))).toBe(true);
        if (Number.isNaN(x[i])) expect(Number.isNaN(relu[i])).toBe(true);
        else expect(relu[i]).toBe(Math.max(x[i], 0));
      }
      // ReLU and relu_cap (ReLU6) as torch.relu / relu6 / clamp give them (measured with torch 1.13):
      // -0 stays -0, NaN stays NaN, +-Infinity clamp
      const edge = Float32Array.from([-0, NaN, -1, 0, 3, 7, Infinity, -Infinity]);
      const torchRelu = [-0, NaN, 0, 0, 3, 7, Infinity, 0], torchRelu6 = [-0, NaN, 0, 0, 3, 6, 6, 0];
      expect(Array.from(p.run(11, edge, vector)).map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(torchRelu.map((v) => Object.is(v, -0) ? '-0' : String(v)));
      expect(Array.from(p.run(15, edge, vector, 6)).map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(torchRelu6.map((v) => Object.is(v, -0) ? '-0' : String(v)));
      expect(Array.from(p.run(12, x, vector))).toEqual(Array.from(p.run(2, x, vector)));
      expect(Array.from(p.run(13, x, vector))).toEqual(Array.from(p.run(1, x, vector)));
    });
  }

  it('the f32x4 and scalar versions agree to the last bit where no fused multiply-add is used', () => {
    if (b === 'relaxed') return; // relaxed_madd may fuse: within the bounds above, not bitwise equal
    const x = linspace(-30, 30, 200_000);
    for (const fn of [0, 1, 2]) expect(Array.from(p.run(fn, x, true))).toEqual(Array.from(p.run(fn, x, false)));
  });
});
