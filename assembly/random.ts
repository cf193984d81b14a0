// Seeded random generators, counter-based: each value is a pure function of (seed, element index), so a larger
// n extends the same stream and the module keeps no state. The uniforms are an integer hash (uniform24) and
// the rest is the same scalar code in every variant, so every variant gives the same bits. The references
// repeat the formulas: test/ref/backward.ts for the mask, numpy in tools/gen_ae_goldens.py for the normals.
// seed = seed_hi * 2^32 + seed_lo (u32 each).
//   dropout_mask: inverted-dropout masks (torch.nn.Dropout); forward y = mul(x, mask), backward dx = mul(dy, mask).
//   vae_normal:   standard normals (Box-Muller over pairs of uniforms), the noise of the VAE's
//                 reparameterisation (vae.ts); named for that caller, it is a plain N(0, 1) generator.
// Callers: the Dropout training half (src/nn/layers/misc.ts) and the VAE (src/models/vae.ts) through
// src/runtime/kernels.ts.
// Memory: pointers are byte offsets (4-byte alignment suffices), counts elements.
import { sts } from './ptr';

/**
 * Counter-based uniform in [0, 1) with 24 bits: splitmix64 finaliser of seed + (i+1)*golden ratio.
 * Pure integer arithmetic: the same value for a (seed, i) in every variant. Both generators draw from it.
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

/**
 * out[i] ~ N(0, 1) for i < n, a pure function of (seed, i): Box-Muller on pairs. Pair j = i >> 1 draws
 *   u1 = (uniform24(seed, 2j) + 1) / 2^24   in (0, 1]      (never 0: log stays finite; |eps| <= 5.77)
 *   u2 =  uniform24(seed, 2j + 1)  / 2^24   in [0, 1)
 *   r  = sqrt(-2 ln u1),  out[2j] = r cos(2 pi u2),  out[2j+1] = r sin(2 pi u2)
 * in f64 (AssemblyScript's NativeMath: the same code in every variant), rounded once to f32. seed =
 * seed_hi * 2^32 + seed_lo (u32 each). A larger n extends the same stream; tools/gen_ae_goldens.py
 * repeats the formula in numpy.
 */
export function vae_normal(out: usize, n: i32, seed_lo: u32, seed_hi: u32): void {
  const seed = (<u64>seed_hi << 32) | <u64>seed_lo;
  for (let i = 0; i < n; i += 2) {
    const u1 = (<f64>uniform24(seed, <u64>i) + 1.0) / 16777216.0;
    const u2 = <f64>uniform24(seed, <u64>i + 1) / 16777216.0;
    const r = Math.sqrt(-2.0 * Math.log(u1));
    const a = 2.0 * Math.PI * u2;
    sts(out, i, <f32>(r * Math.cos(a)));
    if (i + 1 < n) sts(out, i + 1, <f32>(r * Math.sin(a)));
  }
}
