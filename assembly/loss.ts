// Loss functions for training: each returns the loss L (f64) and writes dL/d(input) (f32).
// Caller: the training graph (fit / evaluate) through src/runtime/kernels.ts.
//
// Convention for all: L = scale * sum over elements (or rows) of the per-element loss, so the returned value
// and the written gradient agree (grad = dL/dx exactly). scale = 1/batch (or 1/n) gives PyTorch's
// reduction='mean', scale = 1 'sum'. A gradient pointer of 0 computes the loss only.
// Losses are summed in f64; exp/log per element use the f32 kernels (assembly/activation.ts, relative error
// <= 2e-7) plus f64 logs where it matters (one per row for cross-entropy).
// Memory: byte pointers, element counts; labels are i32.
import { exp_f32, exp_f32x4 } from './activation';
import { lds, sts } from './ptr';

/**
 * Cross-entropy on logits [rows, cols] with class labels [rows] (i32), PyTorch F.cross_entropy:
 *   L = scale * sum_r (logsumexp(x_r) - x_r[label_r]);  dlogits = (softmax(x_r) - onehot(label_r)) * scale.
 * A label outside [0, cols) (e.g. ignore_index -100) contributes no loss and a zero gradient row: for the mean
 * over the kept rows pass scale = 1/kept. Stable (x - rowmax), so logits of +-100 or more are fine.
 * dlogits may be logits (in place).
 */
export function softmax_cross_entropy(dlogits: usize, logits: usize, labels: usize, rows: i32, cols: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const x = logits + (<usize>r * <usize>cols << 2);
    const d = dlogits != 0 ? dlogits + (<usize>r * <usize>cols << 2) : 0;
    const lab = load<i32>(labels + (<usize>r << 2));
    if (lab < 0 || lab >= cols) {
      if (d != 0) memory.fill(d, 0, <usize>cols << 2);
      continue;
    }
    let m: f32 = -Infinity;
    for (let j = 0; j < cols; j++) m = max<f32>(m, lds(x, j));
    let s: f64 = 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m);
      let sv = f32x4.splat(0);
      for (; j + 4 <= cols; j += 4) sv = f32x4.add(sv, exp_f32x4(f32x4.sub(v128.load(x + (<usize>j << 2)), mv)));
      s = <f64>f32x4.extract_lane(sv, 0) + <f64>f32x4.extract_lane(sv, 1) + <f64>f32x4.extract_lane(sv, 2) + <f64>f32x4.extract_lane(sv, 3);
    }
    for (; j < cols; j++) s += <f64>exp_f32(lds(x, j) - m);
    const xl = lds(x, lab);
    total += (<f64>m + Math.log(s)) - <f64>xl;
    if (d != 0) {
      const k: f32 = <f32>(<f64>scale / s);
      j = 0;
      if (ASC_FEATURE_SIMD) {
        const mv = f32x4.splat(m), kv = f32x4.splat(k);
        for (; j + 4 <= cols; j += 4) {
          const o = <usize>j << 2;
          v128.store(d + o, f32x4.mul(exp_f32x4(f32x4.sub(v128.load(x + o), mv)), kv));
        }
      }
      for (; j < cols; j++) sts(d, j, exp_f32(lds(x, j) - m) * k);
      sts(d, lab, lds(d, lab) - scale);
    }
  }
  return total * <f64>scale;
}

/** MSE: L = scale * sum (pred - target)²; dpred = 2*scale*(pred - target). dpred may be pred or target. */
export function mse_loss(dpred: usize, pred: usize, target: usize, n: i32, scale: f32): f64 {
  let total: f64 = 0;
  const k: f32 = 2 * scale;
  for (let i = 0; i < n; i++) {
    const d = lds(pred, i) - lds(target, i);
    total += <f64>d * <f64>d;
    if (dpred != 0) sts(dpred, i, k * d);
  }
  return total * <f64>scale;
}

/**
 * BCE on logits (PyTorch BCEWithLogitsLoss, no weights): per element max(x,0) - x*t + log(1 + exp(-|x|));
 * L = scale * sum; dx = (sigmoid(x) - t) * scale. Stable for any x (exp(-|x|) <= 1). dx may be x or target.
 */
export function bce_with_logits(dx: usize, x: usize, target: usize, n: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = lds(x, i), t = lds(target, i);
    const e = exp_f32(-abs<f32>(v)); // in (0, 1]
    total += <f64>max<f32>(v, 0) - <f64>v * <f64>t + Math.log1p(<f64>e);
    if (dx != 0) {
      const sig: f32 = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      sts(dx, i, (sig - t) * scale);
    }
  }
  return total * <f64>scale;
}

/**
 * KL(N(mu, exp(logvar)) || N(0, 1)) of a VAE: L = scale * -0.5 * sum (1 + logvar - mu² - exp(logvar)).
 * Gradients ACCUMULATE (the reparameterisation path also feeds mu/logvar): dmu += scale*mu,
 * dlogvar += 0.5*scale*(exp(logvar) - 1). dmu / dlogvar may be 0 (skipped).
 */
export function kl_normal(dmu: usize, dlogvar: usize, mu: usize, logvar: usize, n: i32, scale: f32): f64 {
  let total: f64 = 0;
  const h: f32 = 0.5 * scale;
  for (let i = 0; i < n; i++) {
    const m = lds(mu, i), lv = lds(logvar, i);
    const e = Mathf.exp(lv);
    total += 1 + <f64>lv - <f64>m * <f64>m - <f64>e;
    if (dmu != 0) sts(dmu, i, lds(dmu, i) + scale * m);
    if (dlogvar != 0) sts(dlogvar, i, lds(dlogvar, i) + h * (e - 1));
  }
  return -0.5 * total * <f64>scale;
}
