/**
 * conv2d_nhwc (assembly/conv2d.ts) against the f64 oracle (test/ref/conv2d.ts: PyTorch conv2d semantics on
 * NHWC tensors with OIHW weights), for every variant.
 *
 * Paths covered: 1x1 stride-1 pad-0 (plain GEMM on the input), 1x1 strided (GEMM per output row), the
 * general im2col-tile path (several pixel tiles, last one partial; interior pixels with kernel-row runs of
 * < 4, 4..8, 9..12 and more floats, border pixels), grouped convs, and the direct depthwise
 * kernel (groups == C == OC). The output is written into a wider poisoned buffer (pixel stride out_ps > OC,
 * at a channel offset) and everything outside the conv's slice must stay untouched.
 *
 * Tolerance: |d| <= atol + rtol*|ref| with atol = 4e-6 * K, K = KH*KW*C/groups the length of each dot
 * product (same reasoning as gemm.test.ts: inputs in [-1, 1), f32 rounding grows with the sum length,
 * indexing bugs give O(0.1) errors). tanh/sigmoid are polynomial approximations: + ACT_ATOL.
 */
import { describe, it } from 'vitest';
import { BACKENDS, Scope, expectClose, variant, outputSlice } from './harness.js';
import { randomArray } from '../ref/rng.js';
import { conv2dRef, convOutSize, type ConvShape } from '../ref/conv2d.js';
import type { Runtime } from '../../src/runtime/runtime.js';

const POISON = -777.25;
const ACT_ATOL = 1e-4;

interface Case extends Partial<ConvShape> {
  C: number; OC: number; H: number; W: number;
  K?: number; // square kernel shortcut
  bias?: boolean; act?: number; accumulate?: boolean;
  /** extra channels in the output pixel (out_ps = OC + outPad), conv written at channel outOff */
  outPad?: number; outOff?: number;
}

function full(c: Case): ConvShape {
  const k = c.K ?? 3;
  return {
    N: c.N ?? 1, H: c.H, W: c.W, C: c.C, OC: c.OC,
    KH: c.KH ?? k, KW: c.KW ?? k, SH: c.SH ?? 1, SW: c.SW ?? 1, PH: c.PH ?? 0, PW: c.PW ?? 0,
    DH: c.DH ?? 1, DW: c.DW ?? 1, groups: c.groups ?? 1,
  };
}

function runCase(rt: Runtime, c: Case, seed: number): void {
  const s = full(c);
  const { OH, OW } = convOutSize(s);
  const ICg = s.C / s.groups;
  const k = rt.k;
  const sc = new Scope(rt);
  try {
    const inp = randomArray(s.N * s.H * s.W * s.C, seed);
    const w = randomArray(s.OC * ICg * s.KH * s.KW, seed + 1);
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
    const psize = k.conv2d_packed_size(s.OC, ICg, s.KH, s.KW, s.groups);
    const pw = sc.poisoned(psize);
    k.conv2d_pack_weights(pw, pwRaw, s.OC, ICg, s.KH, s.KW, s.groups);
    const sbytes = k.conv2d_scratch_size(s.N, s.H, s.W, s.C, OH, OW, s.OC, s.KH, s.KW, s.SH, s.SW, s.PH, s.PW, s.DH, s.DW, s.groups);
    const scratch = sbytes > 0 ? sc.poisoned(Math.ceil(sbytes / 4)) : 0;
    const pout = sc.put(outInit);
    const flags = ((c.act ?? 0) << 1) | (c.accumulate ? 1 : 0);
    k.conv2d_nhwc(pout + 4 * outOff, pin, pw, pbias, s.N, s.H, s.W, s.C, OH, OW, s.OC, s.KH, s.KW, s.SH, s.SW,
      s.PH, s.PW, s.DH, s.DW, s.groups, out_ps, flags, scratch, 0);
    const out = sc.get(pout, outLen);

    const ref = conv2dRef(s, inp, w, bias, 0);
    // accumulate and activation on top of the plain conv (act after the residual add, as the kernel does)
    const expect = new Float64Array(P * s.OC);
    for (let p = 0; p < P; p++) for (let o = 0; o < s.OC; o++) {
      let v = ref[p * s.OC + o];
      if (c.accumulate) v += prev[p * out_ps + outOff + o];
      const act = c.act ?? 0;
      expect[p * s.OC + o] = act === 1 ? Math.max(v, 0) : act === 2 ? Math.tanh(v) : act === 3 ? 1 / (1 + Math.exp(-v)) : v;
    }
    const K = ICg * s.KH * s.KW;
    const what = `${rt.backend} ${JSON.stringify(c)} seed ${seed}`;
    const got = outputSlice(out, P, s.OC, out_ps, outOff, POISON, what);
    expectClose(got, expect, 4e-6 * K + ((c.act ?? 0) >= 2 ? ACT_ATOL : 0), 1e-5, what);
  } finally {
    sc.free();
  }
}

