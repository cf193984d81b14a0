/**
 * f64 reference backward passes for the training kernels (assembly/*_backward.ts), written from the definitions,
 * sharing nothing with the kernels (no im2col, no packing, no blocking). Each is checked against central
 * finite differences of the f64 FORWARD references (test/ref/conv2d.ts, pool.ts, and batchnormTrainRef
 * here) in test/kernels/backward.test.ts, so a wrong reference cannot hide a wrong kernel.
 * Layouts as the kernels: NHWC (P pixels x C channels), conv weights PyTorch OIHW [OC, C/groups, KH, KW].
 */
import { convOutSize, type ConvShape } from './conv2d.js';
import type { PoolDims } from './pool.js';
import { adaptiveWindow, avgWindow } from './pool.js';

/** dx [N,H,W,C] and dw [OC,ICg,KH,KW] of out = conv(x, w) for the upstream gradient dy [N,OH,OW,OC]. */
export function conv2dBackwardRef(s: ConvShape, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>): { dx: Float64Array; dw: Float64Array } {
  const { N, H, W, C, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups } = s;
  const { OH, OW } = convOutSize(s);
  const ICg = C / groups, OCg = OC / groups;
  const dx = new Float64Array(N * H * W * C);
  const dw = new Float64Array(OC * ICg * KH * KW);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let oc = 0; oc < OC; oc++) {
    const g = Math.floor(oc / OCg);
    const d = dy[((n * OH + oh) * OW + ow) * OC + oc];
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - PH + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW - PW + kw * DW;
        if (iw < 0 || iw >= W) continue;
        for (let ic = 0; ic < ICg; ic++) {
          const xi = ((n * H + ih) * W + iw) * C + g * ICg + ic;
          const wi = ((oc * ICg + ic) * KH + kh) * KW + kw;
          dx[xi] += d * w[wi];
          dw[wi] += d * x[xi];
        }
      }
    }
  }
  return { dx, dw };
}

/** db[n] = sum_m dy[m, n]. */
export function biasGradRef(dy: ArrayLike<number>, M: number, N: number): Float64Array {
  const db = new Float64Array(N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) db[n] += dy[m * N + n];
  return db;
}

/**
 * max_pool2d backward with PyTorch's CPU argmax (aten/src/ATen/native/cpu/MaxPoolKernel.cpp): scan the
 * in-bounds taps kh-major, start from max = -inf at the first in-bounds tap, take a tap when
 * `v > max || isnan(v)`. The whole dy of the window goes to that tap.
 */
export function maxpool2dBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, d: PoolDims & { DH: number; DW: number }): Float64Array {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW } = d;
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
    let m = -Infinity, best = -1;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - PH + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW - PW + kw * DW;
        if (iw < 0 || iw >= W) continue;
        const i = ((n * H + ih) * W + iw) * C + c;
        if (best < 0) best = i;
        const v = x[i];
        if (v > m || Number.isNaN(v)) { m = v; best = i; }
      }
    }
    if (best >= 0) dx[best] += dy[((n * OH + oh) * OW + ow) * C + c];
  }
  return dx;
}

/** avg_pool2d backward: dy / divisor (forward's rules, test/ref/pool.ts) to each in-input cell of the window. */
export function avgpool2dBackwardRef(dy: ArrayLike<number>, d: PoolDims, countIncludePad: boolean, divisor = 0): Float64Array {
  const { N, H, W, C, OH, OW, KH, KW, SH, SW, PH, PW } = d;
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const { h0, h1, w0, w1, count, div } = avgWindow(oh, ow, d, countIncludePad, divisor);
    if (count === 0) continue;
    for (let c = 0; c < C; c++) {
      const g = dy[((n * OH + oh) * OW + ow) * C + c] / div;
      for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[((n * H + ih) * W + iw) * C + c] += g;
    }
  }
  return dx;
}

/** adaptive avg / max pool backward (max: same argmax rule as maxpool2dBackwardRef over the adaptive window). */
export function adaptivePool2dBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, N: number, H: number, W: number, C: number,
  OH: number, OW: number, mode: 'avg' | 'max'): Float64Array {
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const [h0, h1] = adaptiveWindow(oh, H, OH);
    const [w0, w1] = adaptiveWindow(ow, W, OW);
    for (let c = 0; c < C; c++) {
      const g = dy[((n * OH + oh) * OW + ow) * C + c];
      if (mode === 'avg') {
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[((n * H + ih) * W + iw) * C + c] += g / ((h1 - h0) * (w1 - w0));
      } else {
        let m = -Infinity, best = -1;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) {
          const i = ((n * H + ih) * W + iw) * C + c;
          if (best < 0) best = i;
          if (x[i] > m || Number.isNaN(x[i])) { m = x[i]; best = i; }
        }
        dx[best] += g;
      }
    }
  }
  return dx;
}

