// Recurrent cells for training, forward: the per-step gate math of LSTM and GRU, saving what backpropagation
// through time needs (rnn_cell_backward.ts reads it). The plain RNN's step needs no kernel: gemm_packed with
// accumulate and the fused tanh/relu. Caller: the training half of src/nn/layers/rnn.ts.
//
// Memory layout (shared with rnn_cell_backward.ts): PyTorch's plain gate order, NOT the inference gate blocks of
// rnn.ts (training repacks nothing per gate: the recurrent and input projections are ordinary gemm_packed calls
// over W_ih/W_hh raw).
// - gates row b at gates + 4*b*ldg: G*H floats, gate g of unit j at column g*H + j (LSTM i,f,g,o; GRU r,z,n).
//   The forward kernels read pre-activations there and overwrite them with the activations (saved for the
//   backward); the backward kernels read the activations and write pre-activation gradients (dgates).
// - h rows (h_out, h_prev) have their own row strides (they live in the [T, B, D*H] output sequence);
//   c rows are [B, H] contiguous. A pointer 0 means "zeros" where stated (h_prev/c_prev at t = 0 without an
//   initial state, no output gradient at this step).
// - Gate math uses activation.ts's sigmoid_f32/tanh_f32 (abs error <= 1.5e-7 each, as inference); the
//   backward recomputes tanh(c_t) the same way, so forward and backward see the same numbers.
//
// GRU (https://pytorch.org/docs/stable/generated/torch.nn.GRU.html): n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
// h' = (1 - z)·n + z·h. The input projection gx (incl. b_ih) and the hidden projection gh = W_hh h + b_hh
// are kept apart, because r multiplies gh's n part including b_hn (so their gradients differ, see
// rnn_cell_backward.ts).
//
// f32x4 over units in the SIMD variants (scalar tail; the scalar twins of the activations run the same
// operations, so the tail and the scalar variant agree with the vector body): the gate math is O(B·H) per
// step against O(B·H·G·H) for the step's GEMM, but scalar sigmoid/tanh made it ~20% of an LSTM step.
import { sigmoid_f32, sigmoid_f32x4, tanh_f32, tanh_f32x4 } from './activation';
import { lds, ldv, sts, stv } from './ptr';

/**
 * LSTM step gate math. gates [B, 4H] (row stride ldg) pre-activations (x·W_ihᵀ + b_ih + b_hh + h·W_hhᵀ)
 * -> activations σi, σf, tanh g, σo in place; c_out [B, H] = σf·c_prev + σi·g (c_prev 0 = zeros);
 * h_out row b at h_out + 4*b*ldh = σo·tanh(c_out).
 */
export function lstm_cell_forward(gates: usize, ldg: i32, c_out: usize, c_prev: usize, h_out: usize, ldh: i32, B: i32, H: i32): void {
  for (let b = 0; b < B; b++) {
    const gp = gates + ((<usize>b * <usize>ldg) << 2);
    const co = c_out + ((<usize>b * <usize>H) << 2);
    const cp = c_prev != 0 ? c_prev + ((<usize>b * <usize>H) << 2) : 0;
    const ho = h_out + ((<usize>b * <usize>ldh) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= H; j += 4) {
        const i = sigmoid_f32x4(ldv(gp, j));
        const f = sigmoid_f32x4(ldv(gp, H + j));
        const g = tanh_f32x4(ldv(gp, 2 * H + j));
        const o = sigmoid_f32x4(ldv(gp, 3 * H + j));
        stv(gp, j, i); stv(gp, H + j, f); stv(gp, 2 * H + j, g); stv(gp, 3 * H + j, o);
        const c = f32x4.add(f32x4.mul(f, cp != 0 ? ldv(cp, j) : f32x4.splat(0)), f32x4.mul(i, g));
        stv(co, j, c);
        stv(ho, j, f32x4.mul(o, tanh_f32x4(c)));
      }
    }
    for (; j < H; j++) {
      const i = sigmoid_f32(lds(gp, j));
      const f = sigmoid_f32(lds(gp, H + j));
      const g = tanh_f32(lds(gp, 2 * H + j));
      const o = sigmoid_f32(lds(gp, 3 * H + j));
      sts(gp, j, i); sts(gp, H + j, f); sts(gp, 2 * H + j, g); sts(gp, 3 * H + j, o);
      const c = f * (cp != 0 ? lds(cp, j) : 0) + i * g;
      sts(co, j, c);
      sts(ho, j, o * tanh_f32(c));
    }
  }
}

/**
 * GRU step gate math. gx [B, 3H] (row stride ldg): input projection pre-activations (x·W_ihᵀ + b_ih) ->
 * activations r, z, n in place; gh [B, 3H] (row stride ldg): h_prev·W_hhᵀ + b_hh (read only, saved: the
 * backward needs its n part). h_out = (1 - z)·n + z·h_prev (h_prev row stride ldhp; 0 = zeros).
 */
export function gru_cell_forward(gx: usize, gh: usize, ldg: i32, h_prev: usize, ldhp: i32, h_out: usize, ldh: i32, B: i32, H: i32): void {
  for (let b = 0; b < B; b++) {
    const xp = gx + ((<usize>b * <usize>ldg) << 2);
    const hp = gh + ((<usize>b * <usize>ldg) << 2);
    const pp = h_prev != 0 ? h_prev + ((<usize>b * <usize>ldhp) << 2) : 0;
    const ho = h_out + ((<usize>b * <usize>ldh) << 2);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= H; j += 4) {
        const r = sigmoid_f32x4(f32x4.add(ldv(xp, j), ldv(hp, j)));
        const z = sigmoid_f32x4(f32x4.add(ldv(xp, H + j), ldv(hp, H + j)));
        const n = tanh_f32x4(f32x4.add(ldv(xp, 2 * H + j), f32x4.mul(r, ldv(hp, 2 * H + j))));
        stv(xp, j, r); stv(xp, H + j, z); stv(xp, 2 * H + j, n);
        const h = pp != 0 ? ldv(pp, j) : f32x4.splat(0);
        stv(ho, j, f32x4.add(n, f32x4.mul(z, f32x4.sub(h, n))));
      }
    }
    for (; j < H; j++) {
      const r = sigmoid_f32(lds(xp, j) + lds(hp, j));
      const z = sigmoid_f32(lds(xp, H + j) + lds(hp, H + j));
      const n = tanh_f32(lds(xp, 2 * H + j) + r * lds(hp, 2 * H + j));
      sts(xp, j, r); sts(xp, H + j, z); sts(xp, 2 * H + j, n);
      const h: f32 = pp != 0 ? lds(pp, j) : 0;
      sts(ho, j, n + z * (h - n));
    }
  }
}
