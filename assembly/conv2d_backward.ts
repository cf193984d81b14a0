// Conv2d backward on NHWC activations with RAW PyTorch OIHW weights [OC, C/groups, KH, KW] (training updates
// the raw weights every step, so nothing is pre-packed by the caller; packing happens here, into scratch).
// Forward: conv2d.ts (and conv2d_winograd.ts). Caller: the Conv2d layer's backward in the training graph.
//
//   conv2d_backward_data:   dx [N,H,W,C] (overwritten) = sum over taps of dy · W_tap, scattered to the input
//                           pixel under each tap (zero where a tap falls in the padding)
//   conv2d_backward_weight: dw [OC, ICg, KH, KW] (+)= sum over output pixels of dy ⊗ input patch
//   bias gradient:          bias_grad(db, dy, N*OH*OW, OC, flags) (elementwise_backward.ts)
//
// Paths (all groups, strides, paddings, dilations):
// - depthwise (ICg == 1, OC == groups): direct loops, f32x4 over channels; weights transposed to [tap][C] in
//   scratch (T*C floats); the weight gradient accumulates [tap][C] in scratch, then lands in OIHW.
// - data, 1x1 stride 1 pad 0: one GEMM per group and channel chunk straight into dx:
//   dx[:, g] = dy[:, g] · W_gᵀ (B = W_g [OCg, ICg] as stored, packed into scratch).
// - data, small weights (OCg * ceil8(T*ICg) <= 256 K floats): all of W_g packed with columns (kh, kw, ic); per
//   tile of output pixels one GEMM dcol = dy_tile · W_g, then col2im adds each tap's ICg floats to its pixel.
// - data, general (large weights): per group, per tap t = (kh, kw), per chunk of input channels: pack W_t [OCg, ICg-chunk]
//   (a strided view of OIHW: row stride ICg*T, column stride T), then per tile of output pixels
//   dcol = dy_tile · W_t (GEMM, A read in place from dy with row stride OC), and add each row of dcol to the
//   channels of the input pixel under tap t. Scratch: one packed W_t chunk (<= 1 MB) + one dcol tile (<= 1 MB).
// - weight, general: per tile of output pixels and group, build the im2col tile DIRECTLY in packed-B form
//   with columns ordered (ic, kh, kw), i.e. OIHW's order, so the GEMM
//   dw_g [OCg, K] (+)= dy_tileᵀ [OCg, m] · col [m, K]   (A = dyᵀ: a_rs = 1, a_cs = OC)
//   writes OIHW rows directly (ldc = K). Scratch: ceil8(K) * m floats (<= 2 MB, m >= 8 pixels).
// Scratch sizes stay bounded whatever N, H, W (VGG-16 conv5, 512x512x3x3: 1 MB + 1 MB for data, 2 MB for weights).
import { gemm_run, gemm_pack_b, gemm_packed_b_size } from './gemm';

const PACK_FLOATS: i32 = 1 << 18; // packed W_t chunk budget (1 MB)
const DCOL_FLOATS: i32 = 1 << 18; // dcol tile budget (1 MB)
const COLW_FLOATS: i32 = 1 << 19; // packed im2col tile for the weight gradient (2 MB)

@inline function is_depthwise(OC: i32, ICg: i32, groups: i32): bool {
  return ICg == 1 && OC == groups;
}
@inline function ceil8(x: i32): i32 { return (x + 7) & ~7; }
@inline function align16(b: i32): i32 { return (b + 15) & ~15; }

