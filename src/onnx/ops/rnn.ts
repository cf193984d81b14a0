/**
 * ONNX's recurrent ops RNN, LSTM and GRU (opsets 7 and 14: https://onnx.ai/onnx/operators/onnx__LSTM.html,
 * .../onnx__GRU.html, .../onnx__RNN.html). One layer each, direction forward / reverse / bidirectional,
 * inputs X, W, R, B (Wb || Rb), sequence_lens, initial_h, initial_c and P (peepholes, LSTM), outputs Y, Y_h,
 * Y_c (LSTM), any of them optional.
 *
 * Shapes (layout 0; layout 1, opset 14, is batch-first: X [B, T, F], Y [B, T, D, H], states [B, D, H]):
 *   X [T, B, F]   W [D, G*H, F]   R [D, G*H, H]   B [D, 2*G*H]   sequence_lens [B]   P [D, 3*H]
 *   initial_h, initial_c, Y_h, Y_c [D, B, H]   Y [T, D, B, H]
 * Gate blocks in W, R, B: LSTM i, o, f, c; GRU z, r, h; RNN one. (PyTorch's orders differ: LSTM i, f, g, o;
 * GRU r, z, n, which is what the core's kernels take.)
 *
 * Three paths, the same results within float32 rounding:
 * - Cell kernels (float32 with the default activations, no clip, no peepholes, no input_forget, every
 *   sequence full length; GRU only with linear_before_reset = 1, which is PyTorch's GRU and what
 *   torch.onnx.export writes): the core's recurrent kernels as src/nn/layers/rnn.ts runs torch.nn.LSTM / GRU
 *   / RNN. The weights are re-ordered into PyTorch's gate order and packed once per node (cached while W, R
 *   and B are the same tensors, as initializers are); each call is one input GEMM over all T*B rows, then one
 *   lstm_step / gru_step (RNN: a GEMM with the activation fused) per timestep and direction.
 * - Stepwise on the GEMM (float32, everything else: other activations, clip, peepholes, input_forget, ragged
 *   sequence_lens, GRU with linear_before_reset = 0): the same input GEMM, one recurrent GEMM per step
 *   (two for the GRU that resets first), the gate math in TypeScript (stepRun).
 * - Stepwise in TypeScript (float64, float16, bfloat16): stepRun with its products in float64 loops; also the
 *   reference the tests hold the other two against.
 *
 * sequence_lens: row b runs its first len_b steps (the reverse direction from step len_b - 1 down to 0);
 * Y is zero past len_b, Y_h / Y_c hold the state after the row's last step. NOTE: a row of length 0 (the
 * spec is silent; onnxruntime refuses it for RNN) gets Y_h = Y_c = 0, not its initial state.
 * clip bounds every activation's input to [-clip, clip] (the spec: "applied to the input of activations").
 *
 * NOTE (packed weights): the cache is keyed by the identity of the W, R and B tensors and their data, and
 * kept only while they are load-time constants (initializers, folded values: OpContext.constant); weights
 * fed as graph inputs are packed afresh on every call, as a caller may mutate one buffer in place.
 */
import { type Runtime } from '../../index.js';
// stateless, so the copy rollup inlines into the ONNX bundle is the same code as the core's
import { withStaged } from '../../graph/packed.js';
import { floatToHalf, tensorOf, toNumbers, type OnnxDType, type OnnxTensor } from '../value.js';
import { opError, type OpNode, type OpSpec, type OpTable } from './types.js';
import { packedBlock, repackUnlessConstant } from './wasm.js';

type Kind = 'RNN' | 'LSTM' | 'GRU';

/** Gate blocks per cell, and activation functions per direction (LSTM f, g, h; GRU f, g; RNN f). */
const GATES: Record<Kind, number> = { RNN: 1, LSTM: 4, GRU: 3 };
const ACT_COUNT: Record<Kind, number> = { RNN: 1, LSTM: 3, GRU: 2 };
const DEFAULT_ACTS: Record<Kind, string[]> = { RNN: ['tanh'], LSTM: ['sigmoid', 'tanh', 'tanh'], GRU: ['sigmoid', 'tanh'] };
/** Most inputs and outputs each op has. */
const MAX_INPUTS: Record<Kind, number> = { RNN: 6, LSTM: 8, GRU: 6 };
const MAX_OUTPUTS: Record<Kind, number> = { RNN: 2, LSTM: 3, GRU: 2 };
/** ONNX gate block of each PyTorch gate (the kernels' order): LSTM i,f,g,o <- i,o,f,c; GRU r,z,n <- z,r,h. */
const ONNX_GATE_OF: Record<Kind, number[]> = { RNN: [0], LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] };
/** No tensor of more elements than this (2^31) is made from a file's dims. */
const MAX_ELEMENTS = 2 ** 31;

// ---------------------------------------------------------------------------------------------------------
// Activations

interface ActivationDef {
  /** Takes alpha / beta (consumed in order from activation_alpha / activation_beta), with these defaults. */
  alpha?: number;
  beta?: number;
  make(alpha: number, beta: number): (x: number) => number;
}

/**
 * The activation functions the spec lists. alpha / beta defaults are those of the ONNX ops of the same
 * name (the spec says so): LeakyRelu 0.01, ThresholdedRelu 1, HardSigmoid 0.2 / 0.5, Elu 1, Affine 1 / 0,
 * ScaledTanh 1 / 1.
 */
