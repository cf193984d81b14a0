// Pooling kernels over NHWC activations: max (with dilation), average (PyTorch avg_pool2d semantics incl.
// ceil_mode and count_include_pad), adaptive average and adaptive max. Called by the MaxPool2d / AvgPool2d /
// AdaptiveAvgPool2d / AdaptiveMaxPool2d layers through src/runtime/kernels.ts; the caller computes OH/OW
// (ceil_mode lives in the TypeScript shape math), the kernels only walk windows.
//
// Memory: inp [N, H, W, C] and out [N, OH, OW, C], contiguous, channels innermost; pointers are byte
// offsets (no alignment needed), dims are elements. Every output pixel reduces its window over all channels
// at once: 16 channels (4 vectors) per pass, then 4, then a scalar tail, so each input cell is loaded
// once per window and the accumulators stay in registers. out must not overlap inp.
//
// Semantics (PyTorch docs; avg_pool2d divisor as in aten/src/ATen/native/cpu/AvgPoolKernel.cpp):
// - max: taps outside the input are skipped (PyTorch pads with -inf, so padding never wins; a dilated
//   window that holds only padding gives -inf, as in PyTorch); NaN propagates, as PyTorch's
//   `val > max || isnan(val)` (see max_window for how).
// - avg: window [h0, h0+KH) with h0 = oh*SH - PH; pool_size = (min(h0+KH, H+PH) - h0) * (same for w), taken
//   BEFORE clipping to the input, so a ceil_mode window that runs past the right padding counts fewer
//   cells; then clip to [0, H); divisor = divisor (if > 0) else count_include_pad ? pool_size : clipped
//   count. Sums are f32 in kh, kw order, then one division, as PyTorch.
// - adaptive: window i = [floor(i*H/OH), ceil((i+1)*H/OH)), never empty for OH >= 1.

/**
 * out pixel y[C] = max over the nh x nw taps starting at x0, tap steps rstep / cstep bytes
 * (dilation folded in). nh or nw = 0 gives -inf.
 * The vector path uses pmax (one maxps) and ORs a NaN mask into the result at the end: f32x4.max would
 * propagate NaN by itself but costs ~8 instructions in V8 for its NaN/-0 rules. A NaN comes out as
 * 0xffffffff (still NaN); the scalar path's f32.max keeps the input NaN.
 */
@inline function max_window(y: usize, x0: usize, nh: i32, nw: i32, rstep: usize, cstep: usize, C: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const ninf = f32x4.splat(-Infinity);
    const zero = f32x4.splat(0);
    for (; c + 16 <= C; c += 16) {
      let m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
      let q0 = zero, q1 = zero, q2 = zero, q3 = zero;
      let xr = x0 + (<usize>c << 2);
      for (let i = 0; i < nh; i++, xr += rstep) {
        let x = xr;
        for (let j = 0; j < nw; j++, x += cstep) {
          const v0 = v128.load(x), v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
          m0 = f32x4.pmax(m0, v0); q0 = v128.or(q0, f32x4.ne(v0, v0));
          m1 = f32x4.pmax(m1, v1); q1 = v128.or(q1, f32x4.ne(v1, v1));
          m2 = f32x4.pmax(m2, v2); q2 = v128.or(q2, f32x4.ne(v2, v2));
          m3 = f32x4.pmax(m3, v3); q3 = v128.or(q3, f32x4.ne(v3, v3));
        }
      }
      const yc = y + (<usize>c << 2);
      v128.store(yc, v128.or(m0, q0));
      v128.store(yc, v128.or(m1, q1), 16);
      v128.store(yc, v128.or(m2, q2), 32);
      v128.store(yc, v128.or(m3, q3), 48);
    }
    for (; c + 4 <= C; c += 4) {
      let m = ninf, q = zero;
      let xr = x0 + (<usize>c << 2);
      for (let i = 0; i < nh; i++, xr += rstep) {
        let x = xr;
        for (let j = 0; j < nw; j++, x += cstep) {
          const v = v128.load(x);
          m = f32x4.pmax(m, v);
          q = v128.or(q, f32x4.ne(v, v));
        }
      }
      v128.store(y + (<usize>c << 2), v128.or(m, q));
    }
  }
  for (; c < C; c++) {
    let m: f32 = -Infinity;
    let xr = x0 + (<usize>c << 2);
    for (let i = 0; i < nh; i++, xr += rstep) {
      let x = xr;
      for (let j = 0; j < nw; j++, x += cstep) m = max<f32>(m, load<f32>(x));
    }
    store<f32>(y + (<usize>c << 2), m);
  }
}