/** Input channels per packed W_t chunk for the data gradient. */
@inline function data_chunk(ICg: i32, OCg: i32): i32 {
  if (<i64>OCg * <i64>ceil8(ICg) <= <i64>PACK_FLOATS) return ICg;
  return min(ICg, max(8, (PACK_FLOATS / max(OCg, 1)) & ~7));
}
/** Output pixels per dcol tile (nc floats per row). */
@inline function data_tile(nc: i32, M: i32): i32 {
  let mt = DCOL_FLOATS / max(nc, 1);
  mt = min(max(mt - mt % 30, 30), 960);
  return min(mt, M);
}
/** Output pixels per packed im2col tile for the weight gradient (K8 floats per pixel). */
@inline function weight_tile(K8: i32, M: i32): i32 {
  return min(min(max(COLW_FLOATS / max(K8, 1), 8), 1024), M);
}
/** Small weights (LeNet, first layers, K = T*ICg narrow): the data gradient packs all of W_g at once. */
@inline function whole_w(K: i32, OCg: i32): bool {
  return <i64>OCg * <i64>ceil8(K) <= <i64>PACK_FLOATS;
}
@inline function is_1x1_s1_p0(KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32): bool {
  return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0;
}

/** Bytes of scratch that conv2d_backward_data and conv2d_backward_weight need for these dims (the max of both). */
export function conv2d_backward_scratch_size(N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, OC: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, groups: i32): i32 {
  const ICg = C / groups, OCg = OC / groups, T = KH * KW;
  if (is_depthwise(OC, ICg, groups)) return T * C * 4;
  const M = N * OH * OW;
  const K = T * ICg, K8 = ceil8(K);
  let data: i32;
  if (!is_1x1_s1_p0(KH, KW, SH, SW, PH, PW) && whole_w(K, OCg)) {
    data = align16(gemm_packed_b_size(OCg, K) * 4) + data_tile(K, M) * K * 4;
  } else {
    const nc = data_chunk(ICg, OCg);
    data = align16(gemm_packed_b_size(OCg, nc) * 4);
    if (!is_1x1_s1_p0(KH, KW, SH, SW, PH, PW)) data += data_tile(nc, M) * nc * 4;
  }
  const weight = K8 * weight_tile(K8, M) * 4;
  return max(data, weight);
}

/** dx [N,H,W,C] (overwritten) from dy [N,OH,OW,OC] and OIHW weights w; scratch of conv2d_backward_scratch_size bytes. */
export function conv2d_backward_data(dx: usize, dy: usize, w: usize, N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, OC: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
  groups: i32, scratch: usize): void {
  const ICg = C / groups, OCg = OC / groups, T = KH * KW;
  const M = N * OH * OW;
  if (is_depthwise(OC, ICg, groups)) {
    dw_backward_data(dx, dy, w, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, scratch);
    return;
  }
  const nc = data_chunk(ICg, OCg);
  const pb = scratch;
  const ocb = <usize>OC << 2, cb = <usize>C << 2;
  if (is_1x1_s1_p0(KH, KW, SH, SW, PH, PW)) {
    for (let g = 0; g < groups; g++) {
      for (let ic0 = 0; ic0 < ICg; ic0 += nc) {
        const n = min(nc, ICg - ic0);
        gemm_pack_b(pb, w + (<usize>(g * OCg * ICg + ic0) << 2), OCg, n, ICg, 1);
        gemm_run(dx + (<usize>(g * ICg + ic0) << 2), dy + (<usize>(g * OCg) << 2), pb, 0, M, n, OCg, OC, 1, C, 0, false);
      }
    }
    return;
  }
  memory.fill(dx, 0, <usize>N * <usize>H * <usize>W * cb);
  if (M <= 0) return;
  if (whole_w(T * ICg, OCg)) {
    data_whole_w(dx, dy, w, N, H, W, C, OH, OW, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups, scratch);
    return;
  }
  const dcol = scratch + <usize>align16(gemm_packed_b_size(OCg, nc) * 4);
  const mt = data_tile(nc, M);
  const plane = OH * OW;
  for (let g = 0; g < groups; g++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const t = kh * KW + kw;
        for (let ic0 = 0; ic0 < ICg; ic0 += nc) {
          const n = min(nc, ICg - ic0);
          // W_t chunk: element (oc, ic) = w[((g*OCg + oc)*ICg + ic0 + ic)*T + t]
          gemm_pack_b(pb, w + (<usize>((g * OCg * ICg + ic0) * T + t) << 2), OCg, n, ICg * T, T);
          const cofs = <usize>(g * ICg + ic0) << 2;
          const nb = <usize>n << 2;
          for (let p0 = 0; p0 < M; p0 += mt) {
            const m = min(mt, M - p0);
            gemm_run(dcol, dy + <usize>p0 * ocb + (<usize>(g * OCg) << 2), pb, 0, m, n, OCg, OC, 1, n, 0, false);
            // scatter-add dcol rows to the input pixel under tap t
            let b = p0 / plane;
            const r = p0 - b * plane;
            let oh = r / OW, ow = r - (r / OW) * OW;
            let src = dcol;
            for (let i = 0; i < m; i++, src += nb) {
              const ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
                add_f32(dx + <usize>((b * H + ih) * W + iw) * cb + cofs, src, n);
              }
              if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; b++; } }
            }
          }
        }
      }
    }
  }
}