const ACTIVATIONS: Record<string, ActivationDef> = {
  relu: { make: () => (x) => (x < 0 ? 0 : x) },
  tanh: { make: () => Math.tanh },
  sigmoid: { make: () => (x) => 1 / (1 + Math.exp(-x)) },
  affine: { alpha: 1, beta: 0, make: (a, b) => (x) => a * x + b },
  leakyrelu: { alpha: 0.01, make: (a) => (x) => (x < 0 ? a * x : x) },
  thresholdedrelu: { alpha: 1, make: (a) => (x) => (x >= a ? x : 0) },
  scaledtanh: { alpha: 1, beta: 1, make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { alpha: 0.2, beta: 0.5, make: (a, b) => (x) => Math.min(1, Math.max(0, a * x + b)) },
  elu: { alpha: 1, make: (a) => (x) => (x < 0 ? a * (Math.exp(x) - 1) : x) },
  softsign: { make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { make: () => (x) => (x > 30 ? x : Math.log1p(Math.exp(x))) },
};

interface Activation {
  /** Lower-case name (a key of ACTIVATIONS). */
  name: string;
  alpha: number;
  f: (x: number) => number;
}

// ---------------------------------------------------------------------------------------------------------
// Attributes, read once per node

interface Config {
  kind: Kind;
  /** hidden_size, when the node says it (else R's last dim). */
  hidden?: number;
  D: number;
  /** direction = reverse (a bidirectional node's second direction always runs reversed). */
  reverse: boolean;
  layout: 0 | 1;
  /** Per direction: the cell's activation functions in the spec's order. */
  acts: Activation[][];
  clip?: number;
  inputForget: boolean;
  linearBeforeReset: boolean;
}

const configs = new WeakMap<OpNode, Config | string>();

/** The node's attributes as a Config, or why the op cannot run them. */
function configOf(node: OpNode): Config | string {
  let c = configs.get(node);
  if (c === undefined) {
    c = parseConfig(node);
    configs.set(node, c);
  }
  return c;
}

function parseConfig(node: OpNode): Config | string {
  const kind = node.opType as Kind;
  const a = node.attrs;
  if (node.inputs.length < 3) return `needs inputs X, W and R, got ${node.inputs.length} input(s)`;
  if (node.inputs.length > MAX_INPUTS[kind]) return `takes at most ${MAX_INPUTS[kind]} inputs, got ${node.inputs.length}`;
  if (node.outputs.length > MAX_OUTPUTS[kind]) return `has at most ${MAX_OUTPUTS[kind]} outputs, got ${node.outputs.length}`;
  const direction = a.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    return `direction '${direction}' is not one of forward, reverse, bidirectional`;
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  const layout = a.int('layout', 0);
  if (layout !== 0 && layout !== 1) return `layout ${layout} is not 0 or 1`;
  if (layout === 1 && node.opset < 14) return `layout 1 needs opset 14 (the model imports opset ${node.opset})`;
  const hidden = a.int('hidden_size');
  if (hidden !== undefined && !(Number.isInteger(hidden) && hidden > 0 && hidden < MAX_ELEMENTS)) return `hidden_size ${hidden} is not a positive integer`;
  const clip = a.float('clip');
  if (clip !== undefined && !(clip >= 0)) return `clip ${clip} is not a non-negative threshold`;
  const inputForget = a.int('input_forget', 0);
  if (inputForget !== 0 && inputForget !== 1) return `input_forget ${inputForget} is not 0 or 1`;
  if (inputForget && kind !== 'LSTM') return `input_forget is an LSTM attribute`;
  const lbr = a.int('linear_before_reset', 0);
  if (lbr !== 0 && lbr !== 1) return `linear_before_reset ${lbr} is not 0 or 1`;
  if (a.has('output_sequence')) return `output_sequence (opset 1's ${kind}) is not supported`;
  // activations: count per direction, or count x directions
  const n = ACT_COUNT[kind];
  const names = a.strings('activations')?.map((s) => s.toLowerCase()) ?? (D === 2 ? [...DEFAULT_ACTS[kind], ...DEFAULT_ACTS[kind]] : DEFAULT_ACTS[kind]);
  if (names.length !== n && names.length !== n * D) {
    return `activations lists ${names.length} function(s); ${kind} ${direction} takes ${n * D}`;
  }
  const unknown = names.filter((s) => !Object.hasOwn(ACTIVATIONS, s));
  if (unknown.length) return `activation(s) ${unknown.map((s) => `'${s}'`).join(', ')} not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`;
  // alpha / beta go, in order, to the functions that take them (as onnxruntime reads them)
  const alphas = a.floats('activation_alpha') ?? [], betas = a.floats('activation_beta') ?? [];
  let ia = 0, ib = 0;
  const all: Activation[] = names.map((name) => {
    const def = ACTIVATIONS[name];
    const alpha = def.alpha === undefined ? 0 : ia < alphas.length ? alphas[ia++] : def.alpha;
    const beta = def.beta === undefined ? 0 : ib < betas.length ? betas[ib++] : def.beta;
    return { name, alpha, f: def.make(alpha, beta) };
  });
  const acts = Array.from({ length: D }, (_, d) => (all.length === n * D ? all.slice(d * n, d * n + n) : all));
  return { kind, hidden, D, reverse: direction === 'reverse', layout, acts, clip, inputForget: inputForget === 1, linearBeforeReset: lbr === 1 };
}

// ---------------------------------------------------------------------------------------------------------
// Inputs, checked against each other at run time

interface Problem {
  cfg: Config;
  T: number; B: number; F: number; H: number;
  dtype: OnnxDType;
  x: ArrayLike<number>; w: ArrayLike<number>; r: ArrayLike<number>;
  bias?: ArrayLike<number>;
  /** Per batch row, or undefined when every row has length T. */
  lens?: Int32Array;
  /** Initial states [D, B, H] (layout 1 inputs already transposed). */
  h0?: ArrayLike<number>;
  c0?: ArrayLike<number>;
  p?: ArrayLike<number>;
}

const FLOAT_TYPES: ReadonlySet<OnnxDType> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function shapeOk(t: OnnxTensor, want: number[]): boolean {
  return t.dims.length === want.length && t.dims.every((d, i) => d === want[i]);
}

/** The values of a float tensor as numbers (float16/bfloat16 decoded; float32/64 as they are). */
function values(t: OnnxTensor): ArrayLike<number> {
  return t.dtype === 'float32' || t.dtype === 'float64' ? (t.data as Float32Array | Float64Array) : toNumbers(t);
}

/** [B, D, H] -> [D, B, H] (a layout 1 state). */
function batchMajorToDirMajor(v: ArrayLike<number>, B: number, D: number, H: number): Float64Array {
  const out = new Float64Array(D * B * H);
  for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) for (let j = 0; j < H; j++) out[(d * B + b) * H + j] = v[(b * D + d) * H + j];
  return out;
}

function readInputs(node: OpNode, cfg: Config, inputs: ReadonlyArray<OnnxTensor | undefined>): Problem {
  const [X, W, R, Bt, L, H0, C0, P] = inputs;
  if (!X || !W || !R) throw opError(node, 'inputs X, W and R are required');
  const dtype = X.dtype;
  if (!FLOAT_TYPES.has(dtype)) throw opError(node, `X is ${dtype}; ${node.opType} takes float32, float64, float16 or bfloat16`);
  const named: Array<[string, OnnxTensor | undefined]> = [['W', W], ['R', R], ['B', Bt], ['initial_h', H0], ['initial_c', C0], ['P', P]];
  for (const [n, t] of named) if (t && t.dtype !== dtype) throw opError(node, `${n} is ${t.dtype} but X is ${dtype}`);
  if (X.dims.length !== 3) throw opError(node, `X must be 3-D ${cfg.layout ? '[batch, seq, input]' : '[seq, batch, input]'}, got [${X.dims.join(', ')}]`);
  const [T, B] = cfg.layout ? [X.dims[1], X.dims[0]] : [X.dims[0], X.dims[1]];
  const F = X.dims[2];
  const { D, kind } = cfg;
  const G = GATES[kind];
  if (R.dims.length !== 3) throw opError(node, `R must be [${D}, ${G}*hidden_size, hidden_size], got [${R.dims.join(', ')}]`);
  const H = cfg.hidden ?? R.dims[2];
  if (!shapeOk(W, [D, G * H, F])) throw opError(node, `W must be [${D}, ${G * H}, ${F}] (directions, ${G}*hidden_size, input_size), got [${W.dims.join(', ')}]`);
  if (!shapeOk(R, [D, G * H, H])) throw opError(node, `R must be [${D}, ${G * H}, ${H}] (directions, ${G}*hidden_size, hidden_size), got [${R.dims.join(', ')}]`);
  if (Bt && !shapeOk(Bt, [D, 2 * G * H])) throw opError(node, `B must be [${D}, ${2 * G * H}] (directions, 2*${G}*hidden_size), got [${Bt.dims.join(', ')}]`);
  if (P && kind !== 'LSTM') throw opError(node, 'P is an LSTM input');
  if (P && !shapeOk(P, [D, 3 * H])) throw opError(node, `P must be [${D}, ${3 * H}] (directions, 3*hidden_size), got [${P.dims.join(', ')}]`);
  const stateDims = cfg.layout ? [B, D, H] : [D, B, H];
  for (const [n, t] of [['initial_h', H0], ['initial_c', C0]] as const) {
    if (t && !shapeOk(t, stateDims)) throw opError(node, `${n} must be [${stateDims.join(', ')}], got [${t.dims.join(', ')}]`);
  }
  if (C0 && kind !== 'LSTM') throw opError(node, 'initial_c is an LSTM input');
  if (T * B * D * H >= MAX_ELEMENTS || T * B * G * H * D >= MAX_ELEMENTS) {
    throw opError(node, `Y would have ${T}x${B}x${D}x${H} elements, more than wasmzoo allocates (2^31)`);
  }
  let lens: Int32Array | undefined;
  if (L) {
    if (L.dtype !== 'int32' && L.dtype !== 'int64') throw opError(node, `sequence_lens must be int32, got ${L.dtype}`);
    if (!shapeOk(L, [B])) throw opError(node, `sequence_lens must be [${B}] (batch_size), got [${L.dims.join(', ')}]`);
    const v = toNumbers(L);
    const bad = v.findIndex((n) => !(n >= 0 && n <= T));
    if (bad >= 0) throw opError(node, `sequence_lens[${bad}] = ${v[bad]} is outside [0, ${T}] (seq_length)`);
    if (v.some((n) => n !== T)) lens = Int32Array.from(v);
  }
  const h0 = H0 && (cfg.layout ? batchMajorToDirMajor(values(H0), B, D, H) : values(H0));
  const c0 = C0 && (cfg.layout ? batchMajorToDirMajor(values(C0), B, D, H) : values(C0));
  return { cfg, T, B, F, H, dtype, x: values(X), w: values(W), r: values(R), bias: Bt && values(Bt), lens, h0, c0, p: P && values(P) };
}

/** What a run computes, time-major: y [T, B, D*H], final states [D, B, H]. */
interface Result {
  y: ArrayLike<number>;
  h: ArrayLike<number>;
  c?: ArrayLike<number>;
}

// ---------------------------------------------------------------------------------------------------------
// Stepwise path: any activation, clip, peepholes, input_forget, sequence_lens, both GRU variants

/**
 * The matrix products of the stepwise path, and the buffers they read and write: on the wasm GEMM
 * (float32: wasmProducts) or in plain TS (float64 and the half types: tsProducts). Arrays are views with
 * an element offset (`*0`): the arena's float view, or plain Float64Arrays.
 */
interface Products {
  /** [T*B, D*G*H] time-major: x W^T + Wb + Rb, all gates (GRU: Rb_h left out, see `rbh`). */
  gx: Float32Array | Float64Array; gx0: number;
  /** The running direction's h state [B, H] (what `recur` reads). */
  h: Float32Array | Float64Array; h0: number;
  /** [B, nA]: h R_d[0:nA]^T (nA = G*H; GRU with linear_before_reset = 0: the z, r gates, 2H). */
  gh: Float32Array | Float64Array; gh0: number;
  /** GRU, linear_before_reset = 0: rh [B, H] = r (.) h, and ghh [B, H] = rh R_h^T + ... (recurReset). */
  rh: Float32Array | Float64Array; rh0: number;
  ghh: Float32Array | Float64Array; ghh0: number;
  recur(d: number): void;
  recurReset(d: number): void;
  /** Free what the products hold (arena scratch). */
  release(): void;
}

/** True for the GRU whose R_h multiplies r (.) h (linear_before_reset = 0, the ONNX default). */
const resetFirst = (cfg: Config) => cfg.kind === 'GRU' && !cfg.linearBeforeReset;

function stepRun(pr: Problem, P: Products): Result {
  const { cfg, T, B, H, lens, h0, c0, p, bias } = pr;
  const { kind, D, clip } = cfg;
  const G = GATES[kind];
  const GH = G * H, DH = D * H, NX = D * GH;
  const nA = resetFirst(cfg) ? 2 * H : GH;
  const y = pr.dtype === 'float32' ? new Float32Array(T * B * DH) : new Float64Array(T * B * DH);
  const hN = new Float64Array(D * B * H);
  const cN = kind === 'LSTM' ? new Float64Array(D * B * H) : undefined;
  const cl = clip === undefined ? (v: number) => v : (v: number) => (v > clip ? clip : v < -clip ? -clip : v);
  const c = new Float64Array(B * H), rg = new Float64Array(B * H), hNew = new Float64Array(H);
  const len = (b: number) => (lens ? lens[b] : T);
  let steps = lens ? 0 : T;
  if (lens) for (const L of lens) steps = Math.max(steps, L);
  const { gx, h, gh, rh, ghh } = P;
  for (let d = 0; d < D; d++) {
    const rev = cfg.reverse || d === 1;
    const [f, g, hAct] = cfg.acts[d];
    const rbh = bias ? d * 2 * GH + GH + 2 * H : -1; // GRU: Rb_h of unit j at bias[rbh + j]
    const pd = d * 3 * H;
    for (let i = 0; i < B * H; i++) {
      h[P.h0 + i] = h0 ? h0[d * B * H + i] : 0;
      c[i] = c0 ? c0[d * B * H + i] : 0;
    }
    for (let s = 0; s < steps; s++) {
      P.recur(d);
      // gate rows of row b at step s: (t, b), t counted from the row's own end when reversed
      const gxRow = (b: number) => P.gx0 + ((rev ? len(b) - 1 - s : s) * B + b) * NX + d * GH;
      if (kind === 'GRU') {
        for (let b = 0; b < B; b++) {
          if (s >= len(b)) continue;
          const gxo = gxRow(b), gho = P.gh0 + b * nA;
          for (let j = 0; j < H; j++) rg[b * H + j] = f.f(cl(gx[gxo + H + j] + gh[gho + H + j]));
        }
        if (resetFirst(cfg)) {
          for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) rh[P.rh0 + b * H + j] = s < len(b) ? rg[b * H + j] * h[P.h0 + b * H + j] : 0;
          P.recurReset(d);
        }
      }
      for (let b = 0; b < B; b++) {
        const L = len(b);
        if (s >= L) continue;
        const t = rev ? L - 1 - s : s;
        const gxo = gxRow(b), gho = P.gh0 + b * nA, ho = P.h0 + b * H;
        if (kind === 'RNN') {
          for (let j = 0; j < H; j++) hNew[j] = f.f(cl(gx[gxo + j] + gh[gho + j]));
        } else if (kind === 'LSTM') {
          // gates i, o, f, c at 0, H, 2H, 3H; peepholes i, o, f
          for (let j = 0; j < H; j++) {
            const cj = c[b * H + j];
            const pi = p ? p[pd + j] : 0, po = p ? p[pd + H + j] : 0, pf = p ? p[pd + 2 * H + j] : 0;
            const ig = f.f(cl(gx[gxo + j] + gh[gho + j] + pi * cj));
            const fg = cfg.inputForget ? 1 - ig : f.f(cl(gx[gxo + 2 * H + j] + gh[gho + 2 * H + j] + pf * cj));
            const cc = g.f(cl(gx[gxo + 3 * H + j] + gh[gho + 3 * H + j]));
            const cNew = fg * cj + ig * cc;
            const og = f.f(cl(gx[gxo + H + j] + gh[gho + H + j] + po * cNew));
            c[b * H + j] = cNew;
            hNew[j] = og * hAct.f(cNew);
          }
        } else {
          // gates z, r, h at 0, H, 2H: h~ = g(x W_h + Wb_h + r (.) (h R_h + Rb_h)), or, resetting first,
          // g(x W_h + Wb_h + (r (.) h) R_h + Rb_h)
          for (let j = 0; j < H; j++) {
            const z = f.f(cl(gx[gxo + j] + gh[gho + j]));
            const rb = rbh >= 0 ? bias![rbh + j] : 0;
            const rec = resetFirst(cfg) ? ghh[P.ghh0 + b * H + j] + rb : rg[b * H + j] * (gh[gho + 2 * H + j] + rb);
            hNew[j] = (1 - z) * g.f(cl(gx[gxo + 2 * H + j] + rec)) + z * h[ho + j];
          }
        }
        for (let j = 0; j < H; j++) {
          h[ho + j] = hNew[j];
          y[(t * B + b) * DH + d * H + j] = hNew[j];
        }
      }
    }
    // final states; a row of length 0 leaves them 0 (see the header)
    for (let b = 0; b < B; b++) {
      if (len(b) === 0) continue;
      for (let j = 0; j < H; j++) {
        hN[(d * B + b) * H + j] = h[P.h0 + b * H + j];
        if (cN) cN[(d * B + b) * H + j] = c[b * H + j];
      }
    }
  }
  return { y, h: hN, c: cN };
}

