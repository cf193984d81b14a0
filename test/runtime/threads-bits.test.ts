/**
 * Same bits for any thread count (src/runtime/parallel.ts): every split kernel on 2, 3 and 4 threads, with
 * every call split however small (odd parts, parts of one row, tile edges inside parts), against the same
 * kernel on one thread, compared bit for bit (Object.is per element, so -0 and NaN count too). Shapes cover
 * each conv path (im2col tiles, 1x1 GEMM, strided 1x1, depthwise, grouped, dilated, Winograd with odd sizes),
 * padding that a part starts inside, several images, accumulate + activation epilogues, GEMMs cut by rows and
 * by columns (one row: the GEMV kernel; transposed A), pools (ceil-mode windows, count_include_pad), and
 * elementwise / optimizer ranges with SIMD tails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantiate, type Runtime } from '../../src/runtime/runtime.js';
import { splitLimits } from '../../src/runtime/parallel.js';
import { randomArray } from '../ref/rng.js';
import { epilogueFlags, Act } from '../../src/runtime/activation.js';

const COUNTS = [2, 3, 4];
let one: Runtime;
const many: Runtime[] = [];
const saved = { ...splitLimits };

beforeAll(async () => {
  splitLimits.flops = 0;
  splitLimits.elements = 0;
  splitLimits.stepFlops = 0;
  splitLimits.windows = 0;
  one = await instantiate({ backend: 'relaxed', threads: 1 });
  for (const t of COUNTS) many.push(await instantiate({ backend: 'relaxed', threads: t }));
  for (const rt of many) expect(rt.threads).toBe(COUNTS[many.indexOf(rt)]);
});
afterAll(() => {
  Object.assign(splitLimits, saved);
  for (const rt of many) rt.endThreads();
});

/** Buffers: inputs copied into every runtime at the same sizes; `run` gets their pointers. */
function compare(what: string, inputs: Float32Array[], outLen: number, run: (rt: Runtime, ptr: number[], out: number) => void, outInit?: Float32Array) {
  const results: Float32Array[] = [];
  for (const rt of [one, ...many]) {
    const a = rt.arena;
    const ptrs = inputs.map((x) => {
      const p = a.alloc(x.length * 4 + 64);
      a.write(p, x);
      return p;
    });
    const out = a.alloc(outLen * 4 + 64);
    a.write(out, outInit ?? new Float32Array(outLen).fill(-777.25));
    run(rt, ptrs, out);
    results.push(a.read(out, outLen).slice());
    for (const p of ptrs) a.release(p);
    a.release(out);
  }
  for (let r = 1; r < results.length; r++) {
    let bad = -1;
    for (let i = 0; i < outLen; i++) if (!Object.is(results[r][i], results[0][i])) { bad = i; break; }
    expect(bad, `${what}, ${COUNTS[r - 1]} threads: first differing element ${bad} (${results[r][bad]} vs ${results[0][bad]})`).toBe(-1);
  }
}

interface Conv { N: number; H: number; W: number; C: number; OC: number; K: number; S?: number; P?: number; D?: number; G?: number; flags?: number; wino?: boolean; ps?: number }

function convCase(c: Conv) {
  const S = c.S ?? 1, P = c.P ?? 0, D = c.D ?? 1, G = c.G ?? 1, ps = c.ps ?? c.OC;
  const OH = Math.floor((c.H + 2 * P - D * (c.K - 1) - 1) / S) + 1, OW = Math.floor((c.W + 2 * P - D * (c.K - 1) - 1) / S) + 1;
  const inp = randomArray(c.N * c.H * c.W * c.C, 1), w = randomArray(c.OC * (c.C / G) * c.K * c.K, 2), bias = randomArray(c.OC, 3);
  const outLen = c.N * OH * OW * ps;
  const what = `conv ${JSON.stringify(c)}`;
  compare(what, [inp, w, bias], outLen, (rt, [pi, pw, pb], out) => {
    const k = rt.k, a = rt.arena;
    if (c.wino) {
      const packed = a.alloc(k.conv2d_winograd_packed_size(c.OC, c.C) * 4);
      k.conv2d_winograd_pack(packed, pw, c.OC, c.C);
      const scr = a.alloc(k.conv2d_winograd_scratch_size(c.N, OH, OW, c.C, c.OC));
      k.conv2d_winograd(out, pi, packed, pb, c.N, c.H, c.W, c.C, OH, OW, c.OC, P, P, ps, c.flags ?? 0, scr, 0.1);
      a.release(packed); a.release(scr);
    } else {
      const packed = a.alloc(k.conv2d_packed_size(c.OC, c.C / G, c.K, c.K, G) * 4);
      k.conv2d_pack_weights(packed, pw, c.OC, c.C / G, c.K, c.K, G);
      const scr = a.alloc(Math.max(64, k.conv2d_scratch_size(c.N, c.H, c.W, c.C, OH, OW, c.OC, c.K, c.K, S, S, P, P, D, D, G)));
      k.conv2d_nhwc(out, pi, packed, pb, c.N, c.H, c.W, c.C, OH, OW, c.OC, c.K, c.K, S, S, P, P, D, D, G, ps, c.flags ?? 0, scr, 0.1);
      a.release(packed); a.release(scr);
    }
  }, c.flags && (c.flags & 1) ? randomArray(outLen, 4) : undefined);
}