/** dw [OC, ICg, KH, KW] (+= when flags bit 0) from x [N,H,W,C] and dy [N,OH,OW,OC]; scratch as for the data gradient. */
export function conv2d_backward_weight(dw: usize, x: usize, dy: usize, N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, OC: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
  groups: i32, flags: i32, scratch: usize): void {
  const ICg = C / groups, OCg = OC / groups;
  if (is_depthwise(OC, ICg, groups)) {
    dw_backward_weight(dw, x, dy, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, (flags & 1) != 0, scratch);
    return;
  }
  const M = N * OH * OW;
  if (M <= 0) {
    if ((flags & 1) == 0) memory.fill(dw, 0, <usize>OC * <usize>(KH * KW * ICg) << 2);
    return;
  }
  // one buffer: stage s builds tile s, then its GEMM reads it
  const stages = conv2d_backward_weight_stages(N, OH, OW, C, OC, KH, KW, groups);
  for (let s = 0; s < stages; s++) {
    weight_stage_im2col(x, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, groups, scratch, s, 0, 1 << 30);
    weight_stage_gemm(dw, dy, N, OH, OW, C, OC, KH, KW, groups, flags, scratch, s, 0, 1);
  }
}

/**
 * The general weight gradient runs in stages, one per (pixel tile, group): build the tile's packed im2col,
 * then dw_g (+)= dy_tileᵀ · col. Not for depthwise convs.
 */
function conv2d_backward_weight_stages(N: i32, OH: i32, OW: i32, C: i32, OC: i32, KH: i32, KW: i32, groups: i32): i32 {
  const M = N * OH * OW;
  const mt = weight_tile(ceil8(KH * KW * (C / groups)), M);
  return mt > 0 ? ((M + mt - 1) / mt) * groups : 0;
}

/**
 * Part `part` of `parts` of the whole weight gradient (src/runtime/parallel.ts, one sync for the whole call):
 * every stage in order, but only the dw columns of the part's 8-column panels of col, from an im2col of just
 * those columns into the part's own buffer. No thread reads what another wrote (a split of each tile's im2col
 * by pixels made every GEMM read half its tile from the other core's cache, with a sync per stage: LeNet's conv1
 * gained 1.1-1.2x from 2 threads). Each dw column sums the same terms in the same order as one thread does
 * (GEMM columns are independent, gemm_run NOTE), so the result does not depend on the thread count.
 */
export function conv2d_backward_weight_part(dw: usize, x: usize, dy: usize, N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, OC: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32,
  groups: i32, flags: i32, buf: usize, part: i32, parts: i32): void {
  const stages = conv2d_backward_weight_stages(N, OH, OW, C, OC, KH, KW, groups);
  const panels = ceil8(KH * KW * (C / groups)) >> 3;
  const p0 = part * panels / parts, p1 = (part + 1) * panels / parts;
  if (p1 <= p0) return;
  for (let s = 0; s < stages; s++) {
    weight_stage_im2col(x, N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, groups, buf, s, p0 << 3, p1 << 3);
    weight_stage_gemm(dw, dy, N, OH, OW, C, OC, KH, KW, groups, flags, buf, s, part, parts);
  }
}

