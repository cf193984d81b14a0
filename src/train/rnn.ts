/**
 * Training build of the recurrent layers (RNN tanh/relu, LSTM, GRU; stacked, bidirectional, batchFirst):
 * the forward saves what backpropagation through time needs, and one backward closure per layer stack
 * records BPTT from the top layer down.
 *
 * Per layer l and direction d, time-major (X [T*B, F], the output sequence O [T, B, D*H]):
 *   forward   gates = X·W_ihᵀ + b                       one GEMM over all T*B rows
 *             for t: gates_t += h_{t-1}·W_hhᵀ (LSTM)     one GEMM per step (GRU: gh_t = h_{t-1}·W_hhᵀ + b_hh
 *                    cell forward (rnn_backward.ts)      apart, r scales its n part), then the gate math,
 *                                                        activations saved in place, h_t written into O
 *   backward  for t in reverse: cell backward -> dgates_t (and dc_{t-1}); dh_{t-1} = dgates_t·W_hh (GEMM)
 *             then over all timesteps at once: dW_ih = dGatesᵀ·X, dW_hh = dGatesᵀ·H_prev (H_prev is O
 *             shifted by one step: a strided view, plus h0's rows), db = column sums, dX = dGates·W_ih
 *             (both directions accumulate into dX).
 * Raw PyTorch-layout weights are read from the ParamStore and packed for gemm_packed once per step (they
 * change every step), in PyTorch's gate order: no inference gate blocks here.
 *
 * Saved per layer and direction: gates [T, B, G*H] (activations), LSTM cells c [T, B, H], GRU hidden
 * projections gh [T, B, 3H], and the output sequence itself (h_t for every t). The planner keeps them
 * alive until the backward ops that read them.
 */
import { WasmzooError } from '../errors.js';
import { Act, FLAG_ACCUMULATE, epilogueFlags } from '../runtime/kernels.js';
import { at, type Value } from '../nn/graph.js';
import type { Parameter } from '../nn/module.js';
import { reshapeValue, swap01, type RNNMode, type RecurrentValues } from '../nn/layers/rnn.js';
import type { TrainGraph } from './graph.js';
import { trainDropout } from './layers.js';

export interface RecurrentWeights {
  wih: Parameter;
  whh: Parameter;
  bih?: Parameter;
  bhh?: Parameter;
}

export interface RecurrentSpec {
  name: string;
  mode: RNNMode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  /** [l*D + d] */
  weights: readonly RecurrentWeights[];
  /** Dropout probability on the outputs of each layer but the last (0 = none). */
  dropout: number;
}

/** [A, B, F] -> [B, A, F] with its backward (the inverse transpose of the gradient). */
export function trainSwap01(g: TrainGraph, name: string, x: Value): Value {
  const y = swap01(g, name, x);
  const [A, B] = x.shape;
  // a model input stays a constant through the transpose: no dX GEMM for the first layer
  if (!g.needsGrad(x)) {
    g.constant(y);
    return y;
  }
  // A = 1 or B = 1: a view of the same buffer, which shares x's gradient entry already
  if (A === 1 || B === 1) return y;
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy || !g.needsGrad(x)) return;
    // the gradient may have been recorded under another view of y (e.g. [B*T, F] rows of a Linear)
    g.addGrad(x, swap01(g, `${name}.backward`, reshapeValue(dy, y.shape)));
  });
  return y;
}

interface Saved {
  gates?: Value;
  gh?: Value;
  c?: Value;
}

/**
 * Record the training forward and backward of a recurrent layer stack on x ([T, B, F], [B, T, F] with
 * batchFirst, unbatched [T, F]) with optional initial states ([L*D, B, H]). Same values as the inference
 * buildRecurrent: output (API layout), timeMajor, h_n, c_n.
 */
