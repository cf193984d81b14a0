// Conv2d on NHWC activations, PyTorch semantics (https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html):
// any kernel size, stride, padding, dilation and groups; bias and activation fused; output written with a pixel
// stride out_ps >= OC so a conv can fill its channel slice of a concat buffer (Inception, DenseNet).
// Caller: the Conv2d layer (src/nn/layers/conv.ts), which computes OH/OW, packs weights once and owns the scratch.
//
// Memory layout (pointers are byte offsets, dims element counts; no alignment required, 16 bytes preferred)
// - inp  [N, H, W, C]   out [N, OH, OW, out_ps] (channels 0..OC-1 of each pixel written, the rest untouched)
// - weights come as PyTorch OIHW [OC, C/groups, KH, KW]; conv2d_pack_weights turns them into
//   * general case: per group g, a GEMM B matrix [K = KH*KW*ICg rows ordered (kh, kw, ic)] x [OCg columns],
//     packed as gemm_pack_b does (panels of 8 columns, zero-padded), groups back to back;
//   * depthwise (ICg == 1 and OCg == 1): [KH*KW][OC], channels contiguous for f32x4 loads.
//
// Paths
// - depthwise: direct loop, f32x4 over channels. (im2col + GEMM would waste 7/8 of every panel.)
// - 1x1, padding 0, stride 1: the input already is the GEMM's A matrix (rows = pixels, a_rs = C, channels of
//   the group contiguous): one gemm_packed per group. No copy. (Strided 1x1 takes the im2col path below.)
// - otherwise: im2col of a tile of mt output pixels into scratch (mt x K floats, rows ordered like the
//   packed weights), then gemm_packed on the tile. mt is chosen so the tile stays under SCRATCH_FLOATS
//   (2 MB, conv2d_tile.ts): VGG-16 3x3x64 at 224x224 needs 568 KB instead of the 115 MB of a full im2col.
// - 3x3 / stride 1 / dilation 1 / groups 1 with C >= 8: the Conv2d layer calls conv2d_winograd instead
//   (conv2d_winograd.ts, Winograd F(2x2, 3x3), own packed weights and scratch).
// Backward: conv2d_backward.ts.
// The accumulate flag (bit 0) adds into the existing output before the activation (fused residual add).
import { gemm_run, gemm_packed_b_size } from './gemm';
import { act_f32, act_f32x4, set_act_alpha } from './activation';
import { vmadd } from './simd';
import { copy_f32, tile_lda, tile_rows, zero_f32 } from './conv2d_tile';

// @ts-ignore: decorator
@inline function is_depthwise(OC: i32, ICg: i32, groups: i32): bool {
  return ICg == 1 && OC == groups;
}

/** Floats needed for the packed weights of a conv with OC outputs, ICg inputs per group, KH x KW taps. */
export function conv2d_packed_size(OC: i32, ICg: i32, KH: i32, KW: i32, groups: i32): i32 {
  if (is_depthwise(OC, ICg, groups)) return KH * KW * OC;
  return groups * gemm_packed_b_size(KH * KW * ICg, OC / groups);
}

/** Pack PyTorch OIHW weights [OC, ICg, KH, KW] (see the layout in the header). Exact copy, zero padding. */
export function conv2d_pack_weights(dst: usize, w: usize, OC: i32, ICg: i32, KH: i32, KW: i32, groups: i32): void {
  const taps = KH * KW;
  if (is_depthwise(OC, ICg, groups)) {
    for (let c = 0; c < OC; c++) {
      for (let t = 0; t < taps; t++) {
        store<f32>(dst + (<usize>(t * OC + c) << 2), load<f32>(w + (<usize>(c * taps + t) << 2)));
      }
    }
    return;
  }
  const OCg = OC / groups;
  const K = taps * ICg;
  let d = dst;
  for (let g = 0; g < groups; g++) {
    for (let n0 = 0; n0 < OCg; n0 += 8) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          for (let ic = 0; ic < ICg; ic++) {
            // row k = (kh*KW + kw)*ICg + ic of the group's B matrix, columns n0..n0+7
            for (let j = 0; j < 8; j++) {
              const n = n0 + j;
              const v: f32 = n < OCg ? load<f32>(w + (<usize>((((g * OCg + n) * ICg + ic) * KH + kh) * KW + kw) << 2)) : 0;
              store<f32>(d + (<usize>j << 2), v);
            }
            d += 32;
          }
        }
      }
    }
  }
  // each group took gemm_packed_b_size(K, OCg) floats: the layout conv2d_nhwc indexes by group
}