/** The products in plain TS, float64 (the reference for every dtype; what float64 and the half types run). */
function tsProducts(pr: Problem): Products {
  const { cfg, T, B, F, H, x, w, r, bias } = pr;
  const { kind, D, layout } = cfg;
  const GH = GATES[kind] * H, NX = D * GH;
  const nA = resetFirst(cfg) ? 2 * H : GH;
  const gx = new Float64Array(T * B * NX);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const xr = layout ? (b * T + t) * F : (t * B + b) * F, o = (t * B + b) * NX;
      for (let d = 0; d < D; d++) {
        for (let i = 0; i < GH; i++) {
          const row = d * GH + i;
          let s = 0;
          for (let k = 0; k < F; k++) s += x[xr + k] * w[row * F + k];
          const bi = d * 2 * GH + i;
          gx[o + row] = s + (bias ? bias[bi] + (kind === 'GRU' && i >= 2 * H ? 0 : bias[bi + GH]) : 0);
        }
      }
    }
  }
  const h = new Float64Array(B * H), gh = new Float64Array(B * nA), rh = new Float64Array(B * H), ghh = new Float64Array(B * H);
  /** out[b, i] = sum_k v[b, k] R[row0 + i, k] for i < n. */
  const mul = (out: Float64Array, v: Float64Array, row0: number, n: number) => {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const m0 = (row0 + i) * H;
        for (let k = 0; k < H; k++) s += v[b * H + k] * r[m0 + k];
        out[b * n + i] = s;
      }
    }
  };
  return {
    gx, gx0: 0, h, h0: 0, gh, gh0: 0, rh, rh0: 0, ghh, ghh0: 0,
    recur: (d) => mul(gh, h, d * GH, nA),
    recurReset: (d) => mul(ghh, rh, d * GH + 2 * H, H),
    release: () => {},
  };
}

