// Winograd F(2x2, 3x3) convolution: 3x3 convs with stride 1, dilation 1, groups 1, on NHWC activations, with
// the contract of conv2d_nhwc (conv2d.ts): bias and activation fused, accumulate flag, output pixel stride.
// Caller: the Conv2d layer (src/nn/layers/conv.ts), which picks it for such convs with C >= 8.
//
// Lavin & Gray 2015 (arXiv:1509.09308). Each 2x2 block of output pixels (a tile) comes from a 4x4 input
// window d: Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A. Summed over input channels, the 16 element-wise products become
// 16 GEMMs M_ξ[tiles, OC] = V_ξ[tiles, C] · U_ξ[C, OC] (ξ = 4r + c, the position in the 4x4 transformed
// tile): 16 multiply-adds per tile and channel pair instead of 36, 2.25x fewer; the transforms are adds only.
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 -1 -1]
// Numerics: the transforms add at most 4 terms and scale by 1/2 or 1/4 exactly; against direct convolution in
// f32 the error stays of the same order (tested against the f64 oracle with the tolerance of the im2col path).
// Layout: packed U = 16 GEMM B matrices [C rows x OC columns] (gemm_pack_b layout), ξ-major.
// Per block of tb tiles: input transform into V (16 x tb rows of lda floats), 16 gemm_packed into M (16 x tb
// rows of ldm floats), output transform (+ bias, + out when accumulating, activation) into out.
// Channels go 4 at a time (f32x4) in both transforms, with a scalar tail.
import { gemm_run, gemm_packed_b_size } from './gemm';
import { act_f32, act_f32x4, set_act_alpha } from './activation';
import { SCRATCH_FLOATS, TILE_MAX, TILE_STEP, tile_lda, zero_f32 } from './conv2d_tile';

/** Floats of the packed Winograd weights for a 3x3 conv C -> OC. */
export function conv2d_winograd_packed_size(OC: i32, C: i32): i32 {
  return 16 * gemm_packed_b_size(C, OC);
}

/** Pack PyTorch OIHW 3x3 weights [OC, C, 3, 3] into the 16 transformed GEMM B matrices U_ξ = (G g Gᵀ)_ξ. */
export function conv2d_winograd_pack(dst: usize, w: usize, OC: i32, C: i32): void {
  const gbytes = <usize>gemm_packed_b_size(C, OC) << 2;
  // zero first: the columns past OC in the last panel stay zero
  zero_f32(dst, 16 * gemm_packed_b_size(C, OC));
  for (let oc = 0; oc < OC; oc++) {
    for (let ic = 0; ic < C; ic++) {
      const g = w + (<usize>((oc * C + ic) * 9) << 2);
      const d = dst + ((<usize>(oc >> 3) * <usize>C + <usize>ic) << 5) + (<usize>(oc & 7) << 2);
      // t = G g (4 x 3), rows of g: g0 = g[0][*], ...
      for (let j = 0; j < 3; j++) {
        const g0 = load<f32>(g + (<usize>j << 2)), g1 = load<f32>(g + (<usize>(3 + j) << 2)), g2 = load<f32>(g + (<usize>(6 + j) << 2));
        store<f32>(changetype<usize>(wg_t) + (<usize>j << 2), g0);
        store<f32>(changetype<usize>(wg_t) + (<usize>(3 + j) << 2), (g0 + g1 + g2) * 0.5);
        store<f32>(changetype<usize>(wg_t) + (<usize>(6 + j) << 2), (g0 - g1 + g2) * 0.5);
        store<f32>(changetype<usize>(wg_t) + (<usize>(9 + j) << 2), g2);
      }
      // U = t Gᵀ (4 x 4)
      for (let r = 0; r < 4; r++) {
        const tp = changetype<usize>(wg_t) + (<usize>(r * 3) << 2);
        const t0 = load<f32>(tp), t1 = load<f32>(tp, 4), t2 = load<f32>(tp, 8);
        const base = d + <usize>(r * 4) * gbytes;
        store<f32>(base, t0);
        store<f32>(base + gbytes, (t0 + t1 + t2) * 0.5);
        store<f32>(base + 2 * gbytes, (t0 - t1 + t2) * 0.5);
        store<f32>(base + 3 * gbytes, t2);
      }
    }
  }
}
// 4 x 3 temporary of the weight transform (static data: packing runs once per layer, single thread)
const wg_t = memory.data(48, 16);

// @ts-ignore: decorator
@inline function wg_ldv(C: i32): i32 { return tile_lda(C); }