/** Bytes of scratch conv2d_nhwc needs for these dims: an im2col tile, or 0 on the copy-free paths. */
export function conv2d_scratch_size(N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, OC: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, groups: i32): i32 {
  const ICg = C / groups;
  if (is_depthwise(OC, ICg, groups)) return 0;
  if (KH == 1 && KW == 1 && PH == 0 && PW == 0 && SH == 1 && SW == 1) return 0;
  const K = KH * KW * ICg;
  return tile_rows(K, N * OH * OW) * tile_lda(K) * 4;
}

/**
 * out[N,OH,OW, 0..OC-1 at pixel stride out_ps] = act((flags&1 ? out : 0) + conv(inp[N,H,W,C], weights) + bias[OC]).
 * pw from conv2d_pack_weights, bias 0 = none, scratch of conv2d_scratch_size bytes (may be 0 when that is 0).
 */
export function conv2d_nhwc(out: usize, inp: usize, pw: usize, bias: usize, N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, OC: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
  DH: i32, DW: i32, groups: i32, out_ps: i32, flags: i32, scratch: usize, alpha: f32): void {
  set_act_alpha(alpha);
  const ICg = C / groups, OCg = OC / groups;
  if (N <= 0 || OH <= 0 || OW <= 0 || OC <= 0) return;
  if (is_depthwise(OC, ICg, groups)) {
    conv_depthwise(out, inp, pw, bias, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, out_ps, flags);
    return;
  }
  const K = KH * KW * ICg;
  const gbytes = <usize>gemm_packed_b_size(K, OCg) << 2;
  const obs = <usize>out_ps << 2;
  if (KH == 1 && KW == 1 && PH == 0 && PW == 0 && SH == 1 && SW == 1) {
    // all N*H*W pixels are rows of A with stride C: one GEMM per group
    for (let g = 0; g < groups; g++) {
      gemm_run(out + (<usize>(g * OCg) << 2), inp + (<usize>(g * ICg) << 2), pw + <usize>g * gbytes,
        bias != 0 ? bias + (<usize>(g * OCg) << 2) : 0, N * H * W, OCg, ICg, C, 1, out_ps, flags, false);
    }
    return;
  }
  // Strided 1x1 convs (ResNet downsample) go through the im2col tiles too: a GEMM per output row (M = OW =
  // 7..28) restreamed all the weights per row and wasted most of a 6-row tile on the row tails (7 = 6 + 1,
  // 14 = 2 x 6 + 2); gathering C floats per pixel costs little next to the C x OC multiply-adds.
  const M = N * OH * OW;
  const mt = tile_rows(K, M);
  const lda = tile_lda(K);
  for (let p0 = 0; p0 < M; p0 += mt) {
    const m = min(mt, M - p0);
    for (let g = 0; g < groups; g++) {
      im2col_tile(scratch, lda, inp, p0, m, g * ICg, ICg, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW);
      gemm_run(out + <usize>p0 * obs + (<usize>(g * OCg) << 2), scratch, pw + <usize>g * gbytes,
        bias != 0 ? bias + (<usize>(g * OCg) << 2) : 0, m, OCg, K, lda, 1, out_ps, flags, false);
    }
  }
}

// ---- im2col of a pixel tile ----

/**
 * dst[i, k] (row stride lda >= K = KH*KW*ICg floats, k ordered (kh, kw, ic); the gap is not written) = input value under tap (kh, kw), channel
 * c0 + ic, of output pixel p0 + i (pixels numbered n*OH*OW + oh*OW + ow), zero where the tap is in the padding.
 */
