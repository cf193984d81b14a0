/**
 * The training kernels as the facade calls them. Until every one of them is in src/runtime/kernels.ts
 * (assembly/backward.ts, loss.ts, optim.ts), this interface states the expected signatures; `trainKernels`
 * gives the runtime's kernels with that type.
 */
import type { Kernels } from '../runtime/kernels.js';
import type { Runtime } from '../runtime/runtime.js';

export interface TrainingKernels {
  act_backward(dx: number, dy: number, y: number, n: number, act: number): void;
  bias_grad(db: number, dy: number, M: number, N: number, flags: number): void;
  conv2d_backward_scratch_size(N: number, H: number, W: number, C: number, OH: number, OW: number, OC: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number, groups: number): number;
  conv2d_backward_data(dx: number, dy: number, w: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    OC: number, KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number,
    groups: number, scratch: number): void;
  conv2d_backward_weight(dw: number, x: number, dy: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    OC: number, KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number,
    groups: number, flags: number, scratch: number): void;
  maxpool2d_backward_nhwc(dx: number, dy: number, x: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number): void;
  avgpool2d_backward_nhwc(dx: number, dy: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, count_include_pad: number, divisor: number): void;
  adaptive_avgpool2d_backward_nhwc(dx: number, dy: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;
  batchnorm_stats(mean: number, variance: number, x: number, P: number, C: number): void;
  batchnorm_backward(dx: number, dgamma: number, dbeta: number, dy: number, x: number, mean: number, variance: number,
    gamma: number, eps: number, P: number, C: number, flags: number): void;
  dropout_mask(mask: number, n: number, p: number, seed_lo: number, seed_hi: number): void;
  mul(out: number, a: number, b: number, n: number): void;
  softmax_cross_entropy(dlogits: number, logits: number, labels: number, rows: number, cols: number, scale: number): number;
  mse_loss(dpred: number, pred: number, target: number, n: number, scale: number): number;
  bce_with_logits(dx: number, x: number, target: number, n: number, scale: number): number;
  kl_normal(dmu: number, dlogvar: number, mu: number, logvar: number, n: number, scale: number): number;
  sgd_step(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weight_decay: number, nesterov: number, first_step: number): void;
  adam_step(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weight_decay: number, adamw: number, step: number): void;
  sum_squares(x: number, n: number): number;
  scale_inplace(x: number, n: number, s: number): void;
}

export type AllKernels = Kernels & TrainingKernels;

export function trainKernels(rt: Runtime): AllKernels {
  return rt.k as AllKernels;
}
