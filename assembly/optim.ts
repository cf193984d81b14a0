// Optimizer steps over a flat f32 parameter buffer (all parameters of a model back to back, or one tensor):
// elementwise, f32x4 with scalar tails. Hyper-parameters come as f64 (JS numbers) and the per-step scalars
// (bias corrections, step size) are computed in f64, as PyTorch computes them in Python, then rounded to f32.
// Caller: the optimizer wrappers (SGD, Adam, AdamW) and clip_grad_norm_ of the facade.
// Semantics: torch.optim.SGD / Adam / AdamW (https://pytorch.org/docs/stable/optim.html), single-tensor form,
// in the same operation order (each tensor op rounds to f32 there too; only fusing differs).
import { lds, ldv, sts, stv } from './ptr';

/**
 * torch.optim.SGD step: d = g + wd*p; if momentum != 0: buf = first_step ? d : momentum*buf + (1-dampening)*d,
 * d = nesterov ? d + momentum*buf : buf; p -= lr*d. g is not modified; buf may be 0 when momentum == 0.
 */
export function sgd_step(p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64, dampening: f64,
  weight_decay: f64, nesterov: i32, first_step: i32): void {
  const wd = <f32>weight_decay, mo = <f32>momentum, damp = <f32>(1 - dampening), nlr = <f32>(-lr);
  const useMom = momentum != 0, first = first_step != 0, nest = nesterov != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const wdv = f32x4.splat(wd), mov = f32x4.splat(mo), dampv = f32x4.splat(damp), lrv = f32x4.splat(nlr);
    for (; i + 4 <= n; i += 4) {
      const pv = ldv(p, i);
      let d = ldv(g, i);
      if (weight_decay != 0) d = f32x4.add(d, f32x4.mul(pv, wdv));
      if (useMom) {
        let b = first ? d : f32x4.add(f32x4.mul(ldv(buf, i), mov), f32x4.mul(d, dampv));
        stv(buf, i, b);
        d = nest ? f32x4.add(d, f32x4.mul(b, mov)) : b;
      }
      stv(p, i, f32x4.add(pv, f32x4.mul(d, lrv)));
    }
  }
  for (; i < n; i++) {
    const pv = lds(p, i);
    let d = lds(g, i);
    if (weight_decay != 0) d = d + pv * wd;
    if (useMom) {
      const b: f32 = first ? d : lds(buf, i) * mo + d * damp;
      sts(buf, i, b);
      d = nest ? d + b * mo : b;
    }
    sts(p, i, pv + d * nlr);
  }
}

/**
 * torch.optim.Adam (adamw = 0) / AdamW (adamw = 1) step number `step` (1-based), amsgrad off:
 *   Adam:  g' = g + wd*p            AdamW: p *= 1 - lr*wd, g' = g
 *   m = beta1*m + (1-beta1)*g';  v = beta2*v + (1-beta2)*g'²
 *   p -= (lr / (1 - beta1^step)) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
 * g is not modified.
 */
export function adam_step(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64,
  eps: f64, weight_decay: f64, adamw: i32, step: i32): void {
  const bc1 = 1 - Math.pow(beta1, <f64>step);
  const bc2 = 1 - Math.pow(beta2, <f64>step);
  const stepSize = <f32>(lr / bc1);
  const bc2s = <f32>Math.sqrt(bc2);
  const b1 = <f32>beta1, b2 = <f32>beta2, c1 = <f32>(1 - beta1), c2 = <f32>(1 - beta2), ep = <f32>eps;
  const decoupled = adamw != 0;
  const wd = <f32>weight_decay;
  const shrink = <f32>(1 - lr * weight_decay);
  const hasWd = weight_decay != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const b1v = f32x4.splat(b1), b2v = f32x4.splat(b2), c1v = f32x4.splat(c1), c2v = f32x4.splat(c2);
    const epv = f32x4.splat(ep), bc2v = f32x4.splat(bc2s), ssv = f32x4.splat(stepSize);
    const wdv = f32x4.splat(wd), shv = f32x4.splat(shrink);
    for (; i + 4 <= n; i += 4) {
      let pv = ldv(p, i);
      let gv = ldv(g, i);
      if (hasWd) {
        if (decoupled) pv = f32x4.mul(pv, shv);
        else gv = f32x4.add(gv, f32x4.mul(pv, wdv));
      }
      const mv = f32x4.add(f32x4.mul(ldv(m, i), b1v), f32x4.mul(gv, c1v));
      const vv = f32x4.add(f32x4.mul(ldv(v, i), b2v), f32x4.mul(f32x4.mul(gv, gv), c2v));
      stv(m, i, mv);
      stv(v, i, vv);
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), bc2v), epv);
      stv(p, i, f32x4.sub(pv, f32x4.mul(ssv, f32x4.div(mv, denom))));
    }
  }
  for (; i < n; i++) {
    let pv = lds(p, i);
    let gv = lds(g, i);
    if (hasWd) {
      if (decoupled) pv = pv * shrink;
      else gv = gv + pv * wd;
    }
    const mv = lds(m, i) * b1 + gv * c1;
    const vv = lds(v, i) * b2 + (gv * gv) * c2;
    sts(m, i, mv);
    sts(v, i, vv);
    const denom = Mathf.sqrt(vv) / bc2s + ep;
    sts(p, i, pv - stepSize * (mv / denom));
  }
}

/** sum x² in f64 (blocks of 64 summed in f32x4): the squared norm for clip_grad_norm_. */
export function sum_squares(x: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    while (i + 4 <= n) {
      let s = f32x4.splat(0);
      const end = min(n & ~3, i + 64);
      for (; i < end; i += 4) { const a = ldv(x, i); s = f32x4.add(s, f32x4.mul(a, a)); }
      total += (<f64>f32x4.extract_lane(s, 0) + <f64>f32x4.extract_lane(s, 1)) + (<f64>f32x4.extract_lane(s, 2) + <f64>f32x4.extract_lane(s, 3));
    }
  }
  for (; i < n; i++) { const a = <f64>lds(x, i); total += a * a; }
  return total;
}

/** x[n] *= s (gradient clipping, loss scaling). */
export function scale_inplace(x: usize, n: i32, s: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) stv(x, i, f32x4.mul(ldv(x, i), sv));
  }
  for (; i < n; i++) sts(x, i, lds(x, i) * s);
}