/** Tiles per block: V and M of a block together stay near 2 MB. */
// @ts-ignore: decorator
@inline function wg_tiles(C: i32, OC: i32, T: i32): i32 {
  let t = SCRATCH_FLOATS / (16 * (wg_ldv(C) + wg_ldv(OC)));
  t -= t % TILE_STEP;
  t = min(max(t, TILE_STEP), TILE_MAX);
  return min(t, T);
}

/** Bytes of scratch conv2d_winograd needs. */
export function conv2d_winograd_scratch_size(N: i32, OH: i32, OW: i32, C: i32, OC: i32): i32 {
  const T = N * ((OH + 1) >> 1) * ((OW + 1) >> 1);
  return 16 * wg_tiles(C, OC, T) * (wg_ldv(C) + wg_ldv(OC)) * 4 + 64;
}

/**
 * 3x3 conv, stride 1, dilation 1, groups 1, padding (PH, PW), by Winograd F(2x2, 3x3): same contract as
 * conv2d_nhwc (out pixel stride out_ps, flags bit 0 accumulate, bits 1..4 activation, alpha its parameter), weights from
 * conv2d_winograd_pack, scratch of conv2d_winograd_scratch_size bytes.
 */
export function conv2d_winograd(out: usize, inp: usize, pw: usize, bias: usize, N: i32, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, OC: i32, PH: i32, PW: i32, out_ps: i32, flags: i32, scratch: usize, alpha: f32): void {
  set_act_alpha(alpha);
  if (N <= 0 || OH <= 0 || OW <= 0 || OC <= 0) return;
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  const T = N * TH * TW;
  const tb = wg_tiles(C, OC, T);
  const ldv = wg_ldv(C), ldm = wg_ldv(OC);
  const vstep = <usize>tb * <usize>ldv << 2, mstep = <usize>tb * <usize>ldm << 2;
  const vbase = scratch, mbase = scratch + 16 * vstep;
  wg_d = mbase + 16 * mstep; // 16 floats after V and M: this call's own (see wg_d)
  const gbytes = <usize>gemm_packed_b_size(C, OC) << 2;
  for (let t0 = 0; t0 < T; t0 += tb) {
    const m = min(tb, T - t0);
    wg_input(vbase, vstep, ldv, inp, t0, m, C, H, W, TH, TW, PH, PW);
    for (let x = 0; x < 16; x++) {
      gemm_run(mbase + <usize>x * mstep, vbase + <usize>x * vstep, pw + <usize>x * gbytes, 0, m, OC, C, ldv, 1, ldm, 0, false);
    }
    wg_output(out, out_ps, mbase, mstep, ldm, bias, t0, m, OC, OH, OW, TH, TW, flags);
  }
}

/** V_ξ[i, c] = (Bᵀ d B)_ξ for tiles t0 .. t0+m-1 (d the 4x4 input window of the tile, zero outside). */
function wg_input(v: usize, vstep: usize, ldv: i32, inp: usize, t0: i32, m: i32, C: i32, H: i32, W: i32,
  TH: i32, TW: i32, PH: i32, PW: i32): void {
  const cb = <usize>C << 2;
  const plane = TH * TW;
  let n = t0 / plane;
  const r = t0 - n * plane;
  let th = r / TW, tw = r - (r / TW) * TW;
  const C4 = ASC_FEATURE_SIMD ? C & ~3 : 0;
  for (let i = 0; i < m; i++) {
    const ih0 = 2 * th - PH, iw0 = 2 * tw - PW;
    const img = inp + <usize>(n * H) * <usize>W * cb;
    const vi = v + (<usize>i * <usize>ldv << 2);
    // element (r, c) of the window at img + ((ih0 + r) * W + iw0 + c) * cb, or zero: per-row/column masks
    const interior = ih0 >= 0 && ih0 + 3 < H && iw0 >= 0 && iw0 + 3 < W;
    if (ASC_FEATURE_SIMD) {
      if (interior) {
        const p = img + (<usize>ih0 * <usize>W + <usize>iw0) * cb;
        for (let c = 0; c < C4; c += 4) wg_in_v(vi + (<usize>c << 2), vstep, p + (<usize>c << 2), cb, <usize>W * cb, 15, 15);
      } else {
        // rows/columns inside the image as 4-bit masks; masked elements load from the tile's clamped origin
        let rm = 0, cm = 0;
        for (let q = 0; q < 4; q++) {
          if (ih0 + q >= 0 && ih0 + q < H) rm |= 1 << q;
          if (iw0 + q >= 0 && iw0 + q < W) cm |= 1 << q;
        }
        for (let c = 0; c < C4; c += 4) wg_in_edge_v(vi + (<usize>c << 2), vstep, img + (<usize>c << 2), cb, W, ih0, iw0, rm, cm);
      }
    }
    for (let c = C4; c < C; c++) wg_in_s(vi + (<usize>c << 2), vstep, img + (<usize>c << 2), cb, H, W, ih0, iw0);
    if (++tw == TW) {
      tw = 0;
      if (++th == TH) { th = 0; n++; }
    }
  }
}