describe('split kernels give the bits of one thread', () => {
  const reluAcc = epilogueFlags(Act.Relu, true);
  it('conv2d_nhwc: im2col tiles, 1x1, strided, depthwise, grouped, dilated, padding, batches, epilogues', () => {
    convCase({ N: 1, H: 13, W: 11, C: 5, OC: 7, K: 3, P: 1 });
    convCase({ N: 1, H: 29, W: 17, C: 16, OC: 24, K: 3, S: 2, P: 1, flags: reluAcc });
    convCase({ N: 3, H: 9, W: 7, C: 8, OC: 12, K: 1, flags: reluAcc, ps: 20 });
    convCase({ N: 1, H: 15, W: 15, C: 16, OC: 32, K: 1, S: 2 });
    convCase({ N: 2, H: 11, W: 10, C: 12, OC: 12, K: 3, P: 1, G: 12, flags: epilogueFlags(Act.Relu) });
    convCase({ N: 1, H: 12, W: 9, C: 8, OC: 8, K: 3, P: 2, G: 2, D: 2 });
    convCase({ N: 2, H: 23, W: 21, C: 3, OC: 10, K: 7, S: 2, P: 3 });
    convCase({ N: 5, H: 6, W: 6, C: 4, OC: 6, K: 5, P: 2, flags: epilogueFlags(Act.Tanh) });
    // few output rows, many channels: cut by 8-channel panels (3x3 stride 2, 1x1 stride 2, 1x1, into a concat slice)
    convCase({ N: 1, H: 7, W: 7, C: 16, OC: 100, K: 3, S: 2, P: 1, flags: reluAcc });
    convCase({ N: 1, H: 7, W: 7, C: 24, OC: 70, K: 1, S: 2 });
    convCase({ N: 1, H: 3, W: 5, C: 8, OC: 64, K: 1, ps: 80, flags: reluAcc });
  });
  it('conv2d_winograd: odd sizes, padding 0 and 1, batches, accumulate', () => {
    convCase({ N: 1, H: 15, W: 13, C: 9, OC: 11, K: 3, P: 1, wino: true });
    convCase({ N: 3, H: 8, W: 7, C: 16, OC: 8, K: 3, P: 1, wino: true, flags: reluAcc });
    convCase({ N: 1, H: 21, W: 9, C: 12, OC: 16, K: 3, P: 0, wino: true });
    convCase({ N: 2, H: 5, W: 5, C: 8, OC: 8, K: 3, P: 1, wino: true, ps: 13 });
  });
  it('gemm_packed and gemm: by rows, by columns, one row (GEMV), transposed A, accumulate', () => {
    const cases = [
      { M: 1, N: 300, K: 257 }, { M: 2, N: 61, K: 19 }, { M: 7, N: 9, K: 600 }, { M: 121, N: 13, K: 33 },
      { M: 250, N: 70, K: 40, flags: reluAcc }, { M: 61, N: 200, K: 9, trans: true },
    ];
    for (const c of cases) {
      const a = randomArray(c.M * c.K, 5), b = randomArray(c.K * c.N, 6), bias = randomArray(c.N, 7);
      const init = c.flags ? randomArray(c.M * c.N, 8) : undefined;
      compare(`gemm ${JSON.stringify(c)}`, [a, b, bias], c.M * c.N, (rt, [pa, pb, pbias], out) => {
        const k = rt.k;
        const scr = rt.arena.alloc(k.gemm_packed_b_size(c.K, c.N) * 4);
        const [ars, acs] = c.trans ? [1, c.M] : [c.K, 1];
        k.gemm(out, pa, pb, pbias, c.M, c.N, c.K, ars, acs, c.N, 1, c.N, c.flags ?? 0, scr, 0);
        rt.arena.release(scr);
      }, init);
    }
  });
  it('pools: max (padding, dilation, ceil-mode windows) and avg (count_include_pad, divisor)', () => {
    const N = 2, H = 17, W = 13, C = 6;
    const x = randomArray(N * H * W * C, 9);
    const run = (max: boolean, KH: number, SH: number, PH: number, OH: number, OW: number, cip = 0, div = 0, D = 1) =>
      compare(`${max ? 'max' : 'avg'}pool K${KH} S${SH} P${PH} OH${OH} cip${cip}`, [x], N * OH * OW * C, (rt, [px], out) => {
        if (max) rt.k.maxpool2d_nhwc(out, px, N, H, W, C, OH, OW, KH, KH, SH, SH, PH, PH, D, D);
        else rt.k.avgpool2d_nhwc(out, px, N, H, W, C, OH, OW, KH, KH, SH, SH, PH, PH, cip, div);
      });
    run(true, 3, 2, 1, 9, 7);
    run(true, 3, 2, 0, 8, 6); // ceil mode: the last window runs past the input
    run(true, 2, 1, 1, 17, 13, 0, 0, 2);
    run(false, 3, 2, 1, 9, 7, 1);
    run(false, 3, 2, 1, 9, 7, 0);
    run(false, 2, 2, 0, 9, 7, 1); // ceil mode, no padding
    run(false, 3, 1, 1, 17, 13, 1, 5);
  });
  it('lstm_step and gru_step: by blocks of 16 units, H not a multiple of 16, several rows', () => {
    for (const [G, H, B] of [[4, 50, 3], [3, 50, 3], [4, 100, 1], [3, 129, 2]]) {
      const Hp = Math.ceil(H / 16) * 16;
      const w = randomArray(G * H * H, 20), hPrev = randomArray(B * H, 21), c0 = randomArray(B * H, 22), gx = randomArray(B * G * Hp, 23), bhn = randomArray(Hp, 24);
      // out: h' then c' (LSTM) or h' alone, then the gx rows the step leaves behind
      const len = B * H * 2 + B * G * Hp;
      compare(`${G === 4 ? 'lstm' : 'gru'}_step H${H} B${B}`, [w, hPrev, c0, gx, bhn], len, (rt, [pw0, ph, pc, pg, pb], out) => {
        const k = rt.k, a = rt.arena;
        const pw = a.alloc(k.rnn_packed_gates_size(G, H, H) * 4);
        k.rnn_pack_gates(pw, pw0, G, H, H);
        if (G === 4) k.lstm_step(out, H, pc, ph, H, pg, G * Hp, pw, B, H);
        else k.gru_step(out, H, ph, H, pg, G * Hp, pw, pb, B, H);
        a.copy(out + 4 * B * H, pc, B * H);
        a.copy(out + 8 * B * H, pg, B * G * Hp);
        a.release(pw);
      });
    }
  });
  it('conv backward (data by images, weight by column panels, im2col included) and pool backward by images', () => {
    const cases: Conv[] = [
      { N: 3, H: 12, W: 11, C: 6, OC: 16, K: 5, P: 2 }, // small weights: one GEMM + col2im
      { N: 2, H: 6, W: 5, C: 256, OC: 128, K: 3, P: 1 }, // large weights: per tap chunks
      { N: 3, H: 7, W: 7, C: 16, OC: 24, K: 1 }, // 1x1
      { N: 3, H: 9, W: 8, C: 8, OC: 8, K: 3, P: 1, G: 8 }, // depthwise
      { N: 2, H: 10, W: 9, C: 8, OC: 12, K: 3, S: 2, P: 1, G: 2, flags: 1 }, // grouped, strided, accumulate
      { N: 4, H: 28, W: 28, C: 1, OC: 6, K: 5, P: 2 }, // LeNet conv1: 3136 pixels, 4 weight-gradient stages
      { N: 2, H: 24, W: 24, C: 4, OC: 6, K: 3, P: 1, G: 2, flags: 1 }, // 2 pixel tiles x 2 groups, accumulate
    ];
    for (const c of cases) {
      const S = c.S ?? 1, P = c.P ?? 0, G = c.G ?? 1;
      const OH = Math.floor((c.H + 2 * P - c.K) / S) + 1, OW = Math.floor((c.W + 2 * P - c.K) / S) + 1;
      const x = randomArray(c.N * c.H * c.W * c.C, 30), dy = randomArray(c.N * OH * OW * c.OC, 31), w = randomArray(c.OC * (c.C / G) * c.K * c.K, 32);
      const scratch = (rt: Runtime) => rt.arena.alloc(Math.max(64, rt.k.conv2d_backward_scratch_size(c.N, c.H, c.W, c.C, OH, OW, c.OC, c.K, c.K, S, S, P, P, 1, 1, G)));
      compare(`conv2d_backward_data ${JSON.stringify(c)}`, [dy, w], c.N * c.H * c.W * c.C, (rt, [pdy, pw], out) => {
        const scr = scratch(rt);
        rt.k.conv2d_backward_data(out, pdy, pw, c.N, c.H, c.W, c.C, OH, OW, c.OC, c.K, c.K, S, S, P, P, 1, 1, G, scr);
        rt.arena.release(scr);
      });
      const wl = w.length;
      compare(`conv2d_backward_weight ${JSON.stringify(c)}`, [x, dy], wl, (rt, [px, pdy], out) => {
        const scr = scratch(rt);
        rt.k.conv2d_backward_weight(out, px, pdy, c.N, c.H, c.W, c.C, OH, OW, c.OC, c.K, c.K, S, S, P, P, 1, 1, G, c.flags ?? 0, scr);
        rt.arena.release(scr);
      }, c.flags ? randomArray(wl, 33) : undefined);
    }
    const N = 4, H = 13, W = 11, C = 8, OH = 6, OW = 5;
    const x = randomArray(N * H * W * C, 34), dy = randomArray(N * OH * OW * C, 35);
    compare('maxpool2d_backward', [dy, x], N * H * W * C, (rt, [pdy, px], out) => rt.k.maxpool2d_backward_nhwc(out, pdy, px, N, H, W, C, OH, OW, 3, 3, 2, 2, 0, 0, 1, 1));
    compare('avgpool2d_backward', [dy], N * H * W * C, (rt, [pdy], out) => rt.k.avgpool2d_backward_nhwc(out, pdy, N, H, W, C, OH, OW, 3, 3, 2, 2, 1, 1, 1, 0));
  });
  it('elementwise and optimizer steps: ranges with SIMD tails', () => {
    const n = 1000 + 37;
    const a = randomArray(n, 10), b = randomArray(n, 11), c = randomArray(n, 12), d = randomArray(n, 13).map(Math.abs);
    compare('activation tanh', [a], n, (rt, [pa], out) => rt.k.activation(out, pa, n, Act.Tanh.code, 0));
    compare('sigmoid', [a], n, (rt, [pa], out) => rt.k.sigmoid(out, pa, n));
    compare('add + relu', [a, b], n, (rt, [pa, pb], out) => rt.k.add(out, pa, pb, n, Act.Relu.code, 0));
    compare('mul', [a, b], n, (rt, [pa, pb], out) => rt.k.mul(out, pa, pb, n));
    compare('act_backward sigmoid', [a, b], n, (rt, [pa, pb], out) => rt.k.act_backward(out, pa, pb, n, Act.Sigmoid.code, 0));
    compare('scale_shift', [a, b, c], 37 * 28, (rt, [pa, pb, pc], out) => rt.k.scale_shift(out, pa, pb, pc, 37, 28, Act.Relu.code, 0));
    compare('adam_step', [b, c, d], n, (rt, [pg, pm, pv], out) => rt.k.adam_step(out, pg, pm, pv, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1, 3), a);
    compare('sgd_step', [b, c], n, (rt, [pg, pbuf], out) => rt.k.sgd_step(out, pg, pbuf, n, 0.1, 0.9, 0, 1e-4, 1, 0), a);
  });
});
