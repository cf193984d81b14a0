// Activation functions: vector (f32x4) approximations and their scalar twins, shared by the fused epilogues
// of gemm.ts / conv2d.ts / conv2d_winograd.ts (act_f32x4 / act_f32), the elementwise kernels (elementwise.ts,
// norm.ts), softmax.ts, loss.ts, vae.ts and the recurrent cells (rnn.ts, rnn_cell*.ts).
// Nothing here is exported from the module (index.ts does not re-export this file): every function is
// @inline and takes values, not pointers. NOTE: test/kernels/activation.test.ts compiles a probe that imports
// './activation' from this folder: keep the file here and under this name.
//
// act codes (the table in src/runtime/activation.ts; flags bits 1..4 of the fused kernels):
//   0 none, 1 relu, 2 tanh, 3 sigmoid, 4 leaky_relu (alpha = negative_slope), 5 relu_cap (min(max(x, 0), alpha):
//   ReLU6 is alpha 6; ONNX Clip(0, alpha) fused into a conv).
// An activation is its forward (act_f32 / act_f32x4) and its derivative from the forward OUTPUT
// (act_bw_f32 / act_bw_f32x4), side by side at the end of this file: adding one is a case in each of the
// four plus a row in the TypeScript table. Kernels specialise the common codes 1..3 as constants and run
// any other code through the same loops with the code as a value (elementwise.ts, norm.ts).
//
// Why approximations: wasm has no vector exp; per-lane Mathf.exp means four library calls plus lane
// extracts/inserts per vector, where the polynomial below is ~25 vector instructions for all four lanes.
// The scalar twins run the same operations in the same order, so the scalar variant, the SIMD body and its
// scalar tail agree to the last bit (except that the relaxed variant may fuse the polynomial's multiply-adds,
// which only changes rounding inside the stated bounds).
//
// Error bounds (measured by test/kernels/activation.test.ts with 1e6-point sweeps against f64
// Math.exp/Math.tanh in every variant; measured maxima in brackets, the same in all variants except exp
// with relaxed_madd on Node 20 / x64: 8.2e-8):
//   exp_f32x4 / exp_f32:    relative error <= 2e-7 on [-87.33, 88.37]   [7.9e-8]
//                           x < -87.33 (incl. -inf) -> +0; x > 88.37 (incl. +inf) -> 2.406e38 (finite, no inf);
//                           NaN -> NaN.
//   sigmoid_f32x4 / _f32:   absolute error <= 1.5e-7 on all of R          [8.9e-8]
//                           relative error <= 3e-7 for x >= -87 (where sigmoid(x) >= 1.6e-38 is normal)  [1.4e-7]
//                           -inf -> ~4e-39 (a denormal, not 0), +inf -> 1, NaN -> NaN.
//   tanh_f32x4 / tanh_f32:  absolute error <= 1.5e-7 on all of R          [8.4e-8]
//                           relative error <= 3e-7 on all of R except 0 (tanh(+-0) = +-0 exactly)  [1.7e-7]
//                           +-inf -> +-1, NaN -> NaN.
// Relu is exact (f32.max / f32x4.max: NaN propagates, as torch.relu).

// ---- exp ----
// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 in [-ln2/2, ln2/2] (ln2 split in a hi part with
// few mantissa bits, so n*LN2_HI is exact for |n| <= 128, and a lo correction), exp(r) by the Cephes expf
// degree-6 polynomial (1 + r + r^2 * P5(r)), 2^n built in the exponent bits. The clamp keeps n in
// [-126, 127], so 2^n is a normal float and the result never overflows to inf.
const EXP_LO: f32 = -87.33654; // ln(2^-126): below it the result would be denormal; we return 0
const EXP_HI: f32 = 88.37626; // largest x whose n rounds to 127
const LOG2E: f32 = 1.44269504088896341;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EP0: f32 = 1.9875691500e-4;
const EP1: f32 = 1.3981999507e-3;
const EP2: f32 = 8.3334519073e-3;
const EP3: f32 = 4.1665795894e-2;
const EP4: f32 = 1.6666665459e-1;
const EP5: f32 = 5.0000001201e-1;

