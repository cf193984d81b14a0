/**
 * The kernels, split across the thread pool: a Kernels object whose costly entries cut their problem into
 * one part per thread and run the parts at once (ThreadPool.run); every other entry is the plain export.
 * Layers, models and training call `rt.k` as before and never see the threads.
 *
 * Same bits for any thread count: work is cut only along outputs (rows or columns of a GEMM, output rows
 * of a conv or pool, ranges of an elementwise op), never along a reduction, and each part is itself a
 * call of the same kernel on a smaller problem. The kernels compute every output element in a way that does
 * not depend on the problem's size or the element's position (assembly/gemm.ts gemm_run NOTE; conv tiles
 * reach the GEMM with gemv off; elementwise ranges are cut at multiples of 64 so every element keeps its
 * SIMD or scalar path), so the parts together write exactly what one call writes. A conv's output rows
 * oh0..oh1 are the conv of the input from row oh0*SH - PH with the top padding that is left
 * (`rowWindow`); test/runtime/threads-bits.test.ts checks every split against one thread, bit for bit.
 *
 * Small problems stay on the calling thread: below `splitLimits` the dispatch (a few
 * microseconds) costs more than the split saves (measured in bench/threads.mjs).
 */
import type { Kernels } from './kernels.js';
import type { Arena } from './arena.js';
import type { SubCall, ThreadPool, PoolKernel } from './threads.js';

/**
 * Below these a call runs on one thread: `flops` (2 x multiply-adds) for GEMMs and convs, `windows` (window
 * reads) for pools and their backward (~1.3-2.5 ns per read: 16 K reads are 20-40 us of work against a ~3 us
 * split; at the GEMMs' 0.4 M no LeNet-5 pool split and its backward stayed serial, 1.6 of a 15 ms training
 * step), `elements` for elementwise ops and optimizer steps, `stepFlops` for one recurrent step
 * (its GEMV streams every weight once per step, ~23 GFLOP/s against a GEMM's ~38: a 0.2 MFLOP step takes
 * ~9 us on one thread, a split ~3 us; at the GEMMs' 0.4 MFLOP the GRU 2 x 256's steps, 0.39 MFLOP, never
 * split and its forward gained only 1.2x from 2 threads). Tests set all to 0 so that every call is split
 * (test/kernels/harness.ts); nothing else changes them.
 */
export const splitLimits = { flops: 400_000, windows: 1 << 14, elements: 1 << 15, stepFlops: 150_000 };
/** Elementwise ranges start at multiples of this (every kernel's SIMD body steps by a divisor of it). */
const ELEMENT_UNIT = 64;
/** GEMM row ranges start at multiples of this (every variant's row tile, 4, 5 and 6, divides 60). */
const ROW_UNIT = 60;
const NR = 8;

/** Cut [0, units) into at most `parts` contiguous, balanced ranges of whole units; empty ranges dropped. */
export function cut(units: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const n = Math.min(parts, units);
  for (let i = 0, lo = 0; i < n; i++) {
    const hi = Math.round(((i + 1) * units) / n);
    if (hi > lo) out.push([lo, hi]);
    lo = hi;
  }
  return out;
}

/** One list of sub-calls per part, from a cut of `units` and a function making a part's calls. */
function byRanges(units: number, threads: number, make: (lo: number, hi: number, part: number) => SubCall[]): SubCall[][] {
  return cut(units, threads).map(([lo, hi], part) => make(lo, hi, part));
}

/**
 * Output rows oh0..oh1 of a conv/pool (stride SH, top padding PH, window span KHd = (KH-1)*DH + 1) over an
 * input of H rows: the input row the part starts from, the padding left above it and the input rows it
 * reads. A window that ran past row H in the full problem runs past `rows` in the part (rows is H - row
 * then), and the kernels treat rows past the input as padding, so the part computes exactly the full
 * problem's rows oh0..oh1. (`rows` must not be larger: the 1x1 path takes every input row as an output row.)
 */
export function rowWindow(oh0: number, oh1: number, SH: number, PH: number, KHd: number, H: number): { row: number; pad: number; rows: number } {
  const r0 = oh0 * SH - PH;
  const row = Math.max(r0, 0), pad = Math.max(-r0, 0);
  const need = (oh1 - oh0 - 1) * SH + KHd - pad;
  return { row, pad, rows: Math.max(0, Math.min(H - row, need)) };
}

/**
 * Rows of a batch of images (N * OH rows, `step` rows per unit) cut into parts; each part is a list of
 * (image, first row, last row) pieces: whole images where it can, so a part is at most three calls.
 */
