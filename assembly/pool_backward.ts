// Pooling backward over NHWC (pool.ts is the forward; same window rules, same caller-side OH/OW).
// dx [N, H, W, C] is overwritten (zeroed, then every window adds its share), dy [N, OH, OW, C], x the
// forward input (max pools re-find the argmax, so no index tensor is kept between forward and backward).
//
// Max: the gradient goes to ONE tap per window and channel, the one PyTorch's CPU kernel records
// (aten/src/ATen/native/cpu/MaxPoolKernel.cpp): taps scanned kh-major then kw, starting at the first tap
// inside the input with max = -inf, index = that tap, updated when `val > max || isnan(val)`. So: the first
// maximum, or the LAST NaN if any; a window of only -inf gives its first in-bounds tap. Overlapping windows
// add up. Vector path: 4 channels at a time, per-lane max and tap offset (bitselect), then a scalar add per
// lane (the chosen taps differ per channel).
// Avg: each cell of a window gets dy / divisor, divisor as in the forward (count_include_pad, override).
// Adaptive: windows [floor(i*H/OH), ceil((i+1)*H/OH)), dy / window size.

@inline function first_tap(i0: i32, D: i32): i32 {
  return i0 >= 0 ? 0 : (-i0 + D - 1) / D;
}
@inline function end_tap(i0: i32, D: i32, K: i32, L: i32): i32 {
  return L - i0 <= 0 ? 0 : min<i32>(K, (L - i0 + D - 1) / D);
}

/** Zero n floats. */
@inline function zero(p: usize, n: usize): void {
  memory.fill(p, 0, n << 2);
}

/**
 * One output pixel: for each channel find the PyTorch argmax over the nh x nw taps at x0 (byte steps rstep,
 * cstep) and add g[c] at the same offset from d0 (dx has x's layout).
 */
@inline function max_bw_window(d0: usize, g: usize, x0: usize, nh: i32, nw: i32, rstep: usize, cstep: usize, C: i32): void {
  if (nh <= 0 || nw <= 0) return;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= C; c += 4) {
      const co = <usize>c << 2;
      let m = f32x4.splat(-Infinity);
      let idx = i32x4.splat(0);
      for (let i = 0; i < nh; i++) {
        for (let j = 0; j < nw; j++) {
          const off = <usize>i * rstep + <usize>j * cstep;
          const v = v128.load(x0 + off + co);
          const upd = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
          m = v128.bitselect(v, m, upd);
          idx = v128.bitselect(i32x4.splat(<i32>off), idx, upd);
        }
      }
      const p0 = d0 + co + <usize>i32x4.extract_lane(idx, 0);
      store<f32>(p0, load<f32>(p0) + load<f32>(g + co));
      const p1 = d0 + co + 4 + <usize>i32x4.extract_lane(idx, 1);
      store<f32>(p1, load<f32>(p1) + load<f32>(g + co, 4));
      const p2 = d0 + co + 8 + <usize>i32x4.extract_lane(idx, 2);
      store<f32>(p2, load<f32>(p2) + load<f32>(g + co, 8));
      const p3 = d0 + co + 12 + <usize>i32x4.extract_lane(idx, 3);
      store<f32>(p3, load<f32>(p3) + load<f32>(g + co, 12));
    }
  }
  for (; c < C; c++) {
    const co = <usize>c << 2;
    let m: f32 = -Infinity;
    let best: usize = 0;
    for (let i = 0; i < nh; i++) {
      for (let j = 0; j < nw; j++) {
        const off = <usize>i * rstep + <usize>j * cstep;
        const v = load<f32>(x0 + off + co);
        if (v > m || v != v) { m = v; best = off; }
      }
    }
    const p = d0 + co + best;
    store<f32>(p, load<f32>(p) + load<f32>(g + co));
  }
}

