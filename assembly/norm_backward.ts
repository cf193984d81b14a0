// BatchNorm backward in training mode (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html),
// from the batch statistics of batchnorm_stats (norm.ts). LocalResponseNorm has no backward: the training graph
// does not train it. Caller: the BatchNorm training build (src/nn/layers/norm.ts, its training half) through src/runtime/kernels.ts.
//
// Memory: x, dy, dx [P, C] (NHWC pixels x channels, channels contiguous), per-channel vectors of C floats;
// pointers are byte offsets (4-byte alignment suffices). Sums as described in channel_sum.ts (f32 blocks, f64
// totals); the per-channel coefficients are computed in f64.
import { BLOCK, hi64, join32, lane64, lo64, put } from './channel_sum';
import { lds } from './ptr';

/**
 * Training-mode BatchNorm backward over x [P, C] with the batch mean/var of batchnorm_stats (biased var):
 *   xhat = (x - mean) * invstd, invstd = 1/sqrt(var + eps)
 *   dbeta[c] (+)= sum dy;  dgamma[c] (+)= sum dy * xhat
 *   dx = gamma*invstd * (dy - sum(dy)/P - xhat * sum(dy*xhat)/P)
 * flags bit 0: accumulate into dgamma/dbeta (dx is always overwritten). dgamma or dbeta may be 0 (not
 * wanted). gamma 0 means gamma = 1 (affine=False). dx may be dy (in place).
 */
export function batchnorm_backward(dx: usize, dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize,
  vr: usize, gamma: usize, eps: f32, P: i32, C: i32, flags: i32): void {
  const acc = (flags & 1) != 0;
  const rowb = <usize>C << 2;
  const invP: f64 = 1.0 / <f64>P;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= C; c += 4) {
      const co = <usize>c << 2;
      const mv = v128.load(mean + co);
      let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
      let px = x + co, pd = dy + co;
      for (let m0 = 0; m0 < P; m0 += BLOCK) {
        const mb = min(BLOCK, P - m0);
        let sd = f32x4.splat(0), sx = f32x4.splat(0);
        for (let i = 0; i < mb; i++, px += rowb, pd += rowb) {
          const d = v128.load(pd);
          sd = f32x4.add(sd, d);
          sx = f32x4.add(sx, f32x4.mul(d, f32x4.sub(v128.load(px), mv)));
        }
        a0 = f64x2.add(a0, lo64(sd)); a1 = f64x2.add(a1, hi64(sd));
        b0 = f64x2.add(b0, lo64(sx)); b1 = f64x2.add(b1, hi64(sx));
      }
      // per-channel coefficients in f64: dx = ka*dy + kb*(x - mean) + kc
      const vv = v128.load(vr + co);
      const one = f64x2.splat(1), ev = f64x2.splat(<f64>eps), ip = f64x2.splat(invP);
      const i0 = f64x2.div(one, f64x2.sqrt(f64x2.add(lo64(vv), ev)));
      const i1 = f64x2.div(one, f64x2.sqrt(f64x2.add(hi64(vv), ev)));
      const gv = gamma != 0 ? v128.load(gamma + co) : f32x4.splat(1);
      const ka0 = f64x2.mul(lo64(gv), i0), ka1 = f64x2.mul(hi64(gv), i1);
      for (let j = 0; j < 4; j++) {
        if (dbeta != 0) put(dbeta, c + j, lane64(a0, a1, j), acc);
        if (dgamma != 0) put(dgamma, c + j, lane64(b0, b1, j) * lane64(i0, i1, j), acc);
      }
      const ka = join32(ka0, ka1);
      const kb = join32(f64x2.neg(f64x2.mul(f64x2.mul(f64x2.mul(ka0, f64x2.mul(i0, i0)), b0), ip)),
        f64x2.neg(f64x2.mul(f64x2.mul(f64x2.mul(ka1, f64x2.mul(i1, i1)), b1), ip)));
      const kc = join32(f64x2.neg(f64x2.mul(f64x2.mul(ka0, a0), ip)), f64x2.neg(f64x2.mul(f64x2.mul(ka1, a1), ip)));
      px = x + co; pd = dy + co;
      let po = dx + co;
      for (let i = 0; i < P; i++, px += rowb, pd += rowb, po += rowb) {
        const d = f32x4.sub(v128.load(px), mv);
        v128.store(po, f32x4.add(f32x4.add(f32x4.mul(ka, v128.load(pd)), f32x4.mul(kb, d)), kc));
      }
    }
  }
  for (; c < C; c++) {
    const mu = lds(mean, c);
    let sdy: f64 = 0, sdx: f64 = 0;
    let px = x + (<usize>c << 2), pd = dy + (<usize>c << 2);
    for (let i = 0; i < P; i++, px += rowb, pd += rowb) {
      const d = <f64>load<f32>(pd);
      sdy += d;
      sdx += d * <f64>(load<f32>(px) - mu);
    }
    const inv = 1.0 / Math.sqrt(<f64>lds(vr, c) + <f64>eps);
    const g: f64 = gamma != 0 ? <f64>lds(gamma, c) : 1.0;
    if (dbeta != 0) put(dbeta, c, sdy, acc);
    if (dgamma != 0) put(dgamma, c, sdx * inv, acc);
    const a = g * inv;
    const ka = <f32>a, kb = <f32>(-a * inv * inv * sdx * invP), kc = <f32>(-a * sdy * invP);
    px = x + (<usize>c << 2); pd = dy + (<usize>c << 2);
    let po = dx + (<usize>c << 2);
    for (let i = 0; i < P; i++, px += rowb, pd += rowb, po += rowb) {
      store<f32>(po, ka * load<f32>(pd) + kb * (load<f32>(px) - mu) + kc);
    }
  }
}