/** Stage s's im2col, columns [jlo, jhi) of col only (jlo a multiple of 8). */
function weight_stage_im2col(x: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, groups: i32, buf: usize, s: i32, jlo: i32, jhi: i32): void {
  const ICg = C / groups, M = N * OH * OW;
  const mt = weight_tile(ceil8(KH * KW * ICg), M);
  const tile = s / groups, g = s - tile * groups;
  const p0 = tile * mt, m = min(mt, M - p0);
  im2col_packed_oihw(buf, x, p0, m, m, g * ICg, ICg, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, jlo, jhi);
}

function weight_stage_gemm(dw: usize, dy: usize, N: i32, OH: i32, OW: i32, C: i32, OC: i32, KH: i32, KW: i32,
  groups: i32, flags: i32, buf: usize, s: i32, part: i32, parts: i32): void {
  const ICg = C / groups, OCg = OC / groups, K = KH * KW * ICg, M = N * OH * OW;
  const mt = weight_tile(ceil8(K), M);
  const tile = s / groups, g = s - tile * groups;
  const p0 = tile * mt, m = min(mt, M - p0);
  // parts take whole 8-column panels of col (dw columns): every row of a 5- or 6-row GEMM tile stays busy
  // (LeNet's OCg = 6 cut by rows made each half as slow as the whole)
  const panels = ceil8(K) >> 3;
  const j0 = (part * panels / parts) << 3, j1 = min(K, ((part + 1) * panels / parts) << 3);
  if (j1 <= j0) return;
  const o0 = g * OCg;
  const f = (flags & 1) != 0 || p0 > 0 ? 1 : 0;
  gemm_run(dw + ((<usize>o0 * <usize>K + <usize>j0) << 2), dy + <usize>p0 * (<usize>OC << 2) + (<usize>o0 << 2),
    buf + <usize>(j0 >> 3) * (<usize>m << 5), 0, OCg, j1 - j0, m, 1, OC, K, f, false);
}

// ---- helpers ----

/**
 * Data gradient with all of W_g packed (small convs): B = W_g as [OCg rows, K = T*ICg columns ordered
 * (kh, kw, ic)], one GEMM per pixel tile dcol [m, K] = dy_tile · B, then col2im: each tap's ICg floats of a
 * dcol row add into the input pixel under that tap. One wide GEMM instead of T narrow ones (LeNet conv2:
 * ICg = 6 made each per-tap GEMM one padded 8-column panel over K = 16).
 */
function data_whole_w(dx: usize, dy: usize, w: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, OC: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, groups: i32, scratch: usize): void {
  const ICg = C / groups, OCg = OC / groups, T = KH * KW, K = T * ICg;
  const M = N * OH * OW;
  const pb = scratch;
  const dcol = scratch + <usize>align16(gemm_packed_b_size(OCg, K) * 4);
  const mt = data_tile(K, M);
  const ocb = <usize>OC << 2, cb = <usize>C << 2, kb = <usize>K << 2, icb = <usize>ICg << 2;
  const plane = OH * OW;
  for (let g = 0; g < groups; g++) {
    // pack: panel p, row oc, lane l = column j = p*8 + l = t*ICg + ic  <-  w[((g*OCg + oc)*ICg + ic)*T + t]
    let d = pb;
    for (let j0 = 0; j0 < K; j0 += 8) {
      for (let oc = 0; oc < OCg; oc++) {
        const wrow = w + (<usize>((g * OCg + oc) * ICg) * <usize>T << 2);
        for (let l = 0; l < 8; l++) {
          const j = j0 + l;
          let v: f32 = 0;
          if (j < K) { const t = j / ICg; v = load<f32>(wrow + (<usize>((j - t * ICg) * T + t) << 2)); }
          store<f32>(d + (<usize>l << 2), v);
        }
        d += 32;
      }
    }
    const cofs = <usize>(g * ICg) << 2;
    for (let p0 = 0; p0 < M; p0 += mt) {
      const m = min(mt, M - p0);
      gemm_run(dcol, dy + <usize>p0 * ocb + (<usize>(g * OCg) << 2), pb, 0, m, K, OCg, OC, 1, K, 0, false);
      let b = p0 / plane;
      const r = p0 - b * plane;
      let oh = r / OW, ow = r - (r / OW) * OW;
      let src = dcol;
      for (let i = 0; i < m; i++, src += kb) {
        const img = dx + <usize>(b * H) * <usize>W * cb + cofs;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - PW + kw * DW;
            if (iw < 0 || iw >= W) continue;
            add_f32(img + <usize>(ih * W + iw) * cb, src + <usize>(kh * KW + kw) * icb, ICg);
          }
        }
        if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; b++; } }
      }
    }
  }
}