/** dx[window cells, c] += g[c] / div over nh x nw cells at d0 (byte steps rstep, cstep); a division, as PyTorch. */
@inline function spread_window(d0: usize, g: usize, nh: i32, nw: i32, rstep: usize, cstep: usize, C: i32, div: f32): void {
  if (nh <= 0 || nw <= 0) return;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(div);
    for (; c + 4 <= C; c += 4) {
      const co = <usize>c << 2;
      const gv = f32x4.div(v128.load(g + co), sv);
      let dr = d0 + co;
      for (let i = 0; i < nh; i++, dr += rstep) {
        let d = dr;
        for (let j = 0; j < nw; j++, d += cstep) v128.store(d, f32x4.add(v128.load(d), gv));
      }
    }
  }
  for (; c < C; c++) {
    const co = <usize>c << 2;
    const gs = load<f32>(g + co) / div;
    let dr = d0 + co;
    for (let i = 0; i < nh; i++, dr += rstep) {
      let d = dr;
      for (let j = 0; j < nw; j++, d += cstep) store<f32>(d, load<f32>(d) + gs);
    }
  }
}

/**
 * dx [N,H,W,C] (overwritten) from dy [N,OH,OW,C] and the forward input x: max_pool2d backward, PyTorch's
 * argmax choice (see header). dx must not overlap dy or x.
 */
export function maxpool2d_backward_nhwc(dx: usize, dy: usize, x: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32): void {
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  zero(dx, <usize>N * <usize>H * <usize>W * <usize>C);
  let g = dy;
  for (let n = 0; n < N; n++) {
    const img = <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - PH;
      const kh0 = first_tap(ih0, DH), kh1 = end_tap(ih0, DH, KH, H);
      for (let ow = 0; ow < OW; ow++, g += pix) {
        const iw0 = ow * SW - PW;
        const kw0 = first_tap(iw0, DW), kw1 = end_tap(iw0, DW, KW, W);
        const off = img + <usize>(ih0 + kh0 * DH) * row + <usize>(iw0 + kw0 * DW) * pix;
        max_bw_window(dx + off, g, x + off, kh1 - kh0, kw1 - kw0, <usize>DH * row, <usize>DW * pix, C);
      }
    }
  }
}

/** adaptive_max_pool2d backward (same argmax rule, adaptive windows). dx overwritten. */
export function adaptive_maxpool2d_backward_nhwc(dx: usize, dy: usize, x: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32): void {
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  zero(dx, <usize>N * <usize>H * <usize>W * <usize>C);
  let g = dy;
  for (let n = 0; n < N; n++) {
    const img = <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (let ow = 0; ow < OW; ow++, g += pix) {
        const w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        const off = img + <usize>h0 * row + <usize>w0 * pix;
        max_bw_window(dx + off, g, x + off, h1 - h0, w1 - w0, row, pix, C);
      }
    }
  }
}

/** avg_pool2d backward: each in-input cell of a window gets dy / divisor (forward's divisor rules). dx overwritten. */
export function avgpool2d_backward_nhwc(dx: usize, dy: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32, count_include_pad: i32, divisor: i32): void {
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  zero(dx, <usize>N * <usize>H * <usize>W * <usize>C);
  let g = dy;
  for (let n = 0; n < N; n++) {
    const img = dx + <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      let h0 = oh * SH - PH;
      let h1 = min<i32>(h0 + KH, H + PH);
      const ph = h1 - h0;
      h0 = max<i32>(h0, 0);
      h1 = min<i32>(h1, H);
      const nh = h1 - h0;
      for (let ow = 0; ow < OW; ow++, g += pix) {
        let w0 = ow * SW - PW;
        let w1 = min<i32>(w0 + KW, W + PW);
        const pw = w1 - w0;
        w0 = max<i32>(w0, 0);
        w1 = min<i32>(w1, W);
        const nw = w1 - w0;
        if (nh <= 0 || nw <= 0) continue;
        const div = divisor > 0 ? divisor : count_include_pad ? ph * pw : nh * nw;
        spread_window(img + <usize>h0 * row + <usize>w0 * pix, g, nh, nw, row, pix, C, <f32>div);
      }
    }
  }
}

/** adaptive_avg_pool2d backward: dy / window size to every cell of the window. dx overwritten. */
export function adaptive_avgpool2d_backward_nhwc(dx: usize, dy: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32): void {
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  zero(dx, <usize>N * <usize>H * <usize>W * <usize>C);
  let g = dy;
  for (let n = 0; n < N; n++) {
    const img = dx + <usize>n * <usize>H * row;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * H / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
      for (let ow = 0; ow < OW; ow++, g += pix) {
        const w0 = ow * W / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
        spread_window(img + <usize>h0 * row + <usize>w0 * pix, g, h1 - h0, w1 - w0, row, pix, C,
          <f32>((h1 - h0) * (w1 - w0)));
      }
    }
  }
}