/** out pixel y[C] = (sum over the nh x nw cells starting at x0) / div; contiguous window (no dilation). */
@inline function avg_window(y: usize, x0: usize, nh: i32, nw: i32, rstep: usize, cstep: usize, C: i32, div: f32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const dv = f32x4.splat(div);
    for (; c + 16 <= C; c += 16) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let xr = x0 + (<usize>c << 2);
      for (let i = 0; i < nh; i++, xr += rstep) {
        let x = xr;
        for (let j = 0; j < nw; j++, x += cstep) {
          s0 = f32x4.add(s0, v128.load(x));
          s1 = f32x4.add(s1, v128.load(x, 16));
          s2 = f32x4.add(s2, v128.load(x, 32));
          s3 = f32x4.add(s3, v128.load(x, 48));
        }
      }
      const yc = y + (<usize>c << 2);
      v128.store(yc, f32x4.div(s0, dv));
      v128.store(yc, f32x4.div(s1, dv), 16);
      v128.store(yc, f32x4.div(s2, dv), 32);
      v128.store(yc, f32x4.div(s3, dv), 48);
    }
    for (; c + 4 <= C; c += 4) {
      let s = f32x4.splat(0);
      let xr = x0 + (<usize>c << 2);
      for (let i = 0; i < nh; i++, xr += rstep) {
        let x = xr;
        for (let j = 0; j < nw; j++, x += cstep) s = f32x4.add(s, v128.load(x));
      }
      v128.store(y + (<usize>c << 2), f32x4.div(s, dv));
    }
  }
  for (; c < C; c++) {
    let s: f32 = 0;
    let xr = x0 + (<usize>c << 2);
    for (let i = 0; i < nh; i++, xr += rstep) {
      let x = xr;
      for (let j = 0; j < nw; j++, x += cstep) s += load<f32>(x);
    }
    store<f32>(y + (<usize>c << 2), s / div);
  }
}

/** First tap index k >= 0 with i0 + k*D >= 0 (i0 may be negative: left padding). */
@inline function first_tap(i0: i32, D: i32): i32 {
  return i0 >= 0 ? 0 : (-i0 + D - 1) / D;
}
/** One past the last tap k < K with i0 + k*D < L. */
@inline function end_tap(i0: i32, D: i32, K: i32, L: i32): i32 {
  return L - i0 <= 0 ? 0 : min<i32>(K, (L - i0 + D - 1) / D);
}

/**
 * inp[N, H, W, C] -> out[N, OH, OW, C]: max over KHxKW taps with stride SH/SW, padding PH/PW, dilation DH/DW.
 * PyTorch MaxPool2d (https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html).
 */
export function maxpool2d_nhwc(out: usize, inp: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32): void {
  const pix = <usize>C << 2; // bytes per pixel
  const row = <usize>W * pix;
  let y = out;
  for (let n = 0; n < N; n++) {
    const xn = inp + <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PH;
      const kh0 = first_tap(ih0, DH), kh1 = end_tap(ih0, DH, KH, H);
      for (let ow = 0; ow < OW; ow++, y += pix) {
        const iw0 = ow * SW - PW;
        const kw0 = first_tap(iw0, DW), kw1 = end_tap(iw0, DW, KW, W);
        const x0 = xn + <usize>(ih0 + kh0 * DH) * row + <usize>(iw0 + kw0 * DW) * pix;
        max_window(y, x0, max<i32>(0, kh1 - kh0), max<i32>(0, kw1 - kw0), <usize>DH * row, <usize>DW * pix, C);
      }
    }
  }
}

/**
 * inp[N, H, W, C] -> out[N, OH, OW, C]: PyTorch avg_pool2d
 * (https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html) with count_include_pad (0/1) and
 * divisor_override (divisor > 0). A window with no input cell (impossible for PyTorch-valid shapes) gives 0.
 */
export function avgpool2d_nhwc(out: usize, inp: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, count_include_pad: i32, divisor: i32): void {
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  let y = out;
  for (let n = 0; n < N; n++) {
    const xn = inp + <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      let h0 = oh * SH - PH;
      let h1 = min<i32>(h0 + KH, H + PH);
      const ph = h1 - h0; // rows of the window inside the padded input
      h0 = max<i32>(h0, 0);
      h1 = min<i32>(h1, H);
      const nh = max<i32>(0, h1 - h0);
      for (let ow = 0; ow < OW; ow++, y += pix) {
        let w0 = ow * SW - PW;
        let w1 = min<i32>(w0 + KW, W + PW);
        const pw = w1 - w0;
        w0 = max<i32>(w0, 0);
        w1 = min<i32>(w1, W);
        const nw = max<i32>(0, w1 - w0);
        let div = divisor > 0 ? divisor : count_include_pad ? ph * pw : nh * nw;
        const empty = nh == 0 || nw == 0;
        if (empty || div <= 0) div = 1; // an empty window gives 0 / 1 = 0, never 0/0
        avg_window(y, xn + <usize>h0 * row + <usize>w0 * pix, empty ? 0 : nh, nw, row, pix, C, <f32>div);
      }
    }
  }
}

/** inp[N, H, W, C] -> out[N, OH, OW, C]: PyTorch adaptive_avg_pool2d, windows [floor(i*H/OH), ceil((i+1)*H/OH)). */
export function adaptive_avgpool2d_nhwc(out: usize, inp: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32): void {
  adaptive_pool(out, inp, N, H, W, C, OH, OW, false);
}

/** inp[N, H, W, C] -> out[N, OH, OW, C]: PyTorch adaptive_max_pool2d (values only), same windows as the average. */
export function adaptive_maxpool2d_nhwc(out: usize, inp: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32): void {
  adaptive_pool(out, inp, N, H, W, C, OH, OW, true);
}

/** The adaptive windows, shared by the average and the max. */
function adaptive_pool(out: usize, inp: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, isMax: bool): void {
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  let y = out;
  for (let n = 0; n < N; n++) {
    const xn = inp + <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (let ow = 0; ow < OW; ow++, y += pix) {
        const w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        const x = xn + <usize>h0 * row + <usize>w0 * pix;
        if (isMax) max_window(y, x, h1 - h0, w1 - w0, row, pix, C);
        else avg_window(y, x, h1 - h0, w1 - w0, row, pix, C, <f32>((h1 - h0) * (w1 - w0)));
      }
    }
  }
}