/** a*b + c; fused (and faster) where relaxed SIMD is available, mul+add otherwise. */
@inline export function madd4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline export function exp_f32x4(x: v128): v128 {
  // pmin/pmax (one minps/maxps each; f32x4.min/max cost ~8 instructions in V8 for IEEE NaN/-0 rules);
  // with x as the first operand a NaN x is returned unchanged
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO));
  // round to nearest by adding 1.5*2^23: t's low mantissa bits hold n (cheaper than nearest + trunc_sat)
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(t, f32x4.splat(ROUND_MAGIC));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = madd4(f32x4.splat(EP0), r, f32x4.splat(EP1));
  p = madd4(p, r, f32x4.splat(EP2));
  p = madd4(p, r, f32x4.splat(EP3));
  p = madd4(p, r, f32x4.splat(EP4));
  p = madd4(p, r, f32x4.splat(EP5));
  const y = f32x4.add(madd4(p, f32x4.mul(r, r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23); // (n + 127) << 23: the magic's bits shift out
  // x < EXP_LO -> +0 (exp(-inf) = 0 for masked softmax rows); lt is false for NaN, so NaN passes through
  return v128.andnot(f32x4.mul(y, scale), f32x4.lt(x, f32x4.splat(EXP_LO)));
}

@inline export function exp_f32(x: f32): f32 {
  if (x < EXP_LO) return 0;
  const xc = x > EXP_HI ? EXP_HI : x; // a select, cheaper than f32.min; x >= EXP_LO or NaN here
  const t = xc * LOG2E + ROUND_MAGIC;
  const n = t - ROUND_MAGIC;
  let r = xc - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = EP0 * r + EP1;
  p = p * r + EP2;
  p = p * r + EP3;
  p = p * r + EP4;
  p = p * r + EP5;
  const y = p * (r * r) + r + 1;
  return y * reinterpret<f32>((reinterpret<i32>(t) + 127) << 23);
}

// ---- sigmoid ----
// 1 / (1 + exp(-x)): the exp's relative error e becomes an absolute error <= e/4 (d/de of 1/(1+E) times E
// is sigmoid*(1-sigmoid) <= 1/4) and a relative error <= e, no cancellation anywhere. For x -> -inf,
// exp(-x) saturates at 2.4e38 instead of overflowing, so the result is a tiny denormal, never NaN.

@inline export function sigmoid_f32x4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp_f32x4(f32x4.neg(x))));
}

@inline export function sigmoid_f32(x: f32): f32 {
  return 1 / (1 + exp_f32(-x));
}

// ---- tanh ----
// |x| < 0.55: odd polynomial x + x^3 * P4(x^2), least-squares fit of relative error on [0, 0.55]
//   (the 1 - 2/(e^2x+1) form cancels catastrophically near 0).
// |x| >= 0.55: 1 - 2 / (exp(2|x|) + 1): tanh >= 0.5 there, so the 2^-24 rounding of the subtraction stays
//   small in relative terms; exp saturates (no inf), so large |x| gives exactly 1.
// The sign is copied back bitwise, so tanh(-0) = -0 and the function is exactly odd.
const TANH_SPLIT: f32 = 0.55;
const TP0: f32 = -0.33333316445350647;
const TP1: f32 = 0.13332585990428925;
const TP2: f32 = -0.05385236069560051;
const TP3: f32 = 0.021071895956993103;
const TP4: f32 = -0.006274560000747442;

@inline export function tanh_f32x4(x: v128): v128 {
  const a = f32x4.abs(x);
  const t = f32x4.mul(a, a);
  let p = madd4(f32x4.splat(TP4), t, f32x4.splat(TP3));
  p = madd4(p, t, f32x4.splat(TP2));
  p = madd4(p, t, f32x4.splat(TP1));
  p = madd4(p, t, f32x4.splat(TP0));
  const small = madd4(f32x4.mul(a, t), p, a);
  const one = f32x4.splat(1);
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(exp_f32x4(f32x4.add(a, a)), one)));
  // lt is false for NaN: NaN takes the exp branch, which keeps it NaN
  const r = v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(TANH_SPLIT)));
  return v128.or(r, v128.and(x, f32x4.splat(-0.0)));
}

