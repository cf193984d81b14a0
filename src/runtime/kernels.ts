/**
 * The typed surface of the wasm kernels: every export of `assembly/index.ts`, in every variant
 * (scalar, simd, relaxed). This file is the contract between the TypeScript facade and the kernels;
 * test/runtime/contract.test.ts checks it against the built modules (names, parameter counts and types, returns).
 *
 * Conventions (see also assembly/README.md):
 * - Pointers are byte offsets into the module's memory, 16-byte aligned unless stated.
 *   `0` as a pointer means "absent" where a parameter is optional (bias).
 * - Dimensions and strides are element counts (f32 = 4 bytes).
 * - Activations are NHWC inside the engine (PyTorch's NCHW exists only at the API boundary).
 * - Kernels never allocate, never throw, and trust their arguments: the TypeScript side checks shapes.
 * - `flags` for fused epilogues: bit 0 = accumulate into the output (C += ...), bits 1..4 = activation
 *   code, and a trailing `alpha` argument its parameter (src/runtime/activation.ts: `epilogueFlags`, `Act`).
 */


/** Column width of a packed-B panel (same in every variant so packed weights are portable). */
export const GEMM_NR = 8;

export interface Kernels {
  memory: WebAssembly.Memory;
  /** First free byte after the module's static data. */
  heap_base(): number;
  /** 2 = relaxed SIMD, 1 = SIMD, 0 = scalar. */
  variant(): number;

  // ---- GEMM (assembly/gemm.ts) ----
  /** Floats needed to hold B (K x N) packed: ceil(N/NR)*NR*K. */
  gemm_packed_b_size(K: number, N: number): number;
  /** Pack B: element (k, n) is at b + 4*(k*b_rs + n*b_cs). Zero-pads the last panel. */
  gemm_pack_b(dst: number, b: number, K: number, N: number, b_rs: number, b_cs: number): void;
  /**
   * C[M,N] (row stride ldc) = act(A[M,K] · B + bias[N] + (accumulate ? C : 0)): the activation comes last,
   * so a fused residual add (accumulate) + ReLU is one call.
   * A element (m, k) is at a + 4*(m*a_rs + k*a_cs): a_rs=K,a_cs=1 is row-major A; a_rs=1,a_cs=M is Aᵀ.
   * pb is B packed by gemm_pack_b. bias may be 0.
   */
  gemm_packed(c: number, a: number, pb: number, bias: number, M: number, N: number, K: number,
    a_rs: number, a_cs: number, ldc: number, flags: number, alpha: number): void;
  /** Convenience: packs B into scratch (gemm_packed_b_size floats) then gemm_packed. */
  gemm(c: number, a: number, b: number, bias: number, M: number, N: number, K: number,
    a_rs: number, a_cs: number, b_rs: number, b_cs: number, ldc: number, flags: number, scratch: number, alpha: number): void;

  // ---- Conv2d, NHWC (assembly/conv2d.ts; Winograd F(2x2, 3x3): assembly/conv2d_winograd.ts) ----
  /** Floats needed for packed weights of a conv with OC outputs, ICg inputs per group, KHxKW taps. */
  conv2d_packed_size(OC: number, ICg: number, KH: number, KW: number, groups: number): number;
  /** Pack PyTorch OIHW weights [OC, ICg, KH, KW] into the layout conv2d_nhwc reads. */
  conv2d_pack_weights(dst: number, w: number, OC: number, ICg: number, KH: number, KW: number, groups: number): void;
  /** Bytes of scratch conv2d_nhwc needs for these dims (0 allowed). */
  conv2d_scratch_size(N: number, H: number, W: number, C: number, OH: number, OW: number, OC: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number,
    groups: number): number;
  /**
   * out[N,OH,OW, OC] (pixel stride out_ps >= OC, so a conv can write a channel slice of a concat buffer)
   * = act(conv(inp[N,H,W,C], packed weights) + bias[OC]).
   */
  conv2d_nhwc(out: number, inp: number, pw: number, bias: number, N: number, H: number, W: number, C: number,
    OH: number, OW: number, OC: number, KH: number, KW: number, SH: number, SW: number, PH: number, PW: number,
    DH: number, DW: number, groups: number, out_ps: number, flags: number, scratch: number, alpha: number): void;
  /** Winograd F(2x2, 3x3) for 3x3 convs with stride 1, dilation 1, groups 1: floats of the packed weights. */
  conv2d_winograd_packed_size(OC: number, C: number): number;
  /** Pack PyTorch OIHW 3x3 weights [OC, C, 3, 3] into the 16 transformed GEMM operands. */
  conv2d_winograd_pack(dst: number, w: number, OC: number, C: number): void;
  /** Bytes of scratch conv2d_winograd needs. */
  conv2d_winograd_scratch_size(N: number, OH: number, OW: number, C: number, OC: number): number;
  /** Same result and contract as conv2d_nhwc for a 3x3 conv, stride 1, dilation 1, groups 1 (padding PH, PW). */
  conv2d_winograd(out: number, inp: number, pw: number, bias: number, N: number, H: number, W: number, C: number,
    OH: number, OW: number, OC: number, PH: number, PW: number, out_ps: number, flags: number, scratch: number, alpha: number): void;

