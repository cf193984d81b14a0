// The VAE's reparameterisation z = mu + exp(0.5*logvar) * eps and its backward. Caller: src/models/vae.ts
// (training graph, sample, evaluate) through src/runtime/kernels.ts. The noise eps comes from vae_normal
// (random.ts), the KL term is kl_normal (loss.ts).
//
// Memory: pointers are byte offsets (4-byte alignment suffices), n counts elements; mu, logvar, eps, z are
// [rows, latent] row-major and contiguous. Scalar code in every variant (n = batch x latent, a few thousand at
// most), so scalar, SIMD and relaxed SIMD produce the same bits.
import { exp_f32 } from './activation';
import { lds, sts } from './ptr';

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