// ---------------------------------------------------------------------------------------------------------
// Kernels: the cell kernels (kernelRun), and the GEMMs of the stepwise path (wasmProducts)

/** Kernel epilogue flags (src/runtime/kernels.ts): bit 0 accumulate, bits 1..4 the activation code. */
const FLAG_ACCUMULATE = 1;
/** Activation codes of the fused GEMM epilogue, for the RNN step (assembly/activation.ts). */
const EPILOGUE_CODE: Record<string, number> = { relu: 1, tanh: 2, sigmoid: 3, leakyrelu: 4 };

/** Why this problem cannot run on the cell kernels (undefined: it can). */
function kernelMismatch(pr: Problem): string | undefined {
  const { cfg } = pr;
  if (pr.dtype !== 'float32') return pr.dtype;
  if (pr.T === 0 || pr.B === 0 || pr.H === 0 || pr.F === 0) return 'empty';
  if (cfg.clip !== undefined || cfg.inputForget || pr.lens) return 'clip, input_forget or sequence_lens';
  if (pr.p && Array.prototype.some.call(pr.p, (v: number) => v !== 0)) return 'peepholes';
  for (const acts of cfg.acts) {
    const names = acts.map((a) => a.name).join(',');
    if (cfg.kind === 'RNN' ? !Object.hasOwn(EPILOGUE_CODE, acts[0].name) : names !== DEFAULT_ACTS[cfg.kind].join(',')) return `activations ${names}`;
  }
  if (cfg.kind === 'GRU' && !cfg.linearBeforeReset) return 'linear_before_reset = 0';
  return undefined;
}