function rowPieces(N: number, OH: number, step: number, threads: number): Array<Array<[number, number, number, number]>> {
  const unitsPerImage = Math.ceil(OH / step);
  return cut(N * unitsPerImage, threads).map(([lo, hi]) => {
    const pieces: Array<[number, number, number, number]> = []; // [n0, images, oh0, oh1]
    let u = lo;
    while (u < hi) {
      const n = Math.floor(u / unitsPerImage), first = u - n * unitsPerImage;
      if (first === 0 && hi - u >= unitsPerImage) {
        const images = Math.floor((hi - u) / unitsPerImage);
        pieces.push([n, images, 0, OH]);
        u += images * unitsPerImage;
      } else {
        const last = Math.min(unitsPerImage, first + (hi - u));
        pieces.push([n, 1, first * step, Math.min(OH, last * step)]);
        u += last - first;
      }
    }
    return pieces;
  });
}

/** Per-thread scratch blocks (thread 0 uses the caller's), grown on demand, freed with the pool. */
class ScratchBlocks {
  private blocks: Array<{ ptr: number; bytes: number }> = [];
  constructor(private readonly arena: Arena) {}
  get(thread: number, bytes: number): number {
    if (bytes <= 0) return 0;
    const b = this.blocks[thread];
    if (b && b.bytes >= bytes) return b.ptr;
    if (b) this.arena.release(b.ptr);
    const ptr = this.arena.alloc(bytes);
    this.blocks[thread] = { ptr, bytes };
    return ptr;
  }
}

type Fn = (...a: number[]) => void;

