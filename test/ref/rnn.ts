/**
 * Scalar oracles for the recurrent kernels (assembly/rnn.ts) and layers (src/nn/layers/rnn.ts): plain loops
 * in f64 with exact Math.tanh / Math.exp, PyTorch's equations written out, independent of the packed layouts.
 * Slow on purpose; tests only.
 *
 * Semantics (https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html, .GRU.html, .RNN.html):
 *   RNN   h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh | relu
 *   LSTM  gates i, f, g, o (rows 0..H-1, H..2H-1, ... of W_ih / W_hh)
 *         c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c')
 *   GRU   gates r, z, n
 *         r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(... z ...), n = tanh(W_in x + b_in + r·(W_hn h + b_hn))
 *         h' = (1 - z)·n + z·h
 * Layers: layer l > 0 reads the concatenated outputs [fwd, rev] of layer l-1; the reverse direction runs
 * t = T-1 .. 0; h_n / c_n are stacked [layer*D + dir, B, H]. Tensors here are time-major [T, B, F].
 */

export type RnnMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

export const gateCount = (mode: RnnMode): number => (mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1);

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** W [R, K] row-major times v [K] (offset vo): R values. */
function matvec(w: ArrayLike<number>, R: number, K: number, v: ArrayLike<number>, vo: number): Float64Array {
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += w[r * K + k] * v[vo + k];
    out[r] = s;
  }
  return out;
}

/**
 * One cell step for one batch row. gx = W_ih x + b_ih (G*H, PyTorch gate order), hPrev (H), c (H, LSTM
 * only, updated in place), whh [G*H, H], bhh [G*H] or undefined. Returns h'.
 */
export function cellRef(mode: RnnMode, gx: ArrayLike<number>, hPrev: ArrayLike<number>, c: Float64Array | undefined,
  whh: ArrayLike<number>, bhh: ArrayLike<number> | undefined, H: number): Float64Array {
  const G = gateCount(mode);
  const gh = matvec(whh, G * H, H, hPrev, 0);
  if (bhh) for (let i = 0; i < G * H; i++) gh[i] += bhh[i];
  const h = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    if (mode === 'LSTM') {
      const i = sig(gx[j] + gh[j]), f = sig(gx[H + j] + gh[H + j]);
      const g = Math.tanh(gx[2 * H + j] + gh[2 * H + j]), o = sig(gx[3 * H + j] + gh[3 * H + j]);
      c![j] = f * c![j] + i * g;
      h[j] = o * Math.tanh(c![j]);
    } else if (mode === 'GRU') {
      const r = sig(gx[j] + gh[j]), z = sig(gx[H + j] + gh[H + j]);
      const n = Math.tanh(gx[2 * H + j] + r * gh[2 * H + j]);
      h[j] = (1 - z) * n + z * hPrev[j];
    } else {
      const s = gx[j] + gh[j];
      h[j] = mode === 'RNN_TANH' ? Math.tanh(s) : Math.max(0, s);
    }
  }
  return h;
}

export interface RnnRefArgs {
  mode: RnnMode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  /** state_dict: weight_ih_l{l}[_reverse], weight_hh_..., bias_ih_..., bias_hh_... (biases optional). */
  weights: Record<string, ArrayLike<number>>;
  /** Input, time-major [T, B, inputSize]. */
  x: ArrayLike<number>;
  T: number;
  B: number;
  /** Initial states [numLayers*D, B, H] (zeros when absent). */
  h0?: ArrayLike<number>;
  c0?: ArrayLike<number>;
}

/** The whole multi-layer (bi)directional network: output [T, B, D*H], h [L*D, B, H], c (LSTM). */
export function rnnRef(a: RnnRefArgs): { output: Float64Array; h: Float64Array; c?: Float64Array } {
  const { mode, hiddenSize: H, numLayers: L, T, B } = a;
  const D = a.bidirectional ? 2 : 1;
  const G = gateCount(mode);
  const hN = new Float64Array(L * D * B * H);
  const cN = mode === 'LSTM' ? new Float64Array(L * D * B * H) : undefined;
  let inp: ArrayLike<number> = a.x;
  let F = a.inputSize;
  let out = new Float64Array(0);
  for (let l = 0; l < L; l++) {
    out = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const wih = a.weights[`weight_ih${sfx}`], whh = a.weights[`weight_hh${sfx}`];
      const bih = a.weights[`bias_ih${sfx}`], bhh = a.weights[`bias_hh${sfx}`];
      const s = l * D + d;
      for (let b = 0; b < B; b++) {
        let h: ArrayLike<number> = a.h0 ? Array.from({ length: H }, (_, j) => a.h0![(s * B + b) * H + j]) : new Float64Array(H);
        const c = new Float64Array(H);
        if (a.c0) for (let j = 0; j < H; j++) c[j] = a.c0[(s * B + b) * H + j];
        for (let step = 0; step < T; step++) {
          const t = d ? T - 1 - step : step;
          const gx = matvec(wih, G * H, F, inp, (t * B + b) * F);
          if (bih) for (let i = 0; i < G * H; i++) gx[i] += bih[i];
          h = cellRef(mode, gx, h, c, whh, bhh, H);
          for (let j = 0; j < H; j++) out[(t * B + b) * D * H + d * H + j] = h[j];
        }
        for (let j = 0; j < H; j++) {
          hN[(s * B + b) * H + j] = h[j];
          if (cN) cN[(s * B + b) * H + j] = c[j];
        }
      }
    }
    inp = out;
    F = D * H;
  }
  return { output: out, h: hN, c: cN };
}

/** Hidden units per packed block (assembly/rnn.ts rnn_block_units): 16 for every cell. */
export const blockUnits = (_G: number): number => 16;

/**
 * The packed "gate block" layout of assembly/rnn.ts, as an oracle: hidden units in blocks of UB
 * (Hp = ceil(H/UB)*UB); block u holds gate groups (LSTM [i, f], [g, o]; otherwise all G gates in one group),
 * each group K rows of one UB-float run per gate: W[g*H + UB*u + l, k] (zero past H).
 */
export function packGatesRef(w: ArrayLike<number>, G: number, H: number, K: number): Float32Array {
  const UB = blockUnits(G);
  const U = Math.ceil(H / UB);
  const GS = G === 4 ? 2 : G;
  const out = new Float32Array(U * K * G * UB);
  let i = 0;
  for (let u = 0; u < U; u++)
    for (let g0 = 0; g0 < G; g0 += GS)
      for (let k = 0; k < K; k++)
        for (let g = g0; g < g0 + GS; g++)
          for (let l = 0; l < UB; l++) {
            const j = UB * u + l;
            out[i++] = j < H ? w[(g * H + j) * K + k] : 0;
          }
  return out;
}

/** Gate pre-activations [rows, G*H] (PyTorch order) -> block column order [rows, G*Hp]: col (u*G + g)*UB + l. */
export function toBlockColumns(gx: ArrayLike<number>, rows: number, G: number, H: number): Float32Array {
  const UB = blockUnits(G);
  const U = Math.ceil(H / UB);
  const out = new Float32Array(rows * U * G * UB);
  for (let r = 0; r < rows; r++)
    for (let u = 0; u < U; u++)
      for (let g = 0; g < G; g++)
        for (let l = 0; l < UB; l++) {
          const j = UB * u + l;
          out[r * U * G * UB + (u * G + g) * UB + l] = j < H ? gx[r * G * H + g * H + j] : 0;
        }
  return out;
}