function im2col_tile(dst: usize, lda: i32, inp: usize, p0: i32, m: i32, c0: i32, ICg: i32, C: i32, H: i32, W: i32,
  OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32): void {
  const plane = OH * OW;
  let n = p0 / plane;
  const r = p0 - n * plane;
  let oh = r / OW, ow = r - (r / OW) * OW;
  const cb = <usize>C << 2;
  // with DW == 1 and all channels in the group, the KW taps of a kernel row are one contiguous run
  const runs = DW == 1 && ICg == C;
  const run = KW * C; // floats per kernel row when runs
  const rowStep = <usize>DH * <usize>W * cb; // bytes between the input rows of consecutive kh
  const runBytes = <usize>run << 2;
  for (let i = 0; i < m; i++) {
    let d = dst + <usize>i * (<usize>lda << 2);
    const img = inp + <usize>(n * H) * <usize>W * cb + (<usize>c0 << 2);
    const ih0 = oh * SH - PH, iw0 = ow * SW - PW;
    if (runs && ih0 >= 0 && ih0 + (KH - 1) * DH < H && iw0 >= 0 && iw0 + KW <= W) {
      // Interior pixel: KH straight runs, no bounds per tap. NOTE: first layers (C = 1..3) spent ~3/4 of
      // their time in the general per-tap logic below; runs of 4..8 floats are two overlapping v128 copies.
      let src = img + (<usize>ih0 * <usize>W + <usize>iw0) * cb;
      if (ASC_FEATURE_SIMD) {
        if (run >= 4 && run <= 8) {
          const t = <usize>(run - 4) << 2;
          for (let kh = 0; kh < KH; kh++) {
            v128.store(d, v128.load(src));
            v128.store(d + t, v128.load(src + t));
            d += runBytes;
            src += rowStep;
          }
        } else if (run > 8 && run <= 12) {
          const t = <usize>(run - 4) << 2;
          for (let kh = 0; kh < KH; kh++) {
            v128.store(d, v128.load(src));
            v128.store(d, v128.load(src, 16), 16);
            v128.store(d + t, v128.load(src + t));
            d += runBytes;
            src += rowStep;
          }
        } else {
          for (let kh = 0; kh < KH; kh++) {
            copy_f32(d, src, run);
            d += runBytes;
            src += rowStep;
          }
        }
      } else {
        for (let kh = 0; kh < KH; kh++) {
          copy_f32(d, src, run);
          d += runBytes;
          src += rowStep;
        }
      }
    } else for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) {
        zero_f32(d, KW * ICg);
        d += <usize>(KW * ICg) << 2;
        continue;
      }
      const row = img + <usize>ih * <usize>W * cb;
      if (runs) {
        const lo = max(0, -iw0), hi = min(KW, W - iw0); // valid kw in [lo, hi)
        if (hi <= lo) {
          zero_f32(d, KW * C);
        } else {
          if (lo > 0) zero_f32(d, lo * C);
          copy_f32(d + (<usize>(lo * C) << 2), row + <usize>(iw0 + lo) * cb, (hi - lo) * C);
          if (hi < KW) zero_f32(d + (<usize>(hi * C) << 2), (KW - hi) * C);
        }
        d += <usize>(KW * C) << 2;
      } else {
        for (let kw = 0; kw < KW; kw++) {
          const iw = iw0 + kw * DW;
          if (iw < 0 || iw >= W) zero_f32(d, ICg);
          else copy_f32(d, row + <usize>iw * cb, ICg);
          d += <usize>ICg << 2;
        }
      }
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) { oh = 0; n++; }
    }
  }
}

// ---- depthwise (groups == C == OC) ----

/**
 * out[n, oh, ow, c] = act((acc ? out : 0) + bias[c] + sum_{kh,kw} inp[n, ih, iw, c] * pw[(kh*KW + kw)*C + c]).
 * f32x4 over channels (scalar tail), taps outside the input skipped.
 *
 * One output pixel at a time, 16 channels per pass: 4 independent multiply-add chains (one f32x4 chain per
 * pixel was latency-bound: MobileNetV2's depthwise layers ran at ~1.5 GFLOP/s, now 6-12). The taps inside the
 * input are found once per pixel (rows once per output row), not checked per tap and channel. Tried and
 * dropped: 4 pixels x 8 channels sharing each weight load (no faster, more code). A value always sums in the
 * same order (bias, the accumulated output, the taps inside in (kh, kw) order), whichever thread computes it.
 */
function conv_depthwise(out: usize, inp: usize, pw: usize, bias: usize, N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
  out_ps: i32, flags: i32): void {
  const obs = <usize>out_ps << 2;
  const cb = <usize>C << 2;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const opRow = out + <usize>((n * OH + oh) * OW) * obs;
      const ih0 = oh * SH - PH;
      let kh0 = 0;
      while (kh0 < KH && ih0 + kh0 * DH < 0) kh0++;
      let kh1 = KH;
      while (kh1 > kh0 && ih0 + (kh1 - 1) * DH >= H) kh1--;
      const ipRow = inp + <usize>((n * H + ih0) * W - PW) * cb; // tap (0, 0) of output column 0 (maybe outside)
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - PW;
        let kw0 = 0;
        while (kw0 < KW && iw0 + kw0 * DW < 0) kw0++;
        let kw1 = KW;
        while (kw1 > kw0 && iw0 + (kw1 - 1) * DW >= W) kw1--;
        dw_pixel(opRow + <usize>ow * obs, ipRow + <usize>(ow * SW) * cb, pw, bias, W, C, kh0, kh1, kw0, kw1, KW, DH, DW, flags);
      }
    }
  }
}