// @ts-ignore: decorator
@inline function wg_in_core_v(vi: usize, vstep: usize,
  d00: v128, d01: v128, d02: v128, d03: v128, d10: v128, d11: v128, d12: v128, d13: v128,
  d20: v128, d21: v128, d22: v128, d23: v128, d30: v128, d31: v128, d32: v128, d33: v128): void {
  // t = Bᵀ d (rows), then V = t B (columns)
  const t00 = f32x4.sub(d00, d20), t01 = f32x4.sub(d01, d21), t02 = f32x4.sub(d02, d22), t03 = f32x4.sub(d03, d23);
  const t10 = f32x4.add(d10, d20), t11 = f32x4.add(d11, d21), t12 = f32x4.add(d12, d22), t13 = f32x4.add(d13, d23);
  const t20 = f32x4.sub(d20, d10), t21 = f32x4.sub(d21, d11), t22 = f32x4.sub(d22, d12), t23 = f32x4.sub(d23, d13);
  const t30 = f32x4.sub(d10, d30), t31 = f32x4.sub(d11, d31), t32 = f32x4.sub(d12, d32), t33 = f32x4.sub(d13, d33);
  let p = vi;
  v128.store(p, f32x4.sub(t00, t02)); p += vstep;
  v128.store(p, f32x4.add(t01, t02)); p += vstep;
  v128.store(p, f32x4.sub(t02, t01)); p += vstep;
  v128.store(p, f32x4.sub(t01, t03)); p += vstep;
  v128.store(p, f32x4.sub(t10, t12)); p += vstep;
  v128.store(p, f32x4.add(t11, t12)); p += vstep;
  v128.store(p, f32x4.sub(t12, t11)); p += vstep;
  v128.store(p, f32x4.sub(t11, t13)); p += vstep;
  v128.store(p, f32x4.sub(t20, t22)); p += vstep;
  v128.store(p, f32x4.add(t21, t22)); p += vstep;
  v128.store(p, f32x4.sub(t22, t21)); p += vstep;
  v128.store(p, f32x4.sub(t21, t23)); p += vstep;
  v128.store(p, f32x4.sub(t30, t32)); p += vstep;
  v128.store(p, f32x4.add(t31, t32)); p += vstep;
  v128.store(p, f32x4.sub(t32, t31)); p += vstep;
  v128.store(p, f32x4.sub(t31, t33));
}

/** Interior window at p (row stride rb bytes, pixel stride cb), 4 channels. */
// @ts-ignore: decorator
@inline function wg_in_v(vi: usize, vstep: usize, p: usize, cb: usize, rb: usize, _rm: i32, _cm: i32): void {
  const p1 = p + rb, p2 = p1 + rb, p3 = p2 + rb;
  const c2 = cb << 1, c3 = cb * 3;
  wg_in_core_v(vi, vstep,
    v128.load(p), v128.load(p + cb), v128.load(p + c2), v128.load(p + c3),
    v128.load(p1), v128.load(p1 + cb), v128.load(p1 + c2), v128.load(p1 + c3),
    v128.load(p2), v128.load(p2 + cb), v128.load(p2 + c2), v128.load(p2 + c3),
    v128.load(p3), v128.load(p3 + cb), v128.load(p3 + c2), v128.load(p3 + c3));
}

// @ts-ignore: decorator
@inline function wg_ld_v(img: usize, cb: usize, W: i32, ih: i32, iw: i32, ok: bool): v128 {
  return ok ? v128.load(img + (<usize>ih * <usize>W + <usize>iw) * cb) : f32x4.splat(0);
}