/** d[0..n) += s[0..n) */
@inline function add_f32(d: usize, s: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
  }
}

/**
 * The im2col tile of output pixels p0 .. p0+m-1 (channels c0 .. c0+ICg-1) as a packed GEMM B matrix
 * [m rows, K = ICg*KH*KW columns ordered (ic, kh, kw)]: column j lives in panel j>>3 (m rows of 8 floats,
 * panel stride ld*8 floats: ld >= m is the whole tile's row count when threads write parts of it), lane j&7; columns K .. ceil8(K)-1 are zero, as are taps in the padding.
 * 1x1: per pixel, 8 channels = one panel row. Otherwise per run of pixels along an output row, per tap and
 * channel: a strided copy (input step SW*C, panel step 8 floats) with the padded ends zeroed; this
 * tap-outer order made LeNet's conv1 tile ~5x faster than a per-pixel loop over taps.
 */
function im2col_packed_oihw(dst: usize, inp: usize, p0: i32, m: i32, ld: i32, c0: i32, ICg: i32, C: i32, H: i32, W: i32,
  OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, jlo: i32, jhi: i32): void {
  const T = KH * KW, K = T * ICg, K8 = ceil8(K);
  // only columns [jlo, jhi) (jlo a multiple of 8): a thread's panels
  const all = jlo == 0 && jhi >= K;
  const pstride = <usize>ld << 5;
  const plane = OH * OW;
  let n = p0 / plane;
  const r = p0 - n * plane;
  let oh = r / OW, ow = r - (r / OW) * OW;
  const cb = <usize>C << 2;
  // zero the pad columns of the last panel once
  if (K8 > K && K >= jlo && K < jhi) {
    const last = dst + <usize>(K >> 3) * pstride;
    for (let i = 0; i < m; i++) for (let j = K & 7; j < 8; j++) store<f32>(last + (<usize>i << 5) + (<usize>j << 2), 0);
  }
  if (T == 1) {
    for (let i = 0; i < m; i++) {
      const row = dst + (<usize>i << 5);
      const ih0 = oh * SH - PH, iw0 = ow * SW - PW;
      const ok = ih0 >= 0 && ih0 < H && iw0 >= 0 && iw0 < W;
      const src = ok ? inp + (<usize>((n * H + ih0) * W + iw0) * cb) + (<usize>c0 << 2) : 0;
      let q = jlo;
      const qe = min(ICg, jhi);
      for (; q + 8 <= qe; q += 8) {
        const d = row + <usize>(q >> 3) * pstride;
        if (ASC_FEATURE_SIMD) {
          if (ok) { v128.store(d, v128.load(src + (<usize>q << 2))); v128.store(d, v128.load(src + (<usize>q << 2), 16), 16); }
          else { v128.store(d, f32x4.splat(0)); v128.store(d, f32x4.splat(0), 16); }
        } else {
          for (let j = 0; j < 8; j++) store<f32>(d + (<usize>j << 2), ok ? load<f32>(src + (<usize>(q + j) << 2)) : 0);
        }
      }
      if (q < qe) {
        const d = row + <usize>(q >> 3) * pstride;
        for (let j = 0; q + j < qe; j++) store<f32>(d + (<usize>j << 2), ok ? load<f32>(src + (<usize>(q + j) << 2)) : 0);
      }
      if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; n++; } }
    }
    return;
  }
  const sstep = <usize>SW * cb;
  let i0 = 0;
  while (i0 < m) {
    const len = min(OW - ow, m - i0); // pixels i0 .. i0+len-1 are ow .. ow+len-1 of output row (n, oh)
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - PH + kh * DH;
      const rowok = ih >= 0 && ih < H;
      for (let kw = 0; kw < KW; kw++) {
        const t = kh * KW + kw;
        // columns j = ic*T + t inside [jlo, jhi) (no division when the range is all of col: one thread); a
        // tap with none of them costs nothing more (LeNet's conv1, ICg = 1: each thread skips half the taps)
        let icLo = 0, icHi = ICg;
        if (!all) {
          icLo = jlo > t ? (jlo - t + T - 1) / T : 0;
          icHi = min(ICg, (jhi - t + T - 1) / T);
          if (icLo >= icHi) continue;
        }
        const iw0 = ow * SW - PW + kw * DW; // input column of the run's first pixel
        let lo = 0, hi = 0;                 // run offsets s in [lo, hi) fall inside the input
        if (rowok && iw0 < W) {
          lo = iw0 >= 0 ? 0 : (-iw0 + SW - 1) / SW;
          hi = min(len, (W - iw0 + SW - 1) / SW);
          lo = min(lo, len);
          if (hi < lo) hi = lo;
        }
        const src0 = lo < hi ? inp + <usize>((n * H + ih) * W + iw0 + lo * SW) * cb + (<usize>c0 << 2) : 0;
        let j = t + icLo * T;
        for (let ic = icLo; ic < icHi; ic++, j += T) {
          const d = dst + <usize>(j >> 3) * pstride + (<usize>i0 << 5) + (<usize>(j & 7) << 2);
          let s = 0;
          for (; s < lo; s++) store<f32>(d + (<usize>s << 5), 0);
          let sp = src0 + (<usize>ic << 2);
          for (; s < hi; s++, sp += sstep) store<f32>(d + (<usize>s << 5), load<f32>(sp));
          for (; s < len; s++) store<f32>(d + (<usize>s << 5), 0);
        }
      }
    }
    i0 += len;
    ow += len;
    if (ow == OW) { ow = 0; if (++oh == OH) { oh = 0; n++; } }
  }
}

