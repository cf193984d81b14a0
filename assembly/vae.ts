// VAE kernels: a seeded standard-normal generator and the reparameterisation z = mu + exp(0.5*logvar)*eps
// with its backward. Caller: src/models/vae.ts (training graph, sample, evaluate) through
// src/runtime/kernels.ts. Pointers are byte offsets (4-byte alignment suffices), n counts elements; mu,
// logvar, eps, z are [rows, latent] row-major and contiguous. The KL term is kl_normal (assembly/loss.ts).
//
// Every kernel here is scalar code in every variant (n = batch x latent, a few thousand at most), so
// scalar, SIMD and relaxed SIMD produce the same bits.
import { exp_f32 } from './activation';

@inline function lds(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function sts(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

/**
 * The counter-based 24-bit uniform of dropout_mask (assembly/backward/elementwise.ts, repeated here because
 * that one is module-private): splitmix64 finaliser of seed + (i+1) * golden ratio, top 24 bits.
 */
@inline function hash24(seed: u64, i: u64): u32 {
  let z = seed + (i + 1) * 0x9E3779B97F4A7C15;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  z ^= z >> 31;
  return <u32>(z >> 40);
}

/**
 * out[i] ~ N(0, 1) for i < n, a pure function of (seed, i): Box-Muller on pairs. Pair j = i >> 1 draws
 *   u1 = (hash24(seed, 2j) + 1) / 2^24   in (0, 1]      (never 0: log stays finite; |eps| <= 5.77)
 *   u2 =  hash24(seed, 2j + 1)  / 2^24   in [0, 1)
 *   r  = sqrt(-2 ln u1),  out[2j] = r cos(2 pi u2),  out[2j+1] = r sin(2 pi u2)
 * in f64 (AssemblyScript's NativeMath: the same code in every variant), rounded once to f32. seed =
 * seed_hi * 2^32 + seed_lo (u32 each). A larger n extends the same stream; tools/gen_ae_goldens.py
 * repeats the formula in numpy.
 */
export function vae_normal(out: usize, n: i32, seed_lo: u32, seed_hi: u32): void {
  const seed = (<u64>seed_hi << 32) | <u64>seed_lo;
  for (let i = 0; i < n; i += 2) {
    const u1 = (<f64>hash24(seed, <u64>i) + 1.0) / 16777216.0;
    const u2 = <f64>hash24(seed, <u64>i + 1) / 16777216.0;
    const r = Math.sqrt(-2.0 * Math.log(u1));
    const a = 2.0 * Math.PI * u2;
    sts(out, i, <f32>(r * Math.cos(a)));
    if (i + 1 < n) sts(out, i + 1, <f32>(r * Math.sin(a)));
  }
}

/** mu, logvar, eps [n] -> z [n] = mu + exp(0.5*logvar) * eps (exp_f32: relative error <= 2e-7). z may alias eps. */
export function vae_reparam(z: usize, mu: usize, logvar: usize, eps: usize, n: i32): void {
  for (let i = 0; i < n; i++) sts(z, i, lds(mu, i) + exp_f32(<f32>0.5 * lds(logvar, i)) * lds(eps, i));
}

/**
 * Backward of vae_reparam from dz [n]: dmu = dz, dlogvar = dz * eps * 0.5 * exp(0.5*logvar), both
 * OVERWRITTEN (then kl_normal accumulates the KL term's gradient into them). dmu may alias dz.
 */
export function vae_reparam_backward(dmu: usize, dlogvar: usize, dz: usize, logvar: usize, eps: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const d = lds(dz, i);
    sts(dlogvar, i, d * lds(eps, i) * <f32>0.5 * exp_f32(<f32>0.5 * lds(logvar, i)));
    sts(dmu, i, d);
  }
}