/** Border window: elements outside the image (row mask rm, column mask cm) are zero. 4 channels at img. */
function wg_in_edge_v(vi: usize, vstep: usize, img: usize, cb: usize, W: i32, ih0: i32, iw0: i32, rm: i32, cm: i32): void {
  const r0 = (rm & 1) != 0, r1 = (rm & 2) != 0, r2 = (rm & 4) != 0, r3 = (rm & 8) != 0;
  const c0 = (cm & 1) != 0, c1 = (cm & 2) != 0, c2 = (cm & 4) != 0, c3 = (cm & 8) != 0;
  wg_in_core_v(vi, vstep,
    wg_ld_v(img, cb, W, ih0, iw0, r0 && c0), wg_ld_v(img, cb, W, ih0, iw0 + 1, r0 && c1),
    wg_ld_v(img, cb, W, ih0, iw0 + 2, r0 && c2), wg_ld_v(img, cb, W, ih0, iw0 + 3, r0 && c3),
    wg_ld_v(img, cb, W, ih0 + 1, iw0, r1 && c0), wg_ld_v(img, cb, W, ih0 + 1, iw0 + 1, r1 && c1),
    wg_ld_v(img, cb, W, ih0 + 1, iw0 + 2, r1 && c2), wg_ld_v(img, cb, W, ih0 + 1, iw0 + 3, r1 && c3),
    wg_ld_v(img, cb, W, ih0 + 2, iw0, r2 && c0), wg_ld_v(img, cb, W, ih0 + 2, iw0 + 1, r2 && c1),
    wg_ld_v(img, cb, W, ih0 + 2, iw0 + 2, r2 && c2), wg_ld_v(img, cb, W, ih0 + 2, iw0 + 3, r2 && c3),
    wg_ld_v(img, cb, W, ih0 + 3, iw0, r3 && c0), wg_ld_v(img, cb, W, ih0 + 3, iw0 + 1, r3 && c1),
    wg_ld_v(img, cb, W, ih0 + 3, iw0 + 2, r3 && c2), wg_ld_v(img, cb, W, ih0 + 3, iw0 + 3, r3 && c3));
}

/** One channel (scalar variant, channel tails): V_ξ at vi + ξ*vstep. */
function wg_in_s(vi: usize, vstep: usize, img: usize, cb: usize, H: i32, W: i32, ih0: i32, iw0: i32): void {
  const d = wg_d;
  for (let r = 0; r < 4; r++) {
    const ih = ih0 + r;
    for (let c = 0; c < 4; c++) {
      const iw = iw0 + c;
      const ok = ih >= 0 && ih < H && iw >= 0 && iw < W;
      store<f32>(d + (<usize>(r * 4 + c) << 2), ok ? load<f32>(img + (<usize>ih * <usize>W + <usize>iw) * cb) : 0);
    }
  }
  // t = Bᵀ d in place of rows, then V = t B
  for (let c = 0; c < 4; c++) {
    const x0 = load<f32>(d + (<usize>c << 2)), x1 = load<f32>(d + (<usize>(4 + c) << 2));
    const x2 = load<f32>(d + (<usize>(8 + c) << 2)), x3 = load<f32>(d + (<usize>(12 + c) << 2));
    store<f32>(d + (<usize>c << 2), x0 - x2);
    store<f32>(d + (<usize>(4 + c) << 2), x1 + x2);
    store<f32>(d + (<usize>(8 + c) << 2), x2 - x1);
    store<f32>(d + (<usize>(12 + c) << 2), x1 - x3);
  }
  for (let r = 0; r < 4; r++) {
    const q = d + (<usize>(r * 4) << 2);
    const x0 = load<f32>(q), x1 = load<f32>(q, 4), x2 = load<f32>(q, 8), x3 = load<f32>(q, 12);
    const o = vi + <usize>(r * 4) * vstep;
    store<f32>(o, x0 - x2);
    store<f32>(o + vstep, x1 + x2);
    store<f32>(o + 2 * vstep, x2 - x1);
    store<f32>(o + 3 * vstep, x1 - x3);
  }
}
/**
 * 4x4 window of wg_in_s: 64 bytes at the end of the call's scratch. A global (per instance, so per thread)
 * holding a pointer into scratch, not a static buffer: threads share static data (src/runtime/threads.ts).
 */
let wg_d: usize = 0;