@inline export function tanh_f32(x: f32): f32 {
  const a = abs<f32>(x);
  let r: f32;
  if (a < TANH_SPLIT) {
    const t = a * a;
    let p = TP4 * t + TP3;
    p = p * t + TP2;
    p = p * t + TP1;
    p = p * t + TP0;
    r = (a * t) * p + a;
  } else {
    r = 1 - 2 / (exp_f32(a + a) + 1);
  }
  return copysign<f32>(r, x);
}

// ---- dispatch for fused epilogues ----
// `act` is usually a constant after inlining into a kernel specialised per act (see elementwise.ts), so the
// branches fold away; where it is not, they are well predicted (one act per call).

// The parameter of the running call's activation (leaky_relu's negative_slope). Every exported kernel that
// takes `alpha` stores it here on entry (set_act_alpha), so the GEMM micro-kernels need no extra register
// for it: V8 keeps 15 xmm registers for wasm and one more spills accumulators (gemm.ts NOTE). A wasm global
// belongs to its instance, i.e. to one thread: it is never shared between workers.
let act_alpha: f32 = 0;

// @ts-ignore: decorator
@inline export function set_act_alpha(alpha: f32): void {
  act_alpha = alpha;
}

// ReLU and ReLU6 as torch's clamp (std::max / std::min, _mm256_max_ps): x < 0 ? 0 : x, then cap < t ? cap : t,
// so -0 stays -0 and NaN stays NaN; f32x4.pmax / pmin compute exactly that in one instruction each, where
// f32x4.max / min (which turn -0 into +0) take ~8 on x64.

/** The upper bound of ReLU (act 1: +Infinity) and ReLU6-style relu_cap (act 5: its cap). */
// @ts-ignore: decorator
@inline export function relu_bound(act: i32): f32 {
  return act == 5 ? act_alpha : Infinity;
}

@inline export function act_f32(x: f32, act: i32): f32 {
  if (act == 1 || act == 5) {
    const t: f32 = x < 0 ? 0 : x;
    const cap = relu_bound(act);
    return cap < t ? cap : t;
  }
  if (act == 2) return tanh_f32(x);
  if (act == 3) return sigmoid_f32(x);
  if (act == 4) return x > 0 ? x : x * act_alpha; // NaN -> NaN * alpha = NaN, as torch
  return x;
}

@inline export function act_f32x4(v: v128, act: i32): v128 {
  if (act == 1 || act == 5) return f32x4.pmin(f32x4.pmax(v, f32x4.splat(0)), f32x4.splat(relu_bound(act)));
  if (act == 2) return tanh_f32x4(v);
  if (act == 3) return sigmoid_f32x4(v);
  if (act == 4) return v128.bitselect(v, f32x4.mul(v, f32x4.splat(act_alpha)), f32x4.gt(v, f32x4.splat(0)));
  return v;
}

// ---- derivatives, from the forward OUTPUT y (what the fused epilogues leave behind) ----
// relu dy*(y>0), tanh dy*(1-y²), sigmoid dy*y*(1-y), leaky_relu dy*(y>0 ? 1 : alpha) (y>0 iff x>0 for
// alpha >= 0: the TypeScript table refuses training with a negative slope), relu_cap dy*(0<y<cap) (cap > 0),
// 0 (none) passes dy.

@inline export function act_bw_f32(d: f32, y: f32, act: i32): f32 {
  if (act == 1) return y > 0 ? d : 0;
  if (act == 2) return d * (1 - y * y);
  if (act == 3) return d * (y * (1 - y));
  if (act == 4) return y > 0 ? d : d * act_alpha;
  if (act == 5) return y > 0 && y < act_alpha ? d : 0;
  return d;
}

@inline export function act_bw_f32x4(d: v128, y: v128, act: i32): v128 {
  const one = f32x4.splat(1);
  if (act == 1) return v128.and(d, f32x4.gt(y, f32x4.splat(0)));
  if (act == 2) return f32x4.mul(d, f32x4.sub(one, f32x4.mul(y, y)));
  if (act == 3) return f32x4.mul(d, f32x4.mul(y, f32x4.sub(one, y)));
  if (act == 4) return v128.bitselect(d, f32x4.mul(d, f32x4.splat(act_alpha)), f32x4.gt(y, f32x4.splat(0)));
  if (act == 5) return v128.and(d, v128.and(f32x4.gt(y, f32x4.splat(0)), f32x4.lt(y, f32x4.splat(act_alpha))));
  return d;
}