const SEEDS = [11, 12];

describe.each(BACKENDS)('conv2d_nhwc [%s]', (backend) => {
  it('kernel sizes 1, 3, 5, 7, 11 with padding', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { H: 9, W: 7, C: 5, OC: 9, K: 1 }, seed);
      runCase(rt, { H: 9, W: 7, C: 5, OC: 9, K: 3, PH: 1, PW: 1 }, seed);
      runCase(rt, { H: 9, W: 8, C: 3, OC: 17, K: 5, PH: 2, PW: 2 }, seed);
      runCase(rt, { H: 12, W: 11, C: 3, OC: 8, K: 7, PH: 3, PW: 3 }, seed);
      runCase(rt, { H: 15, W: 14, C: 2, OC: 7, K: 11, PH: 2, PW: 5 }, seed);
      runCase(rt, { H: 6, W: 6, C: 4, OC: 6, KH: 3, KW: 1, PH: 1 }, seed); // non-square kernel
    }
  });
  it('strides 1, 2, 4, asymmetric stride/padding, dilation 2', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { H: 11, W: 10, C: 6, OC: 10, K: 3, SH: 2, SW: 2, PH: 1, PW: 1 }, seed);
      runCase(rt, { H: 17, W: 18, C: 3, OC: 12, K: 11, SH: 4, SW: 4, PH: 2, PW: 2 }, seed); // AlexNet conv1 style
      runCase(rt, { H: 13, W: 9, C: 4, OC: 5, K: 3, SH: 2, SW: 1, PH: 0, PW: 2 }, seed);
      runCase(rt, { H: 12, W: 12, C: 5, OC: 9, K: 3, DH: 2, DW: 2, PH: 2, PW: 2 }, seed);
      runCase(rt, { H: 12, W: 13, C: 3, OC: 4, K: 5, DH: 2, DW: 2, SH: 2, SW: 2, PH: 1, PW: 3 }, seed);
      runCase(rt, { H: 5, W: 5, C: 3, OC: 3, K: 3, PH: 3, PW: 3 }, seed); // padding larger than needed: all-zero windows
      runCase(rt, { H: 9, W: 8, C: 2, OC: 5, K: 3, DH: 2, DW: 1, PH: 2, PW: 1 }, seed); // dilation in H only (contiguous runs)
      runCase(rt, { H: 9, W: 9, C: 1, OC: 4, K: 5, DH: 1, DW: 2, PH: 1, PW: 4 }, seed); // dilation in W only
    }
  });
  it('1x1 fast paths: stride 1 (one GEMM), stride 2 (GEMM per row), grouped, with padding (general path)', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { N: 2, H: 7, W: 5, C: 13, OC: 19, K: 1, bias: true }, seed);
      runCase(rt, { N: 2, H: 9, W: 7, C: 8, OC: 16, K: 1, SH: 2, SW: 2, bias: true, act: 1 }, seed);
      runCase(rt, { H: 6, W: 6, C: 12, OC: 10, K: 1, groups: 2 }, seed);
      runCase(rt, { H: 5, W: 4, C: 4, OC: 6, K: 1, PH: 1, PW: 1 }, seed);
      runCase(rt, { H: 6, W: 6, C: 6, OC: 9, K: 1, SH: 3, SW: 2, groups: 3, outPad: 4, outOff: 2 }, seed);
    }
  });
  it('groups 2, depthwise (multiplier 1 and 2), odd channel counts', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { H: 8, W: 7, C: 6, OC: 10, K: 3, PH: 1, PW: 1, groups: 2, bias: true }, seed);
      runCase(rt, { H: 8, W: 7, C: 16, OC: 16, K: 3, PH: 1, PW: 1, groups: 16, bias: true, act: 1 }, seed);
      runCase(rt, { H: 9, W: 9, C: 13, OC: 13, K: 5, SH: 2, SW: 2, PH: 2, PW: 2, groups: 13 }, seed);
      runCase(rt, { H: 7, W: 7, C: 7, OC: 7, K: 3, DH: 2, DW: 2, PH: 2, PW: 2, groups: 7, outPad: 3, outOff: 1, bias: true }, seed);
      runCase(rt, { H: 6, W: 6, C: 5, OC: 10, K: 3, PH: 1, PW: 1, groups: 5 }, seed); // depthwise multiplier 2
      runCase(rt, { H: 6, W: 5, C: 1, OC: 1, K: 3, PH: 1, PW: 1 }, seed); // 1 -> 1 channel
    }
  });
  it('depthwise: channel passes of 16, 4 and 1, edge columns, clipped rows, strides, dilation', async () => {
    // conv_depthwise finds each pixel's taps inside the input once (edge columns and rows clipped by the
    // padding), then sums 16 channels per pass, then 4, then 1: channel counts 36, 24, 22, 9, 7 hit each mix
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      runCase(rt, { H: 9, W: 13, C: 36, OC: 36, K: 3, PH: 1, PW: 1, groups: 36, bias: true }, seed); // MobileNet 3x3
      runCase(rt, { H: 8, W: 14, C: 24, OC: 24, K: 3, PH: 1, PW: 1, groups: 24, bias: true, act: 1 }, seed);
      runCase(rt, { H: 10, W: 15, C: 22, OC: 22, K: 3, SH: 2, SW: 2, PH: 1, PW: 1, groups: 22, bias: true }, seed); // stride 2, tail 2
      runCase(rt, { H: 7, W: 16, C: 9, OC: 9, K: 3, groups: 9 }, seed); // no padding: every column interior
      runCase(rt, { H: 7, W: 17, C: 8, OC: 8, KH: 3, KW: 5, PH: 2, PW: 2, DH: 2, DW: 1, groups: 8, accumulate: true, bias: true, act: 3 }, seed);
      runCase(rt, { N: 2, H: 6, W: 18, C: 12, OC: 12, K: 3, PH: 1, PW: 0, DW: 2, groups: 12, outPad: 5, outOff: 2, act: 2 }, seed);
      runCase(rt, { H: 5, W: 19, C: 7, OC: 7, KH: 1, KW: 3, SW: 3, PW: 1, groups: 7, bias: true }, seed); // 1x3, stride 3
      runCase(rt, { H: 3, W: 3, C: 16, OC: 16, K: 3, PH: 1, PW: 1, groups: 16, bias: true }, seed); // no 4-pixel run
      runCase(rt, { H: 4, W: 12, C: 4, OC: 4, K: 3, PH: 3, PW: 1, groups: 4, bias: true, accumulate: true }, seed); // rows with no tap inside
    }
  });
  it('batch 2, out_ps > OC at a channel offset (concat slice), bias and each activation, accumulate', async () => {
    const rt = await variant(backend);
    for (const seed of SEEDS) {
      for (const act of [0, 1, 2, 3]) {
        runCase(rt, { N: 2, H: 6, W: 5, C: 4, OC: 11, K: 3, PH: 1, PW: 1, bias: true, act, outPad: 7, outOff: 3 }, seed);
        runCase(rt, { N: 2, H: 6, W: 5, C: 8, OC: 9, K: 1, bias: true, act, accumulate: true, outPad: 5, outOff: 5 }, seed);
        runCase(rt, { N: 2, H: 6, W: 5, C: 8, OC: 8, K: 3, PH: 1, PW: 1, groups: 8, bias: true, act, accumulate: true, outPad: 2 }, seed);
      }
      runCase(rt, { N: 2, H: 8, W: 8, C: 6, OC: 12, K: 3, PH: 1, PW: 1, accumulate: true, bias: true, act: 1 }, seed);
    }
  });
  it('several pixel tiles (last one partial) and K blocks: larger layers', async () => {
    const rt = await variant(backend);
    runCase(rt, { N: 2, H: 30, W: 30, C: 3, OC: 10, K: 3, PH: 1, PW: 1, bias: true }, 21); // 1800 pixels, K = 27
    runCase(rt, { H: 16, W: 16, C: 70, OC: 20, K: 3, PH: 1, PW: 1, bias: true, act: 1 }, 22); // K = 630 > KC, padded lda
    runCase(rt, { N: 2, H: 17, W: 16, C: 32, OC: 24, K: 3, PH: 1, PW: 1, accumulate: true }, 25); // K = 288, 544 pixels: 3 tiles
    runCase(rt, { H: 10, W: 10, C: 300, OC: 9, K: 3, SH: 2, SW: 2, PH: 1, PW: 1 }, 23); // K = 2700: several K blocks
    runCase(rt, { H: 14, W: 14, C: 2100, OC: 3, K: 3, PH: 1, PW: 1 }, 26); // K = 18900 > budget: minimum 30-pixel tiles
    runCase(rt, { H: 28, W: 28, C: 1, OC: 6, K: 5, PH: 2, PW: 2, bias: true, act: 2 }, 24); // LeNet c1
  });
});
