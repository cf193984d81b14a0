// Backward and training kernels that work per element or per channel: bias gradients (column sums),
// activation backward from the forward output, elementwise multiply (dropout forward/backward), BatchNorm in
// training mode (batch statistics and backward), the dropout mask generator and the Embedding backward.
// Caller: the training graph of the TypeScript facade, through src/runtime/kernels.ts (`// ---- Training ----`).
//
// Memory: pointers are byte offsets (4-byte alignment suffices), counts are elements. Per-channel kernels
// take NHWC data as P pixels x C channels, channels contiguous (Linear outputs are the same with P = batch).
//
// Per-channel reductions (bias_grad, batchnorm_*) walk 4 channels (one f32x4) at a time down all P pixels:
// 32 pixels are summed in f32, each block sum is then added into f64 (two f64x2 per 4 channels). So the
// error is that of a 32-term f32 sum plus f64 rounding, whatever P is (a conv's P is N*OH*OW, 10^4..10^5).
// Channel tails (C % 4) and the scalar variant use plain f64 scalars.

const BLOCK: i32 = 32;

@inline function lds(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function sts(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }
@inline function ldv(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 2)); }
@inline function stv(p: usize, i: i32, v: v128): void { v128.store(p + (<usize>i << 2), v); }
/** lanes 0,1 of an f32x4 as f64x2 */
@inline function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
/** lanes 2,3 of an f32x4 as f64x2 */
@inline function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)); }
/** two f64x2 -> one f32x4 (lanes lo0 lo1 hi0 hi1) */
@inline function join32(lo: v128, hi: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}
@inline function lane64(lo: v128, hi: v128, j: i32): f64 {
  return j == 0 ? f64x2.extract_lane(lo, 0) : j == 1 ? f64x2.extract_lane(lo, 1) : j == 2 ? f64x2.extract_lane(hi, 0) : f64x2.extract_lane(hi, 1);
}
/** Store v (or add it when accumulate) at p[i]. */
@inline function put(p: usize, i: i32, v: f64, accumulate: bool): void {
  sts(p, i, accumulate ? <f32>(<f64>lds(p, i) + v) : <f32>v);
}

// ---- bias gradient ----

/**
 * dy [M, N] (row-major) -> db[n] (+)= sum_m dy[m, n]. Linear bias (M = batch) and conv bias (M = pixels).
 * flags bit 0: accumulate into db.
 */
export function bias_grad(db: usize, dy: usize, M: i32, N: i32, flags: i32): void {
  const acc = (flags & 1) != 0;
  const rowb = <usize>N << 2;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= N; c += 4) {
      let t0 = f64x2.splat(0), t1 = f64x2.splat(0);
      let p = dy + (<usize>c << 2);
      for (let m0 = 0; m0 < M; m0 += BLOCK) {
        const mb = min(BLOCK, M - m0);
        let s = f32x4.splat(0);
        for (let i = 0; i < mb; i++, p += rowb) s = f32x4.add(s, v128.load(p));
        t0 = f64x2.add(t0, lo64(s)); t1 = f64x2.add(t1, hi64(s));
      }
      for (let j = 0; j < 4; j++) put(db, c + j, lane64(t0, t1, j), acc);
    }
  }
  for (; c < N; c++) {
    let s: f64 = 0;
    let p = dy + (<usize>c << 2);
    for (let m = 0; m < M; m++, p += rowb) s += <f64>load<f32>(p);
    put(db, c, s, acc);
  }
}

// ---- activations ----

@inline function act_bw_f32(d: f32, y: f32, act: i32): f32 {
  if (act == 1) return y > 0 ? d : 0;
  if (act == 2) return d * (1 - y * y);
  if (act == 3) return d * (y * (1 - y));
  return d;
}

@inline function act_bw_f32x4(d: v128, y: v128, act: i32): v128 {
  const one = f32x4.splat(1);
  if (act == 1) return v128.and(d, f32x4.gt(y, f32x4.splat(0)));
  if (act == 2) return f32x4.mul(d, f32x4.sub(one, f32x4.mul(y, y)));
  if (act == 3) return f32x4.mul(d, f32x4.mul(y, f32x4.sub(one, y)));
  return d;
}

@inline function act_bw_map(dx: usize, dy: usize, y: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const v0 = act_bw_f32x4(ldv(dy, i), ldv(y, i), act);
      const v1 = act_bw_f32x4(ldv(dy, i + 4), ldv(y, i + 4), act);
      stv(dx, i, v0);
      stv(dx, i + 4, v1);
    }
    for (; i + 4 <= n; i += 4) stv(dx, i, act_bw_f32x4(ldv(dy, i), ldv(y, i), act));
  }
  for (; i < n; i++) sts(dx, i, act_bw_f32(lds(dy, i), lds(y, i), act));
}

/**
 * dx[n] = dy * act'(from the forward OUTPUT y): relu dy*(y>0), tanh dy*(1-y²), sigmoid dy*y*(1-y),
 * 0 (none) copies dy. dx may be dy or y (in place).
 */
export function act_backward(dx: usize, dy: usize, y: usize, n: i32, act: i32): void {
  if (act == 1) act_bw_map(dx, dy, y, n, 1);
  else if (act == 2) act_bw_map(dx, dy, y, n, 2);
  else if (act == 3) act_bw_map(dx, dy, y, n, 3);
  else act_bw_map(dx, dy, y, n, 0);
}

/** out[n] = a * b (dropout forward and backward with the mask; gates). out may be a or b. */
export function mul(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const v0 = f32x4.mul(ldv(a, i), ldv(b, i));
      const v1 = f32x4.mul(ldv(a, i + 4), ldv(b, i + 4));
      stv(out, i, v0);
      stv(out, i + 4, v1);
    }
    for (; i + 4 <= n; i += 4) stv(out, i, f32x4.mul(ldv(a, i), ldv(b, i)));
  }
  for (; i < n; i++) sts(out, i, lds(a, i) * lds(b, i));
}