export function trainRecurrent(g: TrainGraph, m: RecurrentSpec, x: Value, init: { h?: Value; c?: Value },
  dims: { T: number; B: number; batched: boolean }): RecurrentValues {
  const k = g.rt.k;
  const { T, B, batched } = dims;
  const { mode, hiddenSize: H, numLayers: L, name } = m;
  const lstm = mode === 'LSTM', gru = mode === 'GRU', rnn = !lstm && !gru;
  const G = lstm ? 4 : gru ? 3 : 1;
  const GH = G * H;
  const D = m.bidirectional ? 2 : 1;
  const DH = D * H, LD = L * D, M = T * B;
  const f4 = 4;
  const stateShape = batched ? [LD, B, H] : [LD, H];
  const hN = g.value(stateShape);
  const cN = lstm ? g.value(stateShape) : undefined;
  const zero = g.value([B, H]);
  g.op(`${name}.zero_state`, [], (p) => g.rt.arena.f32.fill(0, at(p, zero) >> 2, (at(p, zero) >> 2) + B * H));
  const { h: h0, c: c0 } = init;
  const inp0 = batched && m.batchFirst ? trainSwap01(g, name, x) : x;
  const inputs: Value[] = []; // per layer: [M, F]
  const outs: Value[] = []; // per layer: [T, B, DH]
  const saved: Saved[] = []; // per l*D + d
  const act = mode === 'RNN_RELU' ? Act.Relu : Act.Tanh;
  let inp = reshapeValue(inp0, [M, m.inputSize]);
  const timeMajorShape = batched ? [T, B, DH] : [T, DH];
  // gradients of the initial state, one slice per layer and direction (made by the first backward to run)
  const grads0: { dh0?: Value; dc0?: Value; made?: boolean } = {};
  for (let l = 0; l < L; l++) {
    const F = l === 0 ? m.inputSize : DH;
    const ln = `${name}.l${l}`;
    // dropout on the outputs of every layer but the last (torch.nn.LSTM's `dropout`), seeded per step
    if (l > 0 && m.dropout > 0) inp = trainDropout(g, `${ln}.dropout`, inp, m.dropout);
    const out = g.value([T, B, DH]);
    inputs.push(inp);
    outs.push(out);
    for (let d = 0; d < D; d++) {
      const s = l * D + d;
      const dn = `${ln}${d ? '_reverse' : ''}`;
      const w = m.weights[s];
      const wih = g.paramData(w.wih), whh = g.paramData(w.whh);
      const bih = w.bih ? g.paramData(w.bih) : 0, bhh = w.bhh ? g.paramData(w.bhh) : 0;
      const pih = g.value([k.gemm_packed_b_size(F, GH)]);
      const phh = g.value([k.gemm_packed_b_size(H, GH)]);
      const bsum = g.value([GH]);
      g.op(`${dn}.pack`, [], (p) => {
        // B operands Wᵀ: element (k, n) at W[n*K + k]
        k.gemm_pack_b(at(p, pih), wih, F, GH, 1, F);
        k.gemm_pack_b(at(p, phh), whh, H, GH, 1, H);
        if (bih) {
          if (gru) k.copy_channels(at(p, bsum), bih, 1, GH, GH, GH);
          else k.add(at(p, bsum), bih, bhh, GH, 0);
        }
      });
      const bias = (p: Int32Array) => (bih ? at(p, bsum) : 0);
      const sv: Saved = {};
      saved.push(sv);
      const src = inp;
      if (rnn) {
        g.op(`${dn}.input_gemm`, [src, pih, bsum], (p) =>
          k.gemm_packed(at(p, out) + d * H * f4, at(p, src), at(p, pih), bias(p), M, H, F, F, 1, DH, 0));
      } else {
        const gates = (sv.gates = g.value([T, B, GH]));
        g.op(`${dn}.input_gemm`, [src, pih, bsum], (p) => k.gemm_packed(at(p, gates), at(p, src), at(p, pih), bias(p), M, GH, F, F, 1, GH, 0));
      }
      if (gru) sv.gh = g.value([T, B, GH]);
      if (lstm) sv.c = g.value([T, B, H]);
      // NOTE: h_n and c_n are written here: listing them keeps them live up to this op even when nothing
      // reads them later (else the planner may place them over buffers live now)
      const reads: Value[] = [out, phh, zero, hN];
      for (const v of [sv.gates, sv.gh, sv.c, h0, c0, cN]) if (v) reads.push(v);
      const rflags = epilogueFlags(act, true);
      g.op(`${dn}.steps`, reads, (p) => {
        const op = at(p, out) + d * H * f4;
        const pw = at(p, phh);
        const gp = sv.gates ? at(p, sv.gates) : 0;
        const ghp = sv.gh ? at(p, sv.gh) : 0;
        const cp = sv.c ? at(p, sv.c) : 0;
        for (let i = 0; i < T; i++) {
          const t = d ? T - 1 - i : i;
          const tp = d ? t + 1 : t - 1;
          let hp: number, ldhp: number, hk: number; // hk: h_prev for the cell kernels (0 = zeros)
          if (i === 0) {
            hp = h0 ? at(p, h0) + s * B * H * f4 : at(p, zero);
            hk = h0 ? hp : 0;
            ldhp = H;
          } else {
            hk = hp = op + tp * B * DH * f4;
            ldhp = DH;
          }
          const ho = op + t * B * DH * f4;
          if (lstm) {
            const gt = gp + t * B * GH * f4;
            k.gemm_packed(gt, hp, pw, 0, B, GH, H, ldhp, 1, GH, FLAG_ACCUMULATE);
            const cprev = i === 0 ? (c0 ? at(p, c0) + s * B * H * f4 : 0) : cp + tp * B * H * f4;
            k.lstm_cell_forward(gt, GH, cp + t * B * H * f4, cprev, ho, DH, B, H);
          } else if (gru) {
            const ght = ghp + t * B * GH * f4;
            k.gemm_packed(ght, hp, pw, bhh, B, GH, H, ldhp, 1, GH, 0);
            k.gru_cell_forward(gp + t * B * GH * f4, ght, GH, hk, ldhp, ho, DH, B, H);
          } else {
            k.gemm_packed(ho, hp, pw, 0, B, H, H, ldhp, 1, DH, rflags);
          }
        }
        const last = d ? 0 : T - 1;
        k.copy_channels(at(p, hN) + s * B * H * f4, op + last * B * DH * f4, B, H, H, DH);
        if (cN) k.copy_channels(at(p, cN) + s * B * H * f4, cp + last * B * H * f4, B, H, H, H);
      });
    }
    inp = reshapeValue(out, [M, DH]);
    // one backward closure per layer, so a dropout between layers replays its backward in between
    const layer = l;
    g.onBackward(() => backwardLayer(layer));
  }
  const top = outs[L - 1];
  const timeMajor = reshapeValue(top, timeMajorShape);

  /** BPTT of layer l: its output gradient, then dX into the layer below (or the input) by addGrad. */
  function backwardLayer(l: number): void {
    const dOut = g.grad(reshapeValue(outs[l], timeMajorShape));
    const dhN = g.grad(hN);
    const dcN = cN ? g.grad(cN) : undefined;
    if (!dOut && !dhN && !dcN) return;
    if (!grads0.made) {
      grads0.made = true;
      if (h0 && g.needsGrad(h0)) grads0.dh0 = g.value(h0.shape);
      if (c0 && g.needsGrad(c0)) grads0.dc0 = g.value(c0.shape);
    }
    const { dh0, dc0 } = grads0;
    {
      const F = l === 0 ? m.inputSize : DH;
      const ln = `${name}.l${l}`;
      const X = inputs[l], out = outs[l];
      const needDX = l > 0 ? g.needsGrad(X) : g.needsGrad(inp0);
      const dX = needDX ? g.value([M, F]) : undefined;
      for (let d = 0; d < D; d++) {
        const s = l * D + d;
        const dn = `${ln}${d ? '_reverse' : ''}`;
        const w = m.weights[s];
        const sv = saved[s];
        const wih = g.paramData(w.wih), whh = g.paramData(w.whh);
        const dG = g.value([T, B, GH]);
        const dGh = gru ? g.value([T, B, GH]) : dG;
        const dh = g.value([B, H]);
        const dc = lstm ? g.value([B, H]) : undefined;
        const phhT = g.value([k.gemm_packed_b_size(GH, H)]);
        const reads: Value[] = [out, dG, dGh, dh, phhT];
        for (const v of [dOut, sv.gates, sv.gh, sv.c, h0, c0, dhN, dcN, dc, dh0, dc0]) if (v) reads.push(v);
        const dO = dOut;
        g.op(`${dn}.backward_steps`, reads, (p) => {
          const f32 = g.rt.arena.f32;
          // B operand W_hh [GH, H] row-major: dh_{t-1} = dgates_t · W_hh
          k.gemm_pack_b(at(p, phhT), whh, GH, H, H, 1);
          const pw = at(p, phhT);
          const dhp = at(p, dh);
          if (dhN) k.copy_channels(dhp, at(p, dhN) + s * B * H * f4, B, H, H, H);
          else f32.fill(0, dhp >> 2, (dhp >> 2) + B * H);
          const dcp = dc ? at(p, dc) : 0;
          if (dc) {
            if (dcN) k.copy_channels(dcp, at(p, dcN) + s * B * H * f4, B, H, H, H);
            else f32.fill(0, dcp >> 2, (dcp >> 2) + B * H);
          }
          const op = at(p, out) + d * H * f4;
          const dop = dO ? at(p, dO) + d * H * f4 : 0;
          const gp = sv.gates ? at(p, sv.gates) : 0;
          const ghp = sv.gh ? at(p, sv.gh) : 0;
          const cp = sv.c ? at(p, sv.c) : 0;
          const dgp = at(p, dG), dghp = at(p, dGh);
          for (let i = T - 1; i >= 0; i--) {
            const t = d ? T - 1 - i : i;
            const tp = d ? t + 1 : t - 1;
            const hk = i === 0 ? (h0 ? at(p, h0) + s * B * H * f4 : 0) : op + tp * B * DH * f4;
            const ldhp = i === 0 ? H : DH;
            const dho = dop ? dop + t * B * DH * f4 : 0;
            const dgt = dgp + t * B * GH * f4;
            if (lstm) {
              const cprev = i === 0 ? (c0 ? at(p, c0) + s * B * H * f4 : 0) : cp + tp * B * H * f4;
              k.lstm_cell_backward(dgt, GH, dcp, dho, DH, dhp, gp + t * B * GH * f4, cp + t * B * H * f4, cprev, B, H);
              k.gemm_packed(dhp, dgt, pw, 0, B, H, GH, GH, 1, H, 0);
            } else if (gru) {
              const dght = dghp + t * B * GH * f4;
              k.gru_cell_backward(dgt, dght, GH, dhp, dho, DH, dhp, gp + t * B * GH * f4, ghp + t * B * GH * f4, hk, ldhp, B, H);
              k.gemm_packed(dhp, dght, pw, 0, B, H, GH, GH, 1, H, FLAG_ACCUMULATE);
            } else {
              k.rnn_cell_backward(dgt, H, dho, DH, dhp, op + t * B * DH * f4, DH, B, H, act === Act.Relu ? 1 : 0);
              k.gemm_packed(dhp, dgt, pw, 0, B, H, H, H, 1, H, 0);
            }
          }
          if (dh0) k.copy_channels(at(p, dh0) + s * B * H * f4, dhp, B, H, H, H);
          if (dc0 && dc) k.copy_channels(at(p, dc0) + s * B * H * f4, dcp, B, H, H, H);
        });
        // weight gradients over all timesteps at once
        const gwih = g.paramGrad(w.wih);
        const gwhh = g.paramGrad(w.whh);
        const gbih = w.bih ? g.paramGrad(w.bih) : undefined;
        const gbhh = w.bhh ? g.paramGrad(w.bhh) : undefined;
        g.scratch(k.gemm_packed_b_size(M, F) * 4);
        g.scratch(k.gemm_packed_b_size(Math.max(M - B, B), H) * 4);
        g.scratch(k.gemm_packed_b_size(GH, F) * 4);
        const wreads: Value[] = [dG, dGh, X, out];
        if (dX) wreads.push(dX);
        if (h0) wreads.push(h0);
        const dXv = dX;
        g.op(`${dn}.backward_weights`, wreads, (p, scr) => {
          const dgp = at(p, dG), dghp = at(p, dGh);
          // dW_ih [GH, F] = dGᵀ [GH, M] · X [M, F]
          k.gemm(gwih.ptr, dgp, at(p, X), 0, GH, F, M, 1, GH, F, 1, F, gwih.flags, scr);
          // dW_hh [GH, H] = sum_t dGh_tᵀ · h_{t-1}: the shifted output rows, then h0's rows
          const op = at(p, out) + d * H * f4;
          let flags = gwhh.flags;
          if (T > 1) {
            const a = d ? dghp : dghp + B * GH * f4; // steps whose h_prev is in the output
            const hb = d ? op + B * DH * f4 : op;
            k.gemm(gwhh.ptr, a, hb, 0, GH, H, (T - 1) * B, 1, GH, DH, 1, H, flags, scr);
            flags = FLAG_ACCUMULATE;
          }
          const first = d ? T - 1 : 0;
          if (h0) {
            k.gemm(gwhh.ptr, dghp + first * B * GH * f4, at(p, h0) + s * B * H * f4, 0, GH, H, B, 1, GH, H, 1, H, flags, scr);
          } else if (T === 1 && !(flags & FLAG_ACCUMULATE)) {
            g.rt.arena.f32.fill(0, gwhh.ptr >> 2, (gwhh.ptr >> 2) + GH * H);
          }
          if (gbih) k.bias_grad(gbih.ptr, dgp, M, GH, gbih.flags);
          if (gbhh) k.bias_grad(gbhh.ptr, dghp, M, GH, gbhh.flags);
          // dX [M, F] (+)= dG [M, GH] · W_ih [GH, F]
          if (dXv) k.gemm(at(p, dXv), dgp, wih, 0, M, F, GH, GH, 1, F, 1, F, d ? FLAG_ACCUMULATE : 0, scr);
        });
      }
      if (l > 0) g.addGrad(X, dX!);
      else if (dX) g.addGrad(inp0, reshapeValue(dX, inp0.shape));
    }
    if (l === 0) {
      if (dh0 && h0) g.addGrad(h0, dh0);
      if (dc0 && c0) g.addGrad(c0, dc0);
    }
  }

  const output = batched && m.batchFirst ? trainSwap01(g, name, reshapeValue(top, [T, B, DH])) : timeMajor;
  return { output, timeMajor, h: hN, c: cN };
}