/** out[2x2 block of tile t0+i] = act((acc ? out : 0) + bias + (Aᵀ M A)), valid pixels only. */
function wg_output(out: usize, out_ps: i32, mb: usize, mstep: usize, ldm: i32, bias: usize, t0: i32, m: i32,
  OC: i32, OH: i32, OW: i32, TH: i32, TW: i32, flags: i32): void {
  const act = (flags >> 1) & 15;
  const accumulate = (flags & 1) != 0;
  const ob = <usize>out_ps << 2;
  const plane = TH * TW;
  let n = t0 / plane;
  const r = t0 - n * plane;
  let th = r / TW, tw = r - (r / TW) * TW;
  const OC4 = ASC_FEATURE_SIMD ? OC & ~3 : 0;
  for (let i = 0; i < m; i++) {
    const oh = 2 * th, ow = 2 * tw;
    const has_r1 = oh + 1 < OH, has_c1 = ow + 1 < OW;
    const o00 = out + <usize>((n * OH + oh) * OW + ow) * ob;
    const o01 = o00 + ob;
    const o10 = o00 + <usize>OW * ob;
    const o11 = o10 + ob;
    const mi = mb + (<usize>i * <usize>ldm << 2);
    if (ASC_FEATURE_SIMD) {
      for (let c = 0; c < OC4; c += 4) {
        const co = <usize>c << 2;
        let p = mi + co;
        const m00 = v128.load(p); p += mstep; const m01 = v128.load(p); p += mstep;
        const m02 = v128.load(p); p += mstep; const m03 = v128.load(p); p += mstep;
        const m10 = v128.load(p); p += mstep; const m11 = v128.load(p); p += mstep;
        const m12 = v128.load(p); p += mstep; const m13 = v128.load(p); p += mstep;
        const m20 = v128.load(p); p += mstep; const m21 = v128.load(p); p += mstep;
        const m22 = v128.load(p); p += mstep; const m23 = v128.load(p); p += mstep;
        const m30 = v128.load(p); p += mstep; const m31 = v128.load(p); p += mstep;
        const m32 = v128.load(p); p += mstep; const m33 = v128.load(p);
        // s = Aᵀ M (2 x 4), y = s A (2 x 2)
        const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
        const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
        const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
        const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
        const vb = bias != 0 ? v128.load(bias + co) : f32x4.splat(0);
        let y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), vb);
        let y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), vb);
        let y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), vb);
        let y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), vb);
        if (accumulate) y00 = f32x4.add(y00, v128.load(o00 + co));
        if (act != 0) y00 = act_f32x4(y00, act);
        v128.store(o00 + co, y00);
        if (has_c1) {
          if (accumulate) y01 = f32x4.add(y01, v128.load(o01 + co));
          if (act != 0) y01 = act_f32x4(y01, act);
          v128.store(o01 + co, y01);
        }
        if (has_r1) {
          if (accumulate) y10 = f32x4.add(y10, v128.load(o10 + co));
          if (act != 0) y10 = act_f32x4(y10, act);
          v128.store(o10 + co, y10);
          if (has_c1) {
            if (accumulate) y11 = f32x4.add(y11, v128.load(o11 + co));
            if (act != 0) y11 = act_f32x4(y11, act);
            v128.store(o11 + co, y11);
          }
        }
      }
    }
    for (let c = OC4; c < OC; c++) {
      const co = <usize>c << 2;
      const q = mi + co;
      // s = Aᵀ M (2 x 4), y = s A (2 x 2)
      const b: f32 = bias != 0 ? load<f32>(bias + co) : 0;
      const a00 = load<f32>(q), a01 = load<f32>(q + mstep), a02 = load<f32>(q + 2 * mstep), a03 = load<f32>(q + 3 * mstep);
      const a10 = load<f32>(q + 4 * mstep), a11 = load<f32>(q + 5 * mstep), a12 = load<f32>(q + 6 * mstep), a13 = load<f32>(q + 7 * mstep);
      const a20 = load<f32>(q + 8 * mstep), a21 = load<f32>(q + 9 * mstep), a22 = load<f32>(q + 10 * mstep), a23 = load<f32>(q + 11 * mstep);
      const a30 = load<f32>(q + 12 * mstep), a31 = load<f32>(q + 13 * mstep), a32 = load<f32>(q + 14 * mstep), a33 = load<f32>(q + 15 * mstep);
      const s00 = a00 + a10 + a20, s01 = a01 + a11 + a21, s02 = a02 + a12 + a22, s03 = a03 + a13 + a23;
      const s10 = a10 - a20 - a30, s11 = a11 - a21 - a31, s12 = a12 - a22 - a32, s13 = a13 - a23 - a33;
      wg_store_s(o00 + co, s00 + s01 + s02 + b, accumulate, act);
      if (has_c1) wg_store_s(o01 + co, s01 - s02 - s03 + b, accumulate, act);
      if (has_r1) {
        wg_store_s(o10 + co, s10 + s11 + s12 + b, accumulate, act);
        if (has_c1) wg_store_s(o11 + co, s11 - s12 - s13 + b, accumulate, act);
      }
    }
    if (++tw == TW) {
      tw = 0;
      if (++th == TH) { th = 0; n++; }
    }
  }
}

// @ts-ignore: decorator
@inline function wg_store_s(p: usize, y: f32, accumulate: bool, act: i32): void {
  if (accumulate) y += load<f32>(p);
  store<f32>(p, act != 0 ? act_f32(y, act) : y);
}