/** Where the parts of one node's packed weights are, in its arena block. */
interface Packed {
  /** W of every direction as one packed-B operand [F, N], and its bias [N] (see cellsLayout / gemmLayout). */
  ih: number;
  ihBias: number;
  /** Per direction: R packed (cells: gate blocks; RNN and stepwise: packed-B Rᵀ). */
  hh: number[];
  /** Per direction: cells, GRU's Rb_h (Hp floats, 0 = none); stepwise GRU resetting first, R_hᵀ packed. */
  aux: number[];
  /** Columns of a gx row (the input projection of one (t, b)). */
  N: number;
  /** Hidden units padded to the kernels' block (16); RNN and stepwise: H. */
  Hp: number;
}

/** How one variant lays a node's weights out: the block's size, how to fill it, and where each part lands. */
interface PackLayout {
  bytes: number;
  fill(ptr: number): void;
  at(ptr: number): Packed;
}

/**
 * How a node's weights are packed: for the cell kernels (kernelRun), W in gate blocks for rnn_project (the
 * cell kernels' input projection of a few rows), or for the stepwise GEMMs (wasmProducts).
 */
type Variant = 'cells' | 'project' | 'gemm';

/**
 * Up to this many rows (T*B), the cells' input projection is a GEMV over gate blocks (rnn_project) rather
 * than one GEMM: single-step models. src/nn/layers/rnn.ts measured the crossover (its PROJECT_MAX_ROWS).
 */
const PROJECT_MAX_ROWS = 4;

/**
 * The node's weights packed (ops/wasm.ts packedBlock: one block per variant, reused while W, R and B are the
 * same tensors, freed with the model; run() frees them first when the weights are graph inputs).
 */
function packedFor(node: OpNode, rt: Runtime, variant: Variant, pr: Problem, W: OnnxTensor, R: OnnxTensor, Bt: OnnxTensor | undefined): Packed {
  const layout = variant === 'cells' ? cellsLayout(rt, pr) : variant === 'project' ? projectLayout(rt, pr) : gemmLayout(rt, pr);
  const ptr = packedBlock(node, rt, `rnn ${variant}`, [W, W.data, R, R.data, Bt, Bt?.data], layout.bytes, (p) => layout.fill(p));
  return layout.at(ptr);
}