// ---- BatchNorm, training mode (https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html) ----
// Forward: the caller computes scale = gamma*invstd, shift = beta - mean*scale (C floats, TS side) and runs
// the inference kernel scale_shift; running statistics are updated TS side as well (momentum, unbiased
// var = var * P/(P-1)).

/**
 * x [P, C] -> mean[C], var[C]: per-channel mean and BIASED variance (divide by P), two passes (mean, then
 * sum of squared deviations: no cancellation), blocked f32 + f64 accumulation. P = 0 gives NaN, as PyTorch.
 */
export function batchnorm_stats(mean: usize, vr: usize, x: usize, P: i32, C: i32): void {
  const rowb = <usize>C << 2;
  const invP: f64 = 1.0 / <f64>P;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= C; c += 4) {
      const base = x + (<usize>c << 2);
      let t0 = f64x2.splat(0), t1 = f64x2.splat(0);
      let p = base;
      for (let m0 = 0; m0 < P; m0 += BLOCK) {
        const mb = min(BLOCK, P - m0);
        let s = f32x4.splat(0);
        for (let i = 0; i < mb; i++, p += rowb) s = f32x4.add(s, v128.load(p));
        t0 = f64x2.add(t0, lo64(s)); t1 = f64x2.add(t1, hi64(s));
      }
      t0 = f64x2.mul(t0, f64x2.splat(invP)); t1 = f64x2.mul(t1, f64x2.splat(invP));
      const mv = f32x4.demote_f64x2_zero(t0);
      const mv4 = v128.shuffle<i32>(mv, f32x4.demote_f64x2_zero(t1), 0, 1, 4, 5);
      v128.store(mean + (<usize>c << 2), mv4);
      let q0 = f64x2.splat(0), q1 = f64x2.splat(0);
      p = base;
      for (let m0 = 0; m0 < P; m0 += BLOCK) {
        const mb = min(BLOCK, P - m0);
        let s = f32x4.splat(0);
        for (let i = 0; i < mb; i++, p += rowb) {
          const d = f32x4.sub(v128.load(p), mv4);
          s = f32x4.add(s, f32x4.mul(d, d));
        }
        q0 = f64x2.add(q0, lo64(s)); q1 = f64x2.add(q1, hi64(s));
      }
      for (let j = 0; j < 4; j++) sts(vr, c + j, <f32>(lane64(q0, q1, j) * invP));
    }
  }
  for (; c < C; c++) {
    let s: f64 = 0;
    let p = x + (<usize>c << 2);
    for (let m = 0; m < P; m++, p += rowb) s += <f64>load<f32>(p);
    const mu = <f32>(s * invP);
    sts(mean, c, mu);
    let q: f64 = 0;
    p = x + (<usize>c << 2);
    for (let m = 0; m < P; m++, p += rowb) { const d = <f64>(load<f32>(p) - mu); q += d * d; }
    sts(vr, c, <f32>(q * invP));
  }
}

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

// ---- dropout ----

/**
 * Counter-based uniform in [0, 1) with 24 bits: splitmix64 finaliser of seed + (i+1)*golden ratio.
 * Pure integer arithmetic, so every variant (and the TS reference) gives the same mask for a (seed, i).
 */
@inline function uniform24(seed: u64, i: u64): u32 {
  let z = seed + (i + 1) * 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  z ^= z >> 31;
  return <u32>(z >> 40);
}

/**
 * mask[i] = 1/(1-p) if uniform(seed, i) >= p else 0, i in [0, n) (inverted dropout as torch.nn.Dropout: kept
 * with probability 1-p and scaled). uniform = uniform24(seed, i) / 2^24, seed = seed_hi:seed_lo (u32 each).
 * p >= 1 gives all zeros, p <= 0 all ones. Forward y = x*mask and backward dx = dy*mask are `mul`.
 * The element index is the counter: a larger batch extends the same stream; offset `mask` and bump the seed
 * per step at the caller.
 */
export function dropout_mask(mask: usize, n: i32, p: f32, seed_lo: u32, seed_hi: u32): void {
  const seed = (<u64>seed_hi << 32) | <u64>seed_lo;
  if (p >= 1) { memory.fill(mask, 0, <usize>n << 2); return; }
  const keep: f32 = <f32>(1.0 / (1.0 - <f64>p));
  const thr = <f64>p * 16777216.0; // u >= p  <=>  u24 >= p * 2^24 (exact in f64)
  for (let i = 0; i < n; i++) {
    const u = <f64>uniform24(seed, <u64>i);
    sts(mask, i, u >= thr ? keep : 0);
  }
}

// ---- Embedding ----

/**
 * dw [num_embeddings, dim] += scatter of dy [count, dim] by ids [count] (i32): dw[ids[i]] += dy[i],
 * rows with ids[i] == padding_idx skipped (PyTorch: the padding row gets no gradient; pass -1 for none).
 * Always accumulates (zero dw first); repeated ids add up in order.
 */
export function embedding_backward(dw: usize, ids: usize, dy: usize, count: i32, dim: i32, padding_idx: i32): void {
  const rowb = <usize>dim << 2;
  for (let r = 0; r < count; r++) {
    const id = load<i32>(ids + (<usize>r << 2));
    if (id == padding_idx) continue;
    const d = dw + <usize>id * rowb, s = dy + <usize>r * rowb;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= dim; j += 4) stv(d, j, f32x4.add(ldv(d, j), ldv(s, j)));
    }
    for (; j < dim; j++) sts(d, j, lds(d, j) + lds(s, j));
  }
}
