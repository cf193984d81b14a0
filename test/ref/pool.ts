/**
 * Scalar f64 oracles for the pooling kernels (assembly/pool.ts), written from PyTorch's documented
 * semantics, independent of the kernels. Layout: NHWC (pixels x channels), like the kernels; the PyTorch
 * fixtures (test/golden/pool/) are NCHW and are transposed by the test.
 *
 * - max_pool2d: https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html (implicit -inf padding)
 * - avg_pool2d: https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html; the divisor follows
 *   aten/src/ATen/native/cpu/AvgPoolKernel.cpp: pool_size is taken BEFORE clipping the window to the input
 *   but after clipping it to the padded input (so ceil_mode windows that run past the right padding count
 *   fewer cells), count_include_pad=false divides by the clipped count, divisor_override wins.
 * - adaptive pools: window i = [floor(i*H/OH), ceil((i+1)*H/OH)).
 */

/** PyTorch's pooling_output_shape (aten/src/ATen/native/Pool.h), incl. ceil_mode's last-window rule. */
export function poolOutSize(inp: number, k: number, pad: number, stride: number, dilation: number, ceil: boolean): number {
  const num = inp + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0);
  let out = Math.floor(num / stride) + 1;
  // a ceil_mode window must start inside the input or the left padding
  if (ceil && (out - 1) * stride >= inp + pad) out--;
  return out;
}

export interface PoolDims {
  N: number; H: number; W: number; C: number; OH: number; OW: number;
  KH: number; KW: number; SH: number; SW: number; PH: number; PW: number;
}

/** inp [N,H,W,C] -> out [N,OH,OW,C]: max over the in-bounds taps (padding never wins). */
export function maxpool2dRef(inp: ArrayLike<number>, d: PoolDims & { DH: number; DW: number }): Float64Array {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW } = d;
  const out = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
    let m = -Infinity;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - PH + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW - PW + kw * DW;
        if (iw < 0 || iw >= W) continue;
        const v = inp[((n * H + ih) * W + iw) * C + c];
        if (v > m || Number.isNaN(v)) m = v;
      }
    }
    out[((n * OH + oh) * OW + ow) * C + c] = m;
  }
  return out;
}

/**
 * avg_pool2d's window for output (oh, ow), clipped to the input, and its divisor: PyTorch takes the pool size
 * before clipping (windows may run into the right padding with ceil_mode), the clipped count without
 * count_include_pad, or the override.
 */
export function avgWindow(oh: number, ow: number, d: PoolDims, countIncludePad: boolean, divisor: number) {
  const { H, W, KH, KW, SH, SW, PH, PW } = d;
  let h0 = oh * SH - PH, w0 = ow * SW - PW;
  let h1 = Math.min(h0 + KH, H + PH), w1 = Math.min(w0 + KW, W + PW);
  const poolSize = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0); w0 = Math.max(w0, 0);
  h1 = Math.min(h1, H); w1 = Math.min(w1, W);
  const count = Math.max(0, h1 - h0) * Math.max(0, w1 - w0);
  return { h0, h1, w0, w1, count, div: divisor > 0 ? divisor : countIncludePad ? poolSize : count };
}

/** inp [N,H,W,C] -> out [N,OH,OW,C], PyTorch avg_pool2d; divisor 0 = no override. */
export function avgpool2dRef(inp: ArrayLike<number>, d: PoolDims, countIncludePad: boolean, divisor = 0): Float64Array {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW } = d;
  const out = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const { h0, h1, w0, w1, count, div } = avgWindow(oh, ow, d, countIncludePad, divisor);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += inp[((n * H + ih) * W + iw) * C + c];
      out[((n * OH + oh) * OW + ow) * C + c] = count === 0 ? 0 : s / div;
    }
  }
  return out;
}

/** [start, end) of adaptive window i of `out` windows over `inp` cells. */
export function adaptiveWindow(i: number, inp: number, out: number): [number, number] {
  return [Math.floor((i * inp) / out), Math.ceil(((i + 1) * inp) / out)];
}

/** inp [N,H,W,C] -> out [N,OH,OW,C], adaptive average or max pooling. */
export function adaptivePool2dRef(inp: ArrayLike<number>, N: number, H: number, W: number, C: number, OH: number, OW: number, mode: 'avg' | 'max'): Float64Array {
  const out = new Float64Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const [h0, h1] = adaptiveWindow(oh, H, OH);
    const [w0, w1] = adaptiveWindow(ow, W, OW);
    for (let c = 0; c < C; c++) {
      let s = 0, m = -Infinity;
      for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) {
        const v = inp[((n * H + ih) * W + iw) * C + c];
        s += v;
        if (v > m || Number.isNaN(v)) m = v;
      }
      out[((n * OH + oh) * OW + ow) * C + c] = mode === 'max' ? m : s / ((h1 - h0) * (w1 - w0));
    }
  }
  return out;
}

/** The PyTorch fixtures' input (tools/gen_pool_fixtures.py): x[i] = ((i*37 + 11) % 29 - 14) / 8 over the flat NCHW index. */
export function goldenInput(N: number, C: number, H: number, W: number): Float32Array {
  const x = new Float32Array(N * C * H * W);
  for (let i = 0; i < x.length; i++) x[i] = (((i * 37 + 11) % 29) - 14) / 8;
  return x;
}
