/**
 * Scalar oracle for conv2d (assembly/conv2d.ts): PyTorch `torch.nn.functional.conv2d` semantics
 * (https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html) computed directly on NHWC tensors,
 * with PyTorch OIHW weights [OC, C/groups, KH, KW]. Plain loops, f64 accumulation, no im2col, no packing,
 * so it shares nothing with the kernel but the definition.
 *
 *   out[n, oh, ow, oc] = act( sum_{ic, kh, kw} inp[n, ih, iw, g*ICg + ic] * w[oc, ic, kh, kw] + bias[oc] )
 *   g = floor(oc / OCg), ih = oh*SH - PH + kh*DH, iw = ow*SW - PW + kw*DW, zero outside the input.
 * Output is compact NHWC [N, OH, OW, OC] (the test maps it onto out_ps itself).
 */
import { actRef } from './gemm.js';

export interface ConvShape {
  N: number; H: number; W: number; C: number; OC: number;
  KH: number; KW: number; SH: number; SW: number; PH: number; PW: number; DH: number; DW: number;
  groups: number;
}

/** PyTorch's output size: floor((H + 2P - D*(K-1) - 1) / S) + 1. */
export function convOutSize(s: ConvShape): { OH: number; OW: number } {
  return {
    OH: Math.floor((s.H + 2 * s.PH - s.DH * (s.KH - 1) - 1) / s.SH) + 1,
    OW: Math.floor((s.W + 2 * s.PW - s.DW * (s.KW - 1) - 1) / s.SW) + 1,
  };
}

export function conv2dRef(s: ConvShape, inp: ArrayLike<number>, w: ArrayLike<number>,
  bias?: ArrayLike<number>, act = 0): Float64Array {
  const { N, H, W, C, OC, KH, KW, SH, SW, PH, PW, DH, DW, groups } = s;
  const { OH, OW } = convOutSize(s);
  const ICg = C / groups, OCg = OC / groups;
  const out = new Float64Array(N * OH * OW * OC);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let oc = 0; oc < OC; oc++) {
          const g = Math.floor(oc / OCg);
          let acc = bias ? bias[oc] : 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - PH + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - PW + kw * DW;
              if (iw < 0 || iw >= W) continue;
              for (let ic = 0; ic < ICg; ic++) {
                acc += inp[((n * H + ih) * W + iw) * C + g * ICg + ic] * w[((oc * ICg + ic) * KH + kh) * KW + kw];
              }
            }
          }
          out[((n * OH + oh) * OW + ow) * OC + oc] = actRef(acc, act);
        }
  return out;
}