/** Embedding lookup from the raw table with its backward (scatter-add into the weight gradient). */
export function trainEmbedding(g: TrainGraph, m: { name: string; weight: Parameter; numEmbeddings: number; embeddingDim: number; paddingIdx?: number },
  x: Value): Value {
  const k = g.rt.k;
  const E = m.embeddingDim, V = m.numEmbeddings;
  const n = x.shape.reduce((a, b) => a * b, 1);
  const table = g.paramData(m.weight);
  const y = g.value([...x.shape, E]);
  g.op(m.name, [x], (p) => {
    const f32 = g.rt.arena.f32;
    const ids = at(p, x) >> 2, out = at(p, y) >> 2, tb = table >> 2;
    for (let i = 0; i < n; i++) {
      const id = f32[ids + i];
      // the trainer writes ids unchecked: refuse before reading outside the table
      if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new WasmzooError('E_ARGUMENT', `${m.name}: token id at flat index ${i} is ${id}; ids must be integers in [0, ${V})`);
      f32.copyWithin(out + i * E, tb + id * E, tb + (id + 1) * E);
    }
  });
  g.onBackward(() => {
    const dy = g.grad(y);
    if (!dy) return;
    const gw = g.paramGrad(m.weight);
    const ids32 = g.value([n]);
    g.op(`${m.name}.backward`, [x, dy], (p) => {
      const a = g.rt.arena;
      if (!(gw.flags & FLAG_ACCUMULATE)) a.f32.fill(0, gw.ptr >> 2, (gw.ptr >> 2) + V * E);
      const src = at(p, x) >> 2, dst = at(p, ids32) >> 2;
      for (let i = 0; i < n; i++) a.i32[dst + i] = a.f32[src + i];
      k.embedding_backward(gw.ptr, at(p, ids32), at(p, dy), n, E, m.paddingIdx ?? -1);
    });
  });
  return y;
}