/**
 * One output pixel at op, whose taps (kh, kw) lie inside the input for kh in kh0..kh1-1 and
 * kw in kw0..kw1-1 (the rest fall in the padding); ip: the input address of its tap (0, 0), maybe outside.
 * 16 channels per pass (4 independent chains), then 4, then one at a time.
 */
function dw_pixel(op: usize, ip: usize, pw: usize, bias: usize, W: i32, C: i32,
  kh0: i32, kh1: i32, kw0: i32, kw1: i32, KW: i32, DH: i32, DW: i32, flags: i32): void {
  const act = (flags >> 1) & 15;
  const accumulate = (flags & 1) != 0;
  const cb = <usize>C << 2;
  const tapStep = <usize>DW * cb;
  const rowStep = <usize>DH * <usize>W * cb;
  const first = <usize>kh0 * rowStep + <usize>kw0 * tapStep; // input offset of the first tap inside
  const wfirst = <usize>(kh0 * KW + kw0) * cb;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 16 <= C; c += 16) {
      const co = <usize>c << 2;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      if (bias != 0) {
        a0 = v128.load(bias + co); a1 = v128.load(bias + co, 16); a2 = v128.load(bias + co, 32); a3 = v128.load(bias + co, 48);
      }
      if (accumulate) {
        a0 = f32x4.add(a0, v128.load(op + co)); a1 = f32x4.add(a1, v128.load(op + co, 16));
        a2 = f32x4.add(a2, v128.load(op + co, 32)); a3 = f32x4.add(a3, v128.load(op + co, 48));
      }
      let row = ip + first + co, wrow = pw + wfirst + co;
      for (let kh = kh0; kh < kh1; kh++) {
        let p = row, wp = wrow;
        for (let kw = kw0; kw < kw1; kw++) {
          a0 = vmadd(v128.load(p), v128.load(wp), a0);
          a1 = vmadd(v128.load(p, 16), v128.load(wp, 16), a1);
          a2 = vmadd(v128.load(p, 32), v128.load(wp, 32), a2);
          a3 = vmadd(v128.load(p, 48), v128.load(wp, 48), a3);
          p += tapStep;
          wp += cb;
        }
        row += rowStep;
        wrow += <usize>KW * cb;
      }
      if (act != 0) {
        a0 = act_f32x4(a0, act); a1 = act_f32x4(a1, act); a2 = act_f32x4(a2, act); a3 = act_f32x4(a3, act);
      }
      v128.store(op + co, a0); v128.store(op + co, a1, 16); v128.store(op + co, a2, 32); v128.store(op + co, a3, 48);
    }
    for (; c + 4 <= C; c += 4) {
      const co = <usize>c << 2;
      let a0 = bias != 0 ? v128.load(bias + co) : f32x4.splat(0);
      if (accumulate) a0 = f32x4.add(a0, v128.load(op + co));
      let row = ip + first + co, wrow = pw + wfirst + co;
      for (let kh = kh0; kh < kh1; kh++) {
        let p = row, wp = wrow;
        for (let kw = kw0; kw < kw1; kw++) {
          a0 = vmadd(v128.load(p), v128.load(wp), a0);
          p += tapStep;
          wp += cb;
        }
        row += rowStep;
        wrow += <usize>KW * cb;
      }
      if (act != 0) a0 = act_f32x4(a0, act);
      v128.store(op + co, a0);
    }
  }
  for (; c < C; c++) {
    const co = <usize>c << 2;
    let acc: f32 = bias != 0 ? load<f32>(bias + co) : 0;
    if (accumulate) acc += load<f32>(op + co);
    let row = ip + first + co, wrow = pw + wfirst + co;
    for (let kh = kh0; kh < kh1; kh++) {
      let p = row, wp = wrow;
      for (let kw = kw0; kw < kw1; kw++) {
        acc += load<f32>(p) * load<f32>(wp);
        p += tapStep;
        wp += cb;
      }
      row += rowStep;
      wrow += <usize>KW * cb;
    }
    store<f32>(op + co, act != 0 ? act_f32(acc, act) : acc);
  }
}