/** act'(x) expressed through y = act(x): relu (y>0), tanh 1-y², sigmoid y(1-y); codes as kernels.ts Act. */
export function actBackwardRef(dy: ArrayLike<number>, y: ArrayLike<number>, act: number): Float64Array {
  const dx = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) {
    const v = y[i];
    dx[i] = act === 1 ? (v > 0 ? dy[i] : 0) : act === 2 ? dy[i] * (1 - v * v) : act === 3 ? dy[i] * v * (1 - v) : dy[i];
  }
  return dx;
}

/** Batch mean and biased variance per channel of x [P, C] (two-pass, f64). */
export function batchnormStatsRef(x: ArrayLike<number>, P: number, C: number): { mean: Float64Array; var: Float64Array } {
  const mean = new Float64Array(C), vr = new Float64Array(C);
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) mean[c] += x[p * C + c];
  for (let c = 0; c < C; c++) mean[c] /= P;
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) { const d = x[p * C + c] - mean[c]; vr[c] += d * d; }
  for (let c = 0; c < C; c++) vr[c] /= P;
  return { mean, var: vr };
}

/** Training-mode BatchNorm forward (torch.nn.functional.batch_norm, training=True): batch statistics, biased var. */
export function batchnormTrainRef(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number, P: number, C: number): Float64Array {
  const { mean, var: vr } = batchnormStatsRef(x, P, C);
  const y = new Float64Array(P * C);
  for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) {
    y[p * C + c] = gamma[c] * (x[p * C + c] - mean[c]) / Math.sqrt(vr[c] + eps) + beta[c];
  }
  return y;
}

/** Training-mode BatchNorm backward, the standard formula (Ioffe & Szegedy 2015, eq. in sec. 3). */
export function batchnormBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, eps: number, P: number, C: number):
  { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const { mean, var: vr } = batchnormStatsRef(x, P, C);
  const dx = new Float64Array(P * C), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(vr[c] + eps);
    let sdy = 0, sdyx = 0;
    for (let p = 0; p < P; p++) { const xh = (x[p * C + c] - mean[c]) * inv; sdy += dy[p * C + c]; sdyx += dy[p * C + c] * xh; }
    dbeta[c] = sdy; dgamma[c] = sdyx;
    for (let p = 0; p < P; p++) {
      const xh = (x[p * C + c] - mean[c]) * inv;
      dx[p * C + c] = gamma[c] * inv * (dy[p * C + c] - sdy / P - xh * sdyx / P);
    }
  }
  return { dx, dgamma, dbeta };
}

const M64 = (1n << 64n) - 1n;
/** The dropout mask of assembly/random.ts (splitmix64 of seed + (i+1)*golden), in BigInt. */
export function dropoutMaskRef(n: number, p: number, seedLo: number, seedHi: number): Float32Array {
  const seed = (BigInt(seedHi >>> 0) << 32n) | BigInt(seedLo >>> 0);
  const out = new Float32Array(n);
  const pf = Math.fround(p);
  if (pf >= 1) return out;
  const keep = Math.fround(1 / (1 - pf));
  for (let i = 0; i < n; i++) {
    let z = (seed + BigInt(i + 1) * 0x9E3779B97F4A7C15n) & M64;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M64;
    z ^= z >> 31n;
    const u = Number(z >> 40n) / 16777216;
    out[i] = u >= pf ? keep : 0;
  }
  return out;
}

/** Embedding backward: dw[ids[i]] += dy[i] unless ids[i] == paddingIdx. */
export function embeddingBackwardRef(dw0: ArrayLike<number>, ids: ArrayLike<number>, dy: ArrayLike<number>, dim: number, paddingIdx: number): Float64Array {
  const dw = Float64Array.from(dw0);
  for (let r = 0; r < ids.length; r++) {
    if (ids[r] === paddingIdx) continue;
    for (let j = 0; j < dim; j++) dw[ids[r] * dim + j] += dy[r * dim + j];
  }
  return dw;
}

/**
 * Central finite differences of a scalar f64 function at the given coordinates of x (x is restored).
 * Returns (f(x + e_i h) - f(x - e_i h)) / 2h for each index.
 */
export function finiteDiff(f: (x: Float64Array) => number, x: Float64Array, idx: number[], h = 1e-3): Float64Array {
  const out = new Float64Array(idx.length);
  idx.forEach((i, k) => {
    const v = x[i];
    x[i] = v + h; const fp = f(x);
    x[i] = v - h; const fm = f(x);
    x[i] = v;
    out[k] = (fp - fm) / (2 * h);
  });
  return out;
}

/** sum a·b in f64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** `count` distinct-ish indices in [0, n) (deterministic), always including 0 and n-1. */
export function sampleIndices(n: number, count: number, r: () => number): number[] {
  const out = new Set<number>([0, n - 1]);
  while (out.size < Math.min(n, count)) out.add(Math.floor(r() * n));
  return [...out];
}