/** The cell kernels' layout: W in the kernels' gate-block column order with its bias, R per direction, GRU's Rb_h. */
function cellsLayout(rt: Runtime, pr: Problem): PackLayout {
  const k = rt.k;
  const { kind, D } = pr.cfg;
  const { F, H } = pr;
  const w = pr.w as Float32Array, r = pr.r as Float32Array, bias = pr.bias as Float32Array | undefined;
  const G = GATES[kind];
  const rnn = kind === 'RNN';
  const UB = rnn ? 1 : k.rnn_block_units(G);
  const Hp = Math.ceil(H / UB) * UB;
  const N = D * G * Hp;
  const GH = G * H;
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const ihFloats = align(k.gemm_packed_b_size(F, N));
  const hhFloats = align(rnn ? k.gemm_packed_b_size(H, H) : k.rnn_packed_gates_size(G, H, H));
  const offBias = ihFloats, offHh = offBias + align(N), offBhn = offHh + D * hhFloats;
  const total = offBhn + D * align(Hp);
  const hasBhn = kind === 'GRU' && bias !== undefined;
  const at = (ptr: number): Packed => ({
    ih: ptr, ihBias: ptr + offBias * 4,
    hh: Array.from({ length: D }, (_, d) => ptr + (offHh + d * hhFloats) * 4),
    aux: Array.from({ length: D }, (_, d) => (hasBhn ? ptr + (offBhn + d * align(Hp)) * 4 : 0)),
    N: rnn ? D * H : N, Hp,
  });
  const fill = (ptr: number): void => {
    // W rows in the kernels' column order: column (d, gate gp, unit j) is PyTorch gate gp of direction d,
    // gate blocks of UB units (assembly/rnn.ts "gate blocks"); RNN: column d*H + j
    const rows = new Float32Array(N * F);
    const bcol = new Float32Array(N);
    const col = (d: number, gp: number, j: number) => (rnn ? d * H + j : d * G * Hp + (Math.floor(j / UB) * G + gp) * UB + (j % UB));
    for (let d = 0; d < D; d++) {
      for (let gp = 0; gp < G; gp++) {
        const go = ONNX_GATE_OF[kind][gp];
        for (let j = 0; j < H; j++) {
          const row = d * GH + go * H + j; // row of W / R, index into Wb / Rb
          const cc = col(d, gp, j);
          rows.set(w.subarray(row * F, (row + 1) * F), cc * F);
          if (bias) {
            // GRU's Rb_h is scaled by r inside the cell: it stays apart (bhn)
            const wb = bias[d * 2 * GH + go * H + j], rb = bias[d * 2 * GH + GH + go * H + j];
            bcol[cc] = wb + (kind === 'GRU' && gp === 2 ? 0 : rb);
          }
        }
      }
    }
    withStaged(rt, rows, (raw) => k.gemm_pack_b(ptr, raw, F, N, 1, F));
    rt.arena.write(ptr + offBias * 4, bcol);
    const rd = new Float32Array(GH * H);
    for (let d = 0; d < D; d++) {
      // R of direction d in PyTorch's gate order [G*H, H]
      for (let gp = 0; gp < G; gp++) {
        const go = ONNX_GATE_OF[kind][gp];
        rd.set(r.subarray((d * GH + go * H) * H, (d * GH + (go + 1) * H) * H), gp * H * H);
      }
      const dst = ptr + (offHh + d * hhFloats) * 4;
      // RNN: B = Rᵀ for gemm_packed (element (k, n) = R[n, k]); gated cells: gate blocks
      withStaged(rt, rd, (raw) => (rnn ? k.gemm_pack_b(dst, raw, H, H, 1, H) : k.rnn_pack_gates(dst, raw, G, H, H)));
      const bn = new Float32Array(Hp);
      if (hasBhn) bn.set(bias.subarray(d * 2 * GH + GH + 2 * H, d * 2 * GH + GH + 3 * H));
      rt.arena.write(ptr + (offBhn + d * align(Hp)) * 4, bn);
    }
  };
  return { bytes: total * 4, fill, at };
}

/** W of each direction in PyTorch's gate order, packed in gate blocks (rnn_pack_gates) for rnn_project. */
function projectLayout(rt: Runtime, pr: Problem): PackLayout {
  const k = rt.k;
  const { cfg, F, H } = pr;
  const { kind, D } = cfg;
  const G = GATES[kind], GH = G * H;
  const floats = Math.ceil(k.rnn_packed_gates_size(G, H, F) / 16) * 16;
  const fill = (ptr: number): void => {
    const w = pr.w as Float32Array, wd = new Float32Array(GH * F);
    for (let d = 0; d < D; d++) {
      for (let gp = 0; gp < G; gp++) {
        const go = ONNX_GATE_OF[kind][gp];
        wd.set(w.subarray((d * GH + go * H) * F, (d * GH + (go + 1) * H) * F), gp * H * F);
      }
      const dst = ptr + d * floats * 4;
      withStaged(rt, wd, (raw) => k.rnn_pack_gates(dst, raw, G, H, F));
    }
  };
  const at = (ptr: number): Packed => ({ ih: 0, ihBias: 0, hh: Array.from({ length: D }, (_, d) => ptr + d * floats * 4), aux: [], N: 0, Hp: 0 });
  return { bytes: D * floats * 4, fill, at };
}

/**
 * Weights for the stepwise GEMMs, ONNX's gate order kept: W of every direction as one packed-B operand
 * [F, D*G*H] (column d*G*H + i is row i of W_d) with bias Wb + Rb (GRU: Rb_h left out, the cell adds it);
 * per direction, R_d[0:nA]ᵀ packed-B [H, nA], and for the GRU resetting first R_hᵀ [H, H] apart.
 */