  // ---- Pooling, NHWC (assembly/pool.ts). OH/OW computed by the caller (ceil_mode lives in TS shape math). ----
  /** Max over each window, padding never wins (as PyTorch: -inf padding). */
  maxpool2d_nhwc(out: number, inp: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number): void;
  /** PyTorch avg_pool2d semantics incl. ceil_mode windows and count_include_pad; divisor > 0 overrides. */
  avgpool2d_nhwc(out: number, inp: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, count_include_pad: number,
    divisor: number): void;
  /** PyTorch adaptive_avg_pool2d: window i spans [floor(i*H/OH), ceil((i+1)*H/OH)). */
  adaptive_avgpool2d_nhwc(out: number, inp: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** adaptive max pooling (same windows as adaptive avg). */
  adaptive_maxpool2d_nhwc(out: number, inp: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;

  // ---- Elementwise (assembly/elementwise.ts), softmax (softmax.ts), scale_shift and lrn_nhwc (norm.ts), copies
  // and transposes (layout.ts). Unary ops, add, softmax and scale_shift may run in place (out == inp); lrn_nhwc
  // in place only for size <= 17; pooling, copy_channels and the transposes need out and inp not to overlap. ----
  relu(out: number, inp: number, n: number): void;
  sigmoid(out: number, inp: number, n: number): void;
  tanh(out: number, inp: number, n: number): void;
  /** out = act(inp) for any activation code with its parameter alpha (src/runtime/activation.ts). */
  activation(out: number, inp: number, n: number, act: number, alpha: number): void;
  /** out = a + b, then activation `act` (code) with parameter alpha. */
  add(out: number, a: number, b: number, n: number, act: number, alpha: number): void;
  /** Row-wise softmax / log-softmax over the last dim (rows x cols, contiguous). */
  softmax(out: number, inp: number, rows: number, cols: number): void;
  log_softmax(out: number, inp: number, rows: number, cols: number): void;
  /** out[p, c] = act(inp[p, c] * scale[c] + shift[c]) for P pixels of C channels (BatchNorm at inference). */
  scale_shift(out: number, inp: number, scale: number, shift: number, P: number, C: number, act: number, alpha: number): void;
  /** PyTorch LocalResponseNorm across channels: b_c = a_c / (k + alpha/size * sum_{window} a^2)^beta, NHWC. */
  lrn_nhwc(out: number, inp: number, P: number, C: number, size: number, alpha: number, beta: number, k: number): void;
  /** Copy P pixels of C channels: out[p*out_ps + c] = inp[p*in_ps + c] (concat along channels, slices). */
  copy_channels(out: number, inp: number, P: number, C: number, out_ps: number, in_ps: number): void;
  /** Layout changes at the API boundary. */
  nchw_to_nhwc(out: number, inp: number, N: number, C: number, H: number, W: number): void;
  nhwc_to_nchw(out: number, inp: number, N: number, C: number, H: number, W: number): void;

  // ---- Recurrent cells (assembly/rnn.ts): gate blocks of hidden units, see that file's header ----
  /** Hidden units per gate block (16 for every cell): Hp = ceil(H/UB)*UB. */
  rnn_block_units(G: number): number;
  /** Floats of W [G*H, K] packed in gate blocks: Hp * G * K. */
  rnn_packed_gates_size(G: number, H: number, K: number): number;
  /** Pack W [G*H, K] row-major (PyTorch weight_hh) into gate blocks; units past H are zero. */
  rnn_pack_gates(dst: number, w: number, G: number, H: number, K: number): void;
  /**
   * One LSTM step for B rows: pre = gx[b] + W_hh·h_prev[b]; c' = σf·c + σi·tanh g; h' = σo·tanh c'.
   * h_out row stride ldh, h_prev ldhp (must not overlap h_out), c [B, H] in place, gx row stride ldgx in
   * gate-block column order (4*Hp floats, b_ih + b_hh included), pw = rnn_pack_gates(W_hh, 4, H, H).
   */
  lstm_step(h_out: number, ldh: number, c: number, h_prev: number, ldhp: number, gx: number, ldgx: number,
    pw: number, B: number, H: number): void;
  /**
   * One GRU step: r, z = σ(gx + W_h·h), n = tanh(gx_n + r·(W_hn·h + b_hn)), h' = (1-z)·n + z·h.
   * gx holds b_ih, plus b_hr/b_hz; bhn (Hp floats, 0 = none) apart; pw = rnn_pack_gates(W_hh, 3, H, H).
   */
  gru_step(h_out: number, ldh: number, h_prev: number, ldhp: number, gx: number, ldgx: number,
    pw: number, bhn: number, B: number, H: number): void;
  /** lstm_step for unit blocks u0 .. u1-1 only (16 units a block; all of h_prev read): threads split a step so. */
  lstm_step_units(h_out: number, ldh: number, c: number, h_prev: number, ldhp: number, gx: number, ldgx: number,
    pw: number, B: number, H: number, u0: number, u1: number): void;
  /** gru_step for unit blocks u0 .. u1-1 only. */
  gru_step_units(h_out: number, ldh: number, h_prev: number, ldhp: number, gx: number, ldgx: number,
    pw: number, bhn: number, B: number, H: number, u0: number, u1: number): void;
  /**
   * Every timestep of directions d0 .. d1-1 of one recurrent layer (kind 0 LSTM, 1 GRU, 2 plain RNN through
   * gemm_packed with `flags`): direction 1 (and 0 when rev0) runs t = T-1 .. 0; byte strides per step (_ts)
   * and per direction (_ds); see assembly/rnn.ts. The thread pool runs a bidirectional layer's two
   * directions on two threads.
   */
  rnn_directions(kind: number, d0: number, d1: number, rev0: number, out: number, ldo: number, out_ts: number, out_ds: number,
    c: number, c_ds: number, h0: number, ldh0: number, h0_ds: number, gx: number, ldgx: number, gx_ts: number, gx_ds: number,
    pw0: number, pw1: number, bhn0: number, bhn1: number, B: number, H: number, T: number, flags: number): void;
  /**
   * gx[b] += W·x[b] for B rows (the input projection as a GEMV, for streaming steps): W [G*H, K] packed by
   * rnn_pack_gates, gx rows (stride ldgx) in gate-block order already holding the bias, x row stride ldx.
   */
  rnn_project(gx: number, ldgx: number, x: number, ldx: number, pw: number, B: number, G: number, H: number, K: number): void;

  // ---- Training ----
  // Backward kernels beside their forward (assembly/<op>_backward.ts), BatchNorm batch statistics (assembly/norm.ts),
  // dropout masks (assembly/random.ts), losses (assembly/loss.ts), optimizers (assembly/optim.ts).
  // Linear backward is the existing gemm: dX = dY·W (B = W row-major [OUT, IN]: b_rs = IN, b_cs = 1),
  // dW (+)= dYᵀ·X (A = dYᵀ: a_rs = 1, a_cs = OUT), db via bias_grad. `flags` bit 0 = accumulate (+=) where
  // stated; "overwritten" outputs ignore prior contents.

  /** db[n] (+)= sum_m dy[m*N + n] (Linear: M = batch; conv: M = N*OH*OW pixels). f32 blocks of 32 rows summed in f64. */
  bias_grad(db: number, dy: number, M: number, N: number, flags: number): void;
  /**
   * dx = dy * act'(y) from the forward OUTPUT y: relu dy*(y>0), tanh dy*(1-y²), sigmoid dy*y*(1-y),
   * leaky_relu dy*(y>0 ? 1 : alpha), relu_cap dy*(0<y<alpha), 0 = copy. In place allowed.
   */
  act_backward(dx: number, dy: number, y: number, n: number, act: number, alpha: number): void;
  /** out = a * b elementwise (dropout forward/backward with the mask). In place allowed. */
  mul(out: number, a: number, b: number, n: number): void;

  /** Bytes of scratch for conv2d_backward_data and conv2d_backward_weight (same dims as the forward; bounded: <= ~2 MB + one tap's packed weights chunk). */
  conv2d_backward_scratch_size(N: number, H: number, W: number, C: number, OH: number, OW: number, OC: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number, groups: number): number;
  /** dx [N,H,W,C] (overwritten) from dy [N,OH,OW,OC] and RAW PyTorch OIHW weights w [OC, C/groups, KH, KW]. */
  conv2d_backward_data(dx: number, dy: number, w: number, N: number, H: number, W: number, C: number,
    OH: number, OW: number, OC: number, KH: number, KW: number, SH: number, SW: number, PH: number, PW: number,
    DH: number, DW: number, groups: number, scratch: number): void;
  /** dw OIHW [OC, C/groups, KH, KW] (+= with flags bit 0) from x [N,H,W,C] and dy [N,OH,OW,OC]. Conv bias: bias_grad. */
  conv2d_backward_weight(dw: number, x: number, dy: number, N: number, H: number, W: number, C: number,
    OH: number, OW: number, OC: number, KH: number, KW: number, SH: number, SW: number, PH: number, PW: number,
    DH: number, DW: number, groups: number, flags: number, scratch: number): void;

  /**
   * Part `part` of `parts` of the whole call: the dw columns of its share of col's 8-column panels, every stage,
   * its im2col in its own `buf` (conv2d_backward_scratch_size); the parts together are the whole call, bit for bit.
   */
  conv2d_backward_weight_part(dw: number, x: number, dy: number, N: number, H: number, W: number, C: number,
    OH: number, OW: number, OC: number, KH: number, KW: number, SH: number, SW: number, PH: number, PW: number,
    DH: number, DW: number, groups: number, flags: number, buf: number, part: number, parts: number): void;

  /**
   * dx [N,H,W,C] (overwritten) of max_pool2d from dy [N,OH,OW,C] and the forward input x. Each window's
   * gradient goes to the tap PyTorch's CPU kernel picks: scan kh then kw, update on `v > max || isnan(v)`
   * (the first maximum, or the last NaN); overlapping windows add. dx must not overlap dy or x.
   */
  maxpool2d_backward_nhwc(dx: number, dy: number, x: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, DH: number, DW: number): void;
  /** dx (overwritten) of avg_pool2d: dy / divisor to every in-input cell of the window (forward's divisor rules). */
  avgpool2d_backward_nhwc(dx: number, dy: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, SH: number, SW: number, PH: number, PW: number, count_include_pad: number, divisor: number): void;
  /** dx (overwritten) of adaptive_avg_pool2d. */
  adaptive_avgpool2d_backward_nhwc(dx: number, dy: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** dx (overwritten) of adaptive_max_pool2d (same argmax rule as maxpool2d_backward_nhwc). */
  adaptive_maxpool2d_backward_nhwc(dx: number, dy: number, x: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;

  /**
   * BatchNorm training forward, part 1: per-channel batch mean and BIASED variance of x [P, C] (two passes,
   * f64 accumulation). The caller then sets scale = gamma/sqrt(var+eps), shift = beta - mean*scale (C floats,
   * TS side) and runs scale_shift; the running stats update (momentum, running_var with the unbiased
   * var*P/(P-1)) is TS side too.
   */
  batchnorm_stats(mean: number, var_: number, x: number, P: number, C: number): void;
  /**
   * Training-mode BatchNorm backward: dx [P, C] (overwritten; may be dy) = gamma*invstd*(dy - mean(dy) -
   * xhat*mean(dy*xhat)); dbeta (+)= sum dy, dgamma (+)= sum dy*xhat (flags bit 0; either pointer may be 0).
   * mean/var are batchnorm_stats' (biased); gamma 0 = affine off (gamma = 1).
   */
  batchnorm_backward(dx: number, dgamma: number, dbeta: number, dy: number, x: number, mean: number, var_: number,
    gamma: number, eps: number, P: number, C: number, flags: number): void;
  /**
   * mask[i] = u(seed, i) >= p ? 1/(1-p) : 0 for i < n, u = splitmix64(seed + (i+1)*0x9E3779B97F4A7C15) >> 40
   * divided by 2^24; seed = seed_hi * 2^32 + seed_lo (u32 each). Deterministic, the same in every variant.
   * p >= 1: all 0. Dropout forward y = mul(x, mask), backward dx = mul(dy, mask).
   */
  dropout_mask(mask: number, n: number, p: number, seed_lo: number, seed_hi: number): void;
  /** dw [num, dim] += dy [count, dim] scattered by ids [count] (i32); rows whose id == padding_idx skipped (-1 = none). Always accumulates. */
  embedding_backward(dw: number, ids: number, dy: number, count: number, dim: number, padding_idx: number): void;

  // Losses: L = scale * sum of per-element (per-row) losses is RETURNED (f64) and dL/dinput written (f32),
  // so scale = 1/batch gives reduction='mean'. A gradient pointer 0 = loss only.
  /**
   * Cross-entropy on logits [rows, cols], labels i32 [rows]: L = scale * sum_r (logsumexp(x_r) - x_r[label]),
   * dlogits = (softmax - onehot) * scale (may be logits: in place). Labels outside [0, cols) (ignore_index)
   * add nothing and get a zero gradient row.
   */
  softmax_cross_entropy(dlogits: number, logits: number, labels: number, rows: number, cols: number, scale: number): number;
  /** L = scale * sum (pred - target)², dpred = 2*scale*(pred - target). */
  mse_loss(dpred: number, pred: number, target: number, n: number, scale: number): number;
  /** L = scale * sum (max(x,0) - x*t + log(1+exp(-|x|))), dx = scale * (sigmoid(x) - t). */
  bce_with_logits(dx: number, x: number, target: number, n: number, scale: number): number;
  /** VAE KL term: L = scale * -0.5 * sum(1 + logvar - mu² - exp(logvar)); ACCUMULATES dmu += scale*mu, dlogvar += 0.5*scale*(exp(logvar) - 1). */
  kl_normal(dmu: number, dlogvar: number, mu: number, logvar: number, n: number, scale: number): number;

  // Optimizers over a flat buffer of n f32 parameters; g is never modified.
  /** torch.optim.SGD: d = g + wd*p; buf = first_step ? d : momentum*buf + (1-dampening)*d; d = nesterov ? d + momentum*buf : buf; p -= lr*d. buf may be 0 if momentum == 0. */
  sgd_step(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weight_decay: number, nesterov: number, first_step: number): void;
  /** torch.optim.Adam (adamw 0: g += wd*p) / AdamW (adamw 1: p *= 1 - lr*wd); step is 1-based, bias corrections from it; no amsgrad. */
  adam_step(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weight_decay: number, adamw: number, step: number): void;
  /** sum x² in f64 (clip_grad_norm_: total_norm = sqrt of the sum over all parameter buffers). */
  sum_squares(x: number, n: number): number;
  /** x *= s. */
  scale_inplace(x: number, n: number, s: number): void;

  // ---- VAE: noise (assembly/random.ts), reparameterisation (assembly/vae.ts); scalar in every variant, so all
  // variants give the same bits ----
  /** out[i] ~ N(0,1), a pure function of (seed, i): Box-Muller over dropout_mask's counter hash (pairs 2j, 2j+1), f64 math, one f32 rounding. */
  vae_normal(out: number, n: number, seed_lo: number, seed_hi: number): void;
  /** z = mu + exp(0.5*logvar) * eps over n elements (z may alias eps). */
  vae_reparam(z: number, mu: number, logvar: number, eps: number, n: number): void;
  /** dmu = dz, dlogvar = dz * eps * 0.5 * exp(0.5*logvar), both OVERWRITTEN (kl_normal then accumulates). */
  vae_reparam_backward(dmu: number, dlogvar: number, dz: number, logvar: number, eps: number, n: number): void;

  // ---- Recurrent training cells (assembly/rnn_cell.ts forward, rnn_cell_backward.ts backward): PyTorch gate order,
  // plain [B, G*H] rows; 0 = zeros/none ----
  /** LSTM gate math: gates pre-activations -> activations (in place, saved); c_out = σf·c_prev + σi·g; h_out = σo·tanh(c_out). */
  lstm_cell_forward(gates: number, ldg: number, c_out: number, c_prev: number, h_out: number, ldh: number, B: number, H: number): void;
  /** LSTM step backward: dgates from dh = dh_out + dh_rec; dc holds dc_t on entry and dc_{t-1} on return. */
  lstm_cell_backward(dgates: number, ldg: number, dc: number, dh_out: number, ldo: number, dh_rec: number,
    gates: number, c: number, c_prev: number, B: number, H: number): void;
  /** GRU gate math: gx (x·W_ihᵀ + b_ih) -> r, z, n in place; gh = h·W_hhᵀ + b_hh read; h_out = (1-z)·n + z·h_prev. */
  gru_cell_forward(gx: number, gh: number, ldg: number, h_prev: number, ldhp: number, h_out: number, ldh: number, B: number, H: number): void;
  /** GRU step backward: dgx = (da_r, da_z, da_n), dgh = (da_r, da_z, da_n·r), dh_prev = dh·z (may alias dh_rec). */
  gru_cell_backward(dgx: number, dgh: number, ldg: number, dh_prev: number, dh_out: number, ldo: number, dh_rec: number,
    gates: number, gh: number, h_prev: number, ldhp: number, B: number, H: number): void;
  /** Plain RNN step backward: dpre = (dh_out + dh_rec)·act'(h) (tanh 1-h², relu h>0). */
  rnn_cell_backward(dpre: number, ldg: number, dh_out: number, ldo: number, dh_rec: number, h: number, ldh: number,
    B: number, H: number, relu: number): void;
}