/** The pool's view of the kernels: `k` with its costly entries split across `pool`. */
export function parallelKernels(k: Kernels, pool: ThreadPool, arena: Arena): Kernels {
  const scratch = new ScratchBlocks(arena);
  const T = () => pool.size;
  const call = (fn: PoolKernel, ...args: number[]): SubCall => ({ fn, args });
  const p = { ...k } as Kernels & Record<string, Fn>; // the exports object is frozen

  // ---- GEMM: rows (A and C) or, for few rows, columns (panels of packed B) ----
  p.gemm_packed = (c, a, pb, bias, M, N, K, a_rs, a_cs, ldc, flags, alpha) => {
    const t = T();
    if (t === 1 || 2 * M * N * K < splitLimits.flops) return k.gemm_packed(c, a, pb, bias, M, N, K, a_rs, a_cs, ldc, flags, alpha);
    const rowUnits = Math.floor(M / ROW_UNIT), panels = Math.ceil(N / NR);
    // rows when there are enough whole row units for every thread (a part never has a single row: a one-row
    // call would take the GEMV kernel), else columns
    if (M > 1 && rowUnits >= 2 * t) {
      pool.run(byRanges(rowUnits, t, (lo, hi) => {
        const m0 = lo * ROW_UNIT, m1 = hi === rowUnits ? M : hi * ROW_UNIT;
        return [call('gemm_packed', c + 4 * m0 * ldc, a + 4 * m0 * a_rs, pb, bias, m1 - m0, N, K, a_rs, a_cs, ldc, flags, alpha)];
      }));
      return;
    }
    if (panels < 2) return k.gemm_packed(c, a, pb, bias, M, N, K, a_rs, a_cs, ldc, flags, alpha);
    pool.run(byRanges(panels, t, (lo, hi) => {
      const n0 = lo * NR, n1 = Math.min(N, hi * NR);
      return [call('gemm_packed', c + 4 * n0, a, pb + 32 * lo * K, bias ? bias + 4 * n0 : 0, M, n1 - n0, K, a_rs, a_cs, ldc, flags, alpha)];
    }));
  };
  p.gemm = (c, a, b, bias, M, N, K, a_rs, a_cs, b_rs, b_cs, ldc, flags, scr, alpha) => {
    if (T() === 1 || 2 * M * N * K < splitLimits.flops) return k.gemm(c, a, b, bias, M, N, K, a_rs, a_cs, b_rs, b_cs, ldc, flags, scr, alpha);
    // gemm is gemm_pack_b + gemm_packed (assembly/gemm.ts): pack here, split the product
    k.gemm_pack_b(scr, b, K, N, b_rs, b_cs);
    p.gemm_packed(c, a, scr, bias, M, N, K, a_rs, a_cs, ldc, flags, alpha);
  };

  // ---- Conv: output rows (pairs of rows for Winograd's 2x2 tiles), each thread its own scratch ----
  p.conv2d_nhwc = (out, inp, pw, bias, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, ops, flags, scr, alpha) => {
    const t = T();
    const flops = 2 * N * OH * OW * OC * KH * KW * (C / groups);
    if (t === 1 || flops < splitLimits.flops || N * OH < 2) {
      return k.conv2d_nhwc(out, inp, pw, bias, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, ops, flags, scr, alpha);
    }
    const bytes = k.conv2d_scratch_size(N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups);
    const panels = Math.ceil(OC / NR);
    if (groups === 1 && N * OH < 4 * t && panels >= 2 * t) {
      // few output rows (7x7 maps: 7 rows cut 4 + 3), many channels: cut the packed weights' 8-column
      // panels instead; every part gathers its own im2col tiles (cheap next to its share of the products)
      const K = KH * KW * C;
      pool.run(byRanges(panels, t, (lo, hi, part) => {
        const oc0 = lo * NR, oc1 = Math.min(OC, hi * NR);
        const s = part === 0 ? scr : scratch.get(part, bytes);
        return [call('conv2d_nhwc', out + 4 * oc0, inp, pw + 32 * lo * K, bias ? bias + 4 * oc0 : 0, N, H, W, C, OH, OW, oc1 - oc0,
          KH, KW, SH, SW, PH, PW, DH, DW, 1, ops, flags, s, alpha)];
      }));
      return;
    }
    const parts = rowPieces(N, OH, 1, t).map((pieces, thread) => pieces.map(([n0, images, oh0, oh1]) => {
      const { row, pad, rows } = rowWindow(oh0, oh1, SH, PH, (KH - 1) * DH + 1, H);
      const s = thread === 0 ? scr : scratch.get(thread, bytes);
      return call('conv2d_nhwc', out + 4 * ((n0 * OH + oh0) * OW * ops), inp + 4 * ((n0 * H + row) * W * C), pw, bias,
        images, images > 1 ? H : rows, W, C, oh1 - oh0, OW, OC, KH, KW, SH, SW, pad, PW, DH, DW, groups, ops, flags, s, alpha);
    }));
    pool.run(parts);
  };
  p.conv2d_winograd = (out, inp, pw, bias, N, H, W, C, OH, OW, OC, PH, PW, ops, flags, scr, alpha) => {
    const t = T();
    if (t === 1 || 18 * N * OH * OW * OC * C < splitLimits.flops || N * OH < 4) {
      return k.conv2d_winograd(out, inp, pw, bias, N, H, W, C, OH, OW, OC, PH, PW, ops, flags, scr, alpha);
    }
    const bytes = k.conv2d_winograd_scratch_size(N, OH, OW, C, OC);
    const parts = rowPieces(N, OH, 2, t).map((pieces, thread) => pieces.map(([n0, images, oh0, oh1]) => {
      const { row, pad, rows } = rowWindow(oh0, oh1, 1, PH, 3, H);
      const s = thread === 0 ? scr : scratch.get(thread, bytes);
      return call('conv2d_winograd', out + 4 * ((n0 * OH + oh0) * OW * ops), inp + 4 * ((n0 * H + row) * W * C), pw, bias,
        images, images > 1 ? H : rows, W, C, oh1 - oh0, OW, OC, pad, PW, ops, flags, s, alpha);
    }));
    pool.run(parts);
  };

  // ---- Pooling: output rows ----
  p.maxpool2d_nhwc = (out, inp, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW) => {
    const t = T();
    if (t === 1 || N * OH * OW * C * KH * KW < splitLimits.windows || N * OH < 2) return k.maxpool2d_nhwc(out, inp, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW);
    pool.run(rowPieces(N, OH, 1, t).map((pieces) => pieces.map(([n0, images, oh0, oh1]) => {
      const { row, pad, rows } = rowWindow(oh0, oh1, SH, PH, (KH - 1) * DH + 1, H);
      return call('maxpool2d_nhwc', out + 4 * ((n0 * OH + oh0) * OW * C), inp + 4 * ((n0 * H + row) * W * C),
        images, images > 1 ? H : rows, W, C, oh1 - oh0, OW, KH, KW, SH, SW, pad, PW, DH, DW);
    })));
  };
  p.avgpool2d_nhwc = (out, inp, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, cip, divisor) => {
    const t = T();
    // with count_include_pad the divisor of a bottom window counts the bottom padding (PH rows): a part
    // starting lower has no top padding left and would miscount, so such pools are cut by whole images only
    const wholeImages = cip !== 0 && PH > 0 && divisor <= 0;
    if (t === 1 || N * OH * OW * C * KH * KW < splitLimits.windows || (wholeImages ? N : N * OH) < 2) {
      return k.avgpool2d_nhwc(out, inp, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, cip, divisor);
    }
    pool.run(rowPieces(N, OH, wholeImages ? OH : 1, t).map((pieces) => pieces.map(([n0, images, oh0, oh1]) => {
      const { row, pad, rows } = rowWindow(oh0, oh1, SH, PH, KH, H);
      return call('avgpool2d_nhwc', out + 4 * ((n0 * OH + oh0) * OW * C), inp + 4 * ((n0 * H + row) * W * C),
        images, images > 1 ? H : rows, W, C, oh1 - oh0, OW, KH, KW, SH, SW, pad, PW, cip, divisor);
    })));
  };

  // ---- Elementwise and optimizer steps: ranges of elements (pointer arguments at `ptrs` advance) ----
  const elementwise = (fn: PoolKernel, ptrs: number[], nAt: number) => {
    const f = k[fn as keyof Kernels] as unknown as Fn;
    p[fn] = (...args: number[]) => {
      const n = args[nAt], t = T();
      if (t === 1 || n < splitLimits.elements) return f(...args);
      const units = Math.ceil(n / ELEMENT_UNIT);
      pool.run(byRanges(units, t, (lo, hi) => {
        const a = args.slice();
        const e0 = lo * ELEMENT_UNIT, e1 = Math.min(n, hi * ELEMENT_UNIT);
        for (const i of ptrs) if (a[i] !== 0) a[i] += 4 * e0;
        a[nAt] = e1 - e0;
        return [{ fn, args: a }];
      }));
    };
  };
  elementwise('relu', [0, 1], 2);
  elementwise('sigmoid', [0, 1], 2);
  elementwise('tanh', [0, 1], 2);
  elementwise('activation', [0, 1], 2);
  elementwise('add', [0, 1, 2], 3);
  elementwise('mul', [0, 1, 2], 3);
  elementwise('act_backward', [0, 1, 2], 3);
  elementwise('sgd_step', [0, 1, 2], 3);
  elementwise('adam_step', [0, 1, 2, 3], 4);
  elementwise('scale_inplace', [0], 1);
  // scale_shift: rows of C channels (pixels); scale and shift stay
  p.scale_shift = (out, inp, scale, shift, P, C, act, alpha) => {
    const t = T();
    if (t === 1 || P * C < splitLimits.elements || P < 2) return k.scale_shift(out, inp, scale, shift, P, C, act, alpha);
    pool.run(byRanges(P, t, (lo, hi) => [call('scale_shift', out + 4 * lo * C, inp + 4 * lo * C, scale, shift, hi - lo, C, act, alpha)]));
  };

  // ---- Training: conv data gradients and pool gradients by whole images (an image's dx depends on its dy
  // alone, and each dx element adds its terms in output-pixel order however the pixels are tiled); conv
  // weight gradients by output channels (rows of dw), each thread with its own im2col scratch ----
  p.conv2d_backward_data = (dx, dy, w, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, scr) => {
    const t = T();
    if (t === 1 || N < 2 || 2 * N * OH * OW * OC * KH * KW * (C / groups) < splitLimits.flops) {
      return k.conv2d_backward_data(dx, dy, w, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, scr);
    }
    const bytes = k.conv2d_backward_scratch_size(N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups);
    pool.run(cut(N, t).map(([n0, n1], thread) => [call('conv2d_backward_data', dx + 4 * n0 * H * W * C, dy + 4 * n0 * OH * OW * OC, w,
      n1 - n0, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, thread === 0 ? scr : scratch.get(thread, bytes))]));
  };
  p.conv2d_backward_weight = (dw, x, dy, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, flags, scr) => {
    const t = T();
    const depthwise = C / groups === 1 && OC === groups;
    const panels = Math.ceil((KH * KW * C) / groups / 8);
    // (no pixels: the one-thread kernel zeroes dw, which the parts would leave as it is)
    if (t === 1 || depthwise || panels < t || N * OH * OW === 0 || 2 * N * OH * OW * OC * KH * KW * (C / groups) < splitLimits.flops) {
      return k.conv2d_backward_weight(dw, x, dy, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, flags, scr);
    }
    // each thread its share of dw's columns over the whole call, im2col included, in its own scratch: one sync
    // (cutting only the GEMM made every thread build the whole im2col; cutting the im2col by pixels beside it
    // made each GEMM read half its tile from the other core, with a sync per 1024-pixel stage)
    const bytes = k.conv2d_backward_scratch_size(N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups);
    pool.run(Array.from({ length: t }, (_, part) => [call('conv2d_backward_weight_part', dw, x, dy, N, H, W, C, OH, OW, OC, KH, KW,
      SH, SW, PH, PW, DH, DW, groups, flags, part === 0 ? scr : scratch.get(part, bytes), part, t)]));
  };
  p.maxpool2d_backward_nhwc = (dx, dy, x, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW) => {
    const t = T();
    if (t === 1 || N < 2 || N * OH * OW * C * KH * KW < splitLimits.windows) return k.maxpool2d_backward_nhwc(dx, dy, x, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW);
    pool.run(cut(N, t).map(([n0, n1]) => [call('maxpool2d_backward_nhwc', dx + 4 * n0 * H * W * C, dy + 4 * n0 * OH * OW * C, x + 4 * n0 * H * W * C,
      n1 - n0, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW)]));
  };
  p.avgpool2d_backward_nhwc = (dx, dy, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, cip, divisor) => {
    const t = T();
    if (t === 1 || N < 2 || N * OH * OW * C * KH * KW < splitLimits.windows) return k.avgpool2d_backward_nhwc(dx, dy, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, cip, divisor);
    pool.run(cut(N, t).map(([n0, n1]) => [call('avgpool2d_backward_nhwc', dx + 4 * n0 * H * W * C, dy + 4 * n0 * OH * OW * C,
      n1 - n0, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, cip, divisor)]));
  };

  // ---- Recurrent steps: blocks of 16 hidden units (the recurrent GEMV reads all of h_prev in every part) ----
  const unitBlocks = (H: number) => Math.ceil(H / 16);
  p.lstm_step = (h_out, ldh, c, h_prev, ldhp, gx, ldgx, pw, B, H) => {
    const t = T();
    if (t === 1 || 8 * B * H * H < splitLimits.stepFlops || H <= 16) return k.lstm_step(h_out, ldh, c, h_prev, ldhp, gx, ldgx, pw, B, H);
    pool.run(byRanges(unitBlocks(H), t, (u0, u1) => [call('lstm_step_units', h_out, ldh, c, h_prev, ldhp, gx, ldgx, pw, B, H, u0, u1)]));
  };
  p.gru_step = (h_out, ldh, h_prev, ldhp, gx, ldgx, pw, bhn, B, H) => {
    const t = T();
    if (t === 1 || 6 * B * H * H < splitLimits.stepFlops || H <= 16) return k.gru_step(h_out, ldh, h_prev, ldhp, gx, ldgx, pw, bhn, B, H);
    pool.run(byRanges(unitBlocks(H), t, (u0, u1) => [call('gru_step_units', h_out, ldh, h_prev, ldhp, gx, ldgx, pw, bhn, B, H, u0, u1)]));
  };
  // ---- Recurrent layers: a bidirectional layer's directions on two threads (no sync per step); one
  // direction on several threads: its steps one by one, each cut by units as above ----
  p.rnn_directions = (kind, d0, d1, rev0, out, ldo, out_ts, out_ds, c, c_ds, h0, ldh0, h0_ds, gx, ldgx, gx_ts, gx_ds,
    pw0, pw1, bhn0, bhn1, B, H, steps, flags) => {
    const t = T();
    const run = (from: number, to: number) => [kind, from, to, rev0, out, ldo, out_ts, out_ds, c, c_ds, h0, ldh0, h0_ds,
      gx, ldgx, gx_ts, gx_ds, pw0, pw1, bhn0, bhn1, B, H, steps, flags];
    if (t === 1) return k.rnn_directions(...(run(d0, d1) as Parameters<Kernels['rnn_directions']>));
    if (d1 - d0 === 2) {
      pool.run([[call('rnn_directions', ...run(d0, d0 + 1))], [call('rnn_directions', ...run(d0 + 1, d1))]]);
      return;
    }
    // the loop of assembly/rnn.ts rnn_directions, each step through the splitting kernels above
    for (let d = d0; d < d1; d++) {
      const reverse = d === 1 || rev0 !== 0;
      const o = out + d * out_ds, g = gx + d * gx_ds, cp = c + d * c_ds;
      const pw = d === 1 ? pw1 : pw0, bhn = d === 1 ? bhn1 : bhn0;
      let hp = h0 + d * h0_ds, ldhp = ldh0;
      for (let i = 0; i < steps; i++) {
        const ts = reverse ? steps - 1 - i : i;
        const ho = o + ts * out_ts;
        if (kind === 0) p.lstm_step(ho, ldo, cp, hp, ldhp, g + ts * gx_ts, ldgx, pw, B, H);
        else if (kind === 1) p.gru_step(ho, ldo, hp, ldhp, g + ts * gx_ts, ldgx, pw, bhn, B, H);
        else p.gemm_packed(ho, hp, pw, 0, B, H, H, ldhp, 1, ldo, flags, 0);
        hp = ho;
        ldhp = ldo;
      }
    }
  };
  return p;
}