function gemmLayout(rt: Runtime, pr: Problem): PackLayout {
  const k = rt.k;
  const { cfg, F, H } = pr;
  const { kind, D } = cfg;
  const GH = GATES[kind] * H, NX = D * GH;
  const nA = resetFirst(cfg) ? 2 * H : GH;
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const ihFloats = align(k.gemm_packed_b_size(F, NX)), hhFloats = align(k.gemm_packed_b_size(H, nA));
  const auxFloats = resetFirst(cfg) ? align(k.gemm_packed_b_size(H, H)) : 0;
  const offBias = ihFloats, offHh = offBias + align(NX), offAux = offHh + D * hhFloats;
  const at = (ptr: number): Packed => ({
    ih: ptr, ihBias: ptr + offBias * 4,
    hh: Array.from({ length: D }, (_, d) => ptr + (offHh + d * hhFloats) * 4),
    aux: Array.from({ length: D }, (_, d) => (resetFirst(cfg) ? ptr + (offAux + d * auxFloats) * 4 : 0)),
    N: NX, Hp: H,
  });
  const fill = (ptr: number): void => {
    const bias = pr.bias as Float32Array | undefined;
    // W [D*G*H, F] rows are the operand's columns as they are: element (k, n) at W[n*F + k]
    withStaged(rt, pr.w as Float32Array, (raw) => k.gemm_pack_b(ptr, raw, F, NX, 1, F));
    const bcol = new Float32Array(NX);
    if (bias) {
      for (let d = 0; d < D; d++) {
        for (let i = 0; i < GH; i++) bcol[d * GH + i] = bias[d * 2 * GH + i] + (kind === 'GRU' && i >= 2 * H ? 0 : bias[d * 2 * GH + GH + i]);
      }
    }
    rt.arena.write(ptr + offBias * 4, bcol);
    const { hh, aux } = at(ptr);
    withStaged(rt, pr.r as Float32Array, (raw) => {
      for (let d = 0; d < D; d++) {
        const rd = raw + d * GH * H * 4;
        k.gemm_pack_b(hh[d], rd, H, nA, 1, H);
        if (resetFirst(cfg)) k.gemm_pack_b(aux[d], rd + 2 * H * H * 4, H, H, 1, H);
      }
    });
  };
  return { bytes: (offAux + D * auxFloats) * 4, fill, at };
}

/** The stepwise products on the wasm GEMM (float32): gx, states and recurrent products in arena scratch. */
function wasmProducts(node: OpNode, rt: Runtime, pr: Problem, W: OnnxTensor, R: OnnxTensor, Bt: OnnxTensor | undefined): Products {
  const k = rt.k;
  const { cfg, T, B, F, H } = pr;
  const pk = packedFor(node, rt, 'gemm', pr, W, R, Bt);
  const NX = pk.N, M = T * B;
  const nA = resetFirst(cfg) ? 2 * H : GATES[cfg.kind] * H;
  // scratch: x [M, F], gx [M, NX], h [B, H], gh [B, nA], rh [B, H], ghh [B, H]
  const offGx = M * F, offH = offGx + M * NX, offGh = offH + B * H, offRh = offGh + B * nA, offGhh = offRh + B * H;
  const base = rt.arena.alloc((offGhh + B * H) * 4);
  try {
    writeTimeMajor(rt, base, pr);
    k.gemm_packed(base + offGx * 4, base, pk.ih, pk.ihBias, M, NX, F, F, 1, NX, 0, 0);
  } catch (e) {
    rt.arena.release(base);
    throw e;
  }
  // NOTE: no allocation happens while these run, so the arena's float view stays the memory's
  const f = rt.arena.f32, w0 = base / 4;
  return {
    gx: f, gx0: w0 + offGx, h: f, h0: w0 + offH, gh: f, gh0: w0 + offGh, rh: f, rh0: w0 + offRh, ghh: f, ghh0: w0 + offGhh,
    recur: (d) => k.gemm_packed(base + offGh * 4, base + offH * 4, pk.hh[d], 0, B, nA, H, H, 1, nA, 0, 0),
    recurReset: (d) => k.gemm_packed(base + offGhh * 4, base + offRh * 4, pk.aux[d], 0, B, H, H, H, 1, H, 0, 0),
    release: () => rt.arena.release(base),
  };
}

/** X into the arena at `ptr` as time-major rows [T*B, F]. */
function writeTimeMajor(rt: Runtime, ptr: number, pr: Problem): void {
  const { T, B, F } = pr;
  const x = pr.x as Float32Array;
  if (pr.cfg.layout === 0) rt.arena.write(ptr, x);
  else for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) rt.arena.write(ptr + (t * B + b) * F * 4, x.subarray((b * T + t) * F, (b * T + t + 1) * F));
}