/** dst[c] += a[c] * b[c] for C channels (the depthwise backward's inner loop; mul + add, as before). */
@inline function addProduct(dst: usize, a: usize, b: usize, C: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(v128.load(a + o), v128.load(b + o))));
    }
  }
  for (; c < C; c++) {
    const o = <usize>c << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(a + o) * load<f32>(b + o));
  }
}

/** Depthwise data gradient: dx[ih, iw, c] += dy[oh, ow, c] * w[c, kh, kw]; weights transposed to [T][C] in scratch. */
function dw_backward_data(dx: usize, dy: usize, w: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, wt: usize): void {
  const T = KH * KW;
  for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) store<f32>(wt + (<usize>(t * C + c) << 2), load<f32>(w + (<usize>(c * T + t) << 2)));
  const cb = <usize>C << 2;
  memory.fill(dx, 0, <usize>N * <usize>H * <usize>W * cb);
  let g = dy;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, g += cb) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - PW + kw * DW;
            if (iw < 0 || iw >= W) continue;
            addProduct(dx + <usize>((n * H + ih) * W + iw) * cb, g, wt + <usize>(kh * KW + kw) * cb, C);
          }
        }
      }
    }
  }
}

/** Depthwise weight gradient: acc[t][c] = sum over pixels dy[oh, ow, c] * x[ih, iw, c], then dw[c, t] (+)= acc. */
function dw_backward_weight(dw: usize, x: usize, dy: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, accumulate: bool, acc: usize): void {
  const T = KH * KW;
  const cb = <usize>C << 2;
  memory.fill(acc, 0, <usize>T * cb);
  let g = dy;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, g += cb) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - PW + kw * DW;
            if (iw < 0 || iw >= W) continue;
            addProduct(acc + <usize>(kh * KW + kw) * cb, g, x + <usize>((n * H + ih) * W + iw) * cb, C);
          }
        }
      }
    }
  }
  for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) {
    const d = dw + (<usize>(c * T + t) << 2);
    const v = load<f32>(acc + (<usize>(t * C + c) << 2));
    store<f32>(d, accumulate ? load<f32>(d) + v : v);
  }
}
