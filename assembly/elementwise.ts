// Elementwise kernels: the activations relu, sigmoid and tanh, the residual add (with a fused activation) and
// the product mul (dropout forward and backward with its mask, gating). Called by the TypeScript layers and the
// training graph through src/runtime/kernels.ts (the contract). Backward: elementwise_backward.ts.
//
// Memory: pointers are byte offsets (any 4-byte alignment works: wasm v128 loads do not need 16), counts are
// elements. Every loop has a scalar tail, so any n is valid. The scalar variant (no ASC_FEATURE_SIMD) runs
// only the scalar loops.
//
// Aliasing: every kernel here may run in place (out == inp, out = a or b): every element is read before it is
// written, and only by its own position.
//
// Accuracy: see activation.ts for the exp/sigmoid/tanh bounds; the rest is plain f32 arithmetic.
import { act_f32, act_f32x4, set_act_alpha } from './activation';
import { lds, ldv, sts, stv } from './ptr';

// ---- activations ----
// `act` is a compile-time constant at every call of map_act / add_act (and norm.ts's scale_shift_act: the
// exported kernels dispatch once), so binaryen folds act_f32x4's branches and each loop holds one activation.
// The 4-vector unroll gives the exp-based activations independent chains to overlap (they are latency bound).

@inline function map_act(out: usize, inp: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 16 <= n; i += 16) {
      const v0 = act_f32x4(ldv(inp, i), act);
      const v1 = act_f32x4(ldv(inp, i + 4), act);
      const v2 = act_f32x4(ldv(inp, i + 8), act);
      const v3 = act_f32x4(ldv(inp, i + 12), act);
      stv(out, i, v0);
      stv(out, i + 4, v1);
      stv(out, i + 8, v2);
      stv(out, i + 12, v3);
    }
    for (; i + 4 <= n; i += 4) stv(out, i, act_f32x4(ldv(inp, i), act));
  }
  for (; i < n; i++) sts(out, i, act_f32(lds(inp, i), act));
}

/** inp[n] -> out[n] = max(x, 0) (exact; NaN stays NaN, as torch.relu). */
export function relu(out: usize, inp: usize, n: i32): void {
  map_act(out, inp, n, 1);
}

/** inp[n] -> out[n] = 1/(1+exp(-x)), abs error <= 1.5e-7 (activation.ts). */
export function sigmoid(out: usize, inp: usize, n: i32): void {
  map_act(out, inp, n, 3);
}

/** inp[n] -> out[n] = tanh(x), abs error <= 1.5e-7, rel <= 3e-7 (activation.ts). */
export function tanh(out: usize, inp: usize, n: i32): void {
  map_act(out, inp, n, 2);
}

/** inp[n] -> out[n] = act(x) for any activation code (activation.ts) with its parameter alpha. */
export function activation(out: usize, inp: usize, n: i32, act: i32, alpha: f32): void {
  set_act_alpha(alpha);
  if (act == 1) map_act(out, inp, n, 1);
  else if (act == 2) map_act(out, inp, n, 2);
  else if (act == 3) map_act(out, inp, n, 3);
  else if (act == 0) map_act(out, inp, n, 0);
  else map_act(out, inp, n, act);
}

@inline function add_act(out: usize, a: usize, b: usize, n: i32, act: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const v0 = act_f32x4(f32x4.add(ldv(a, i), ldv(b, i)), act);
      const v1 = act_f32x4(f32x4.add(ldv(a, i + 4), ldv(b, i + 4)), act);
      stv(out, i, v0);
      stv(out, i + 4, v1);
    }
    for (; i + 4 <= n; i += 4) stv(out, i, act_f32x4(f32x4.add(ldv(a, i), ldv(b, i)), act));
  }
  for (; i < n; i++) sts(out, i, act_f32(lds(a, i) + lds(b, i), act));
}

/** a[n], b[n] -> out[n] = act(a + b) (residual connections); out may be a or b. */
export function add(out: usize, a: usize, b: usize, n: i32, act: i32, alpha: f32): void {
  set_act_alpha(alpha);
  if (act == 1) add_act(out, a, b, n, 1);
  else if (act == 2) add_act(out, a, b, n, 2);
  else if (act == 3) add_act(out, a, b, n, 3);
  else if (act == 0) add_act(out, a, b, n, 0);
  else add_act(out, a, b, n, act);
}

// ---- product ----

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
