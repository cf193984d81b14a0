/**
 * conv2d_winograd (assembly/conv2d.ts, Winograd F(2x2, 3x3)) against the f64 oracle (test/ref/conv2d.ts), for
 * every variant: odd and even output sizes (partial 2x2 tiles), padding 0/1/2 and asymmetric, several tile
 * blocks (the last one partial), channel counts with and without a 4-channel tail, bias, activations,
 * accumulate, a pixel stride and channel offset in the output (everything outside the slice untouched).
 * Tolerance as conv2d.test.ts (atol 4e-6 * K, K = 9 C): the transforms add at most 4 terms per stage.
 */
import { describe, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant, outputSlice } from './harness.js';
import { randomArray } from '../ref/rng.js';
import { conv2dRef, convOutSize, type ConvShape } from '../ref/conv2d.js';
import type { Runtime } from '../../src/runtime/runtime.js';

const POISON = -777.25;

interface Case { N?: number; H: number; W: number; C: number; OC: number; PH?: number; PW?: number;
  bias?: boolean; act?: number; accumulate?: boolean; outPad?: number; outOff?: number }

function runCase(rt: Runtime, c: Case, seed: number): void {
  const s: ConvShape = { N: c.N ?? 1, H: c.H, W: c.W, C: c.C, OC: c.OC, KH: 3, KW: 3, SH: 1, SW: 1,
    PH: c.PH ?? 1, PW: c.PW ?? 1, DH: 1, DW: 1, groups: 1 };
  const { OH, OW } = convOutSize(s);
  const k = rt.k;
  const sc = new Scope(rt);
  try {
    const inp = randomArray(s.N * s.H * s.W * s.C, seed);
    const w = randomArray(s.OC * s.C * 9, seed + 1);
    const bias = c.bias ? randomArray(s.OC, seed + 2) : undefined;
    const outOff = c.outOff ?? 0;
    const out_ps = s.OC + (c.outPad ?? 0);
    const P = s.N * OH * OW;
    const outLen = P * out_ps + 8;
    const prev = randomArray(outLen, seed + 3);
    const outInit = new Float32Array(outLen).fill(POISON);
    if (c.accumulate) for (let p = 0; p < P; p++) for (let o = 0; o < s.OC; o++) outInit[p * out_ps + outOff + o] = prev[p * out_ps + outOff + o];
    const pin = sc.put(inp);
    const pwRaw = sc.put(w);
    const pbias = bias ? sc.put(bias) : 0;
    const pw = sc.poisoned(k.conv2d_winograd_packed_size(s.OC, s.C));
    k.conv2d_winograd_pack(pw, pwRaw, s.OC, s.C);
    const sbytes = k.conv2d_winograd_scratch_size(s.N, OH, OW, s.C, s.OC);
    const scratch = sc.poisoned(Math.ceil(sbytes / 4));
    const pout = sc.put(outInit);
    const flags = ((c.act ?? 0) << 1) | (c.accumulate ? 1 : 0);
    k.conv2d_winograd(pout + 4 * outOff, pin, pw, pbias, s.N, s.H, s.W, s.C, OH, OW, s.OC, s.PH, s.PW, out_ps, flags, scratch, 0);
    const out = sc.get(pout, outLen);
    const ref = conv2dRef(s, inp, w, bias, 0);
    const expect = new Float64Array(P * s.OC);
    for (let p = 0; p < P; p++) for (let o = 0; o < s.OC; o++) {
      let v = ref[p * s.OC + o];
      if (c.accumulate) v += prev[p * out_ps + outOff + o];
      const act = c.act ?? 0;
      expect[p * s.OC + o] = act === 1 ? Math.max(v, 0) : act === 2 ? Math.tanh(v) : act === 3 ? 1 / (1 + Math.exp(-v)) : v;
    }
    const what = `${rt.backend} winograd ${JSON.stringify(c)} seed ${seed}`;
    const got = outputSlice(out, P, s.OC, out_ps, outOff, POISON, what);
    expectClose(got, expect, 4e-6 * 9 * s.C + ((c.act ?? 0) >= 2 ? 1e-4 : 0), 1e-5, what);
  } finally {
    sc.free();
  }
}

const SEEDS = [21, 22];

describe.each(BACKENDS)('conv2d_winograd [%s]', (backend) => {
  it('tile edges: odd/even outputs, padding 0, 1, 2 and asymmetric, channel tails', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { H: 8, W: 8, C: 8, OC: 8 }, seed);
      runCase(rt, { H: 7, W: 9, C: 5, OC: 9, bias: true }, seed);
      runCase(rt, { H: 5, W: 6, C: 3, OC: 4, PH: 0, PW: 0 }, seed);
      runCase(rt, { H: 6, W: 5, C: 4, OC: 17, PH: 2, PW: 2, act: 1 }, seed);
      runCase(rt, { H: 9, W: 4, C: 7, OC: 6, PH: 0, PW: 1, bias: true }, seed);
      runCase(rt, { H: 3, W: 3, C: 2, OC: 3 }, seed);
      runCase(rt, { H: 1, W: 2, C: 1, OC: 1, bias: true }, seed);
      runCase(rt, { H: 4, W: 4, C: 6, OC: 5, PH: 3, PW: 3 }, seed); // windows entirely in the padding
    }
  });
  it('several tile blocks, batch 2, big K, accumulate, activations, output slice', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { N: 2, H: 33, W: 31, C: 12, OC: 24, bias: true, act: 1 }, seed); // 2 x 17 x 16 tiles: several blocks
      runCase(rt, { H: 14, W: 14, C: 300, OC: 20, bias: true }, seed); // K blocks of the GEMM, row stride padding
      runCase(rt, { H: 10, W: 11, C: 9, OC: 13, accumulate: true, act: 1, bias: true, outPad: 5, outOff: 3 }, seed);
      runCase(rt, { H: 6, W: 7, C: 4, OC: 8, act: 2 }, seed);
      runCase(rt, { H: 6, W: 7, C: 4, OC: 8, act: 3, accumulate: true }, seed);
    }
  });
});