function kernelRun(node: OpNode, rt: Runtime, pr: Problem, W: OnnxTensor, R: OnnxTensor, Bt: OnnxTensor | undefined): Result {
  const k = rt.k;
  const { cfg, T, B, F, H } = pr;
  const { kind, D } = cfg;
  const G = GATES[kind];
  const pk = packedFor(node, rt, 'cells', pr, W, R, Bt);
  const { N, Hp } = pk;
  const M = T * B, DH = D * H;
  const rnn = kind === 'RNN';
  // one scratch block: x [M, F] time-major, gx [M, N] (gated cells), y [M, DH], h0 [D, B, H], c [D, B, H]
  const offGx = M * F, offY = offGx + (rnn ? 0 : M * N), offH0 = offY + M * DH, offC = offH0 + D * B * H;
  const total = offC + (kind === 'LSTM' ? D * B * H : 0);
  const base = rt.arena.alloc(total * 4);
  try {
    const xp = base, gxp = base + offGx * 4, yp = base + offY * 4, h0p = base + offH0 * 4, cp = base + offC * 4;
    writeTimeMajor(rt, xp, pr);
    if (pr.h0) rt.arena.write(h0p, pr.h0);
    else rt.arena.fill(h0p, D * B * H);
    if (kind === 'LSTM') {
      if (pr.c0) rt.arena.write(cp, pr.c0);
      else rt.arena.fill(cp, D * B * H);
    }
    // input projection of every (t, b) and direction at once (RNN: straight into y, the steps accumulate);
    // a few rows: the bias, then a GEMV per direction over W in gate blocks
    if (rnn) k.gemm_packed(yp, xp, pk.ih, pk.ihBias, M, DH, F, F, 1, DH, 0, 0);
    else if (M > PROJECT_MAX_ROWS) k.gemm_packed(gxp, xp, pk.ih, pk.ihBias, M, N, F, F, 1, N, 0, 0);
    else {
      const pj = packedFor(node, rt, 'project', pr, W, R, Bt);
      k.copy_channels(gxp, pk.ihBias, M, N, N, 0);
      for (let d = 0; d < D; d++) k.rnn_project(gxp + d * G * Hp * 4, N, xp, F, pj.hh[d], M, G, H, F);
    }
    if (!rnn) {
      // every step of every direction in one call, as nn.LSTM / nn.GRU (a bidirectional node's directions on
      // two threads)
      k.rnn_directions(kind === 'LSTM' ? 0 : 1, 0, D, cfg.reverse ? 1 : 0, yp, DH, B * DH * 4, H * 4, cp, B * H * 4,
        h0p, H, B * H * 4, gxp, N, B * N * 4, G * Hp * 4, pk.hh[0], pk.hh[1] ?? 0, pk.aux[0] ?? 0, pk.aux[1] ?? 0, B, H, T, 0);
    }
    for (let d = 0; rnn && d < D; d++) {
      // plain RNN: each direction its own activation (and alpha)
      const rev = cfg.reverse || d === 1;
      const act = cfg.acts[d][0];
      const flags = (EPILOGUE_CODE[act.name] << 1) | FLAG_ACCUMULATE;
      let hp = h0p + d * B * H * 4, ldhp = H;
      for (let i = 0; i < T; i++) {
        const t = rev ? T - 1 - i : i;
        const ho = yp + (t * B * DH + d * H) * 4;
        k.gemm_packed(ho, hp, pk.hh[d], 0, B, H, H, ldhp, 1, DH, flags, act.alpha);
        hp = ho;
        ldhp = DH;
      }
    }
    const y = rt.arena.read(yp, M * DH);
    const h = new Float32Array(D * B * H);
    for (let d = 0; d < D; d++) {
      const last = cfg.reverse || d === 1 ? 0 : T - 1;
      for (let b = 0; b < B; b++) h.set(y.subarray((last * B + b) * DH + d * H, (last * B + b) * DH + (d + 1) * H), (d * B + b) * H);
    }
    return { y, h, c: kind === 'LSTM' ? rt.arena.read(cp, D * B * H) : undefined };
  } finally {
    rt.arena.release(base);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Outputs

/** The data of a `dtype` tensor from numbers (float16 and bfloat16 rounded to nearest, ties to even). */
function encode(dtype: OnnxDType, v: Float64Array): OnnxTensor['data'] {
  if (dtype === 'float32') return Float32Array.from(v);
  if (dtype === 'float64') return v;
  const f32 = Float32Array.from(v);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = dtype === 'bfloat16' ? bfloat16Bits(u32[i]) : floatToHalf(f32[i]);
  return out;
}

/** bfloat16 bits of the float32 with bits `u`. */
function bfloat16Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40; // NaN stays NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}


/** Y, Y_h (and Y_c) in the node's layout and dtype from a time-major result. */
function emit(pr: Problem, res: Result): OnnxTensor[] {
  const { cfg, T, B, H, dtype } = pr;
  const { D, layout } = cfg;
  const DH = D * H;
  // float32 / float64 written directly; the half types through float64 values
  const make = (n: number): Float32Array | Float64Array => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n));
  const finish = (v: Float32Array | Float64Array) => (v instanceof Float64Array && dtype !== 'float64' ? encode(dtype, v) : v);
  let y: Float32Array | Float64Array;
  if (layout === 0 && (D === 1 || B === 1) && res.y instanceof (dtype === 'float32' ? Float32Array : Float64Array)) {
    y = res.y as Float32Array | Float64Array; // [T, B, D*H] is [T, D, B, H] already
  } else {
    y = make(T * D * B * H);
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        for (let b = 0; b < B; b++) {
          const src = (t * B + b) * DH + d * H;
          const dst = layout ? ((b * T + t) * D + d) * H : ((t * D + d) * B + b) * H;
          for (let j = 0; j < H; j++) y[dst + j] = res.y[src + j];
        }
      }
    }
  }
  const state = (s: ArrayLike<number>) => {
    const o = make(D * B * H);
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        const dst = layout ? (b * D + d) * H : (d * B + b) * H;
        for (let j = 0; j < H; j++) o[dst + j] = s[(d * B + b) * H + j];
      }
    }
    return finish(o);
  };
  const stateDims = layout ? [B, D, H] : [D, B, H];
  const outs = [tensorOf(dtype, layout ? [B, T, D, H] : [T, D, B, H], finish(y)), tensorOf(dtype, stateDims, state(res.h))];
  if (res.c) outs.push(tensorOf(dtype, [...stateDims], state(res.c)));
  return outs;
}

// ---------------------------------------------------------------------------------------------------------
// The ops

function recurrentOp(kind: Kind): OpSpec {
  return {
    check(node) {
      const c = configOf(node);
      return typeof c === 'string' ? c : undefined;
    },
    run(node, inputs, ctx) {
      const cfg = configOf(node);
      if (typeof cfg === 'string') throw opError(node, cfg);
      if (cfg.kind !== kind) throw opError(node, `internal: configured as ${cfg.kind}`);
      const pr = readInputs(node, cfg, inputs);
      const [, W, R, Bt] = inputs as OnnxTensor[];
      // weights fed as graph inputs may be the same buffers mutated in place: pack them afresh every call
      repackUnlessConstant(node, ctx, [1, 2, 3]);
      if (kernelMismatch(pr) === undefined) return emit(pr, kernelRun(node, ctx.rt, pr, W, R, Bt));
      const P = pr.dtype === 'float32' && pr.T * pr.B * pr.F * pr.H > 0 ? wasmProducts(node, ctx.rt, pr, W, R, Bt) : tsProducts(pr);
      try {
        return emit(pr, stepRun(pr, P));
      } finally {
        P.release();
      }
    },
  };
}

export const RNN_OPS: OpTable = {
  RNN: recurrentOp('RNN'),
  LSTM: recurrentOp('LSTM'),
  GRU: recurrentOp('GRU'),
};
