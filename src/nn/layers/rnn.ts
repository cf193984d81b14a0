/**
 * Recurrent layers as torch.nn.RNN, LSTM and GRU (https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html,
 * .../torch.nn.GRU.html, .../torch.nn.RNN.html): same equations, gate orders (LSTM i,f,g,o; GRU r,z,n with
 * n = tanh(W_in x + b_in + r·(W_hn h + b_hn))), state_dict keys (weight_ih_l0, weight_hh_l0, bias_ih_l0,
 * bias_hh_l0, ..._reverse), input/output shapes ([T, B, F], or [B, T, F] with batchFirst, or unbatched
 * [T, F]) and state shapes ([numLayers*D, B, H]).
 *
 * Computation per layer and direction (assembly/rnn.ts has the layouts):
 *   gx = X · W_ihᵀ + b           one GEMM over all T*B rows, both directions at once (W_ih packed in the
 *                                 gate-block column order of the step kernel)
 *   for t: lstm_step / gru_step  recurrent GEMV + gate math fused, h written straight into the output
 *                                 sequence (the next step and the next layer read it there: no copies);
 *                                 all steps of all directions in one rnn_directions call (the thread pool
 *                                 runs a bidirectional layer's two directions on two threads, or cuts each
 *                                 step of a single direction by hidden units)
 *   RNN (tanh/relu): the input GEMM writes into the output sequence, then each step is gemm_packed with
 *   accumulate and the activation fused.
 * Training (inside a TrainGraph) goes through the training half at the end of this file instead: backpropagation through time from
 * the raw weights, PyTorch's gate order, dropout between layers.
 *
 * NOTE (multiple inputs/outputs): Module's planner is single-input single-output (`build(g, x)`), while a
 * recurrent layer takes (x, h0, c0) and returns (output, h_n, c_n). Rather than widening Module for
 * everyone, recurrent layers plan through `IOPlan` (src/graph/ioplan.ts), which only uses GraphBuilder/Plan's public
 * surface: extra inputs are values created before the first op (so they are live from the start and never
 * share memory with anything written while they are still read), extra outputs are `keep()`-ed.
 * `build(g, x)` (zero initial state, output sequence only) still exists, so models compose recurrent layers
 * with others in one plan, and `forward(x)` returns a Tensor (the output sequence) that also carries `.h`
 * and `.c`, so the layer stays a drop-in Module and `const { output, h, c } = lstm.forward(x)` reads like
 * PyTorch's `output, (h, c) = lstm(x)`.
 */
import { IOPlan } from '../../graph/ioplan.js';
import { PlanCache } from '../../graph/plancache.js';
import { WasmzooError } from '../../errors.js';
import { checkOptions, optionKeys } from '../../options.js';
import { Act, FLAG_ACCUMULATE, epilogueFlags } from '../../runtime/activation.js';
import { runtime, type Runtime } from '../../runtime/runtime.js';
import { Tensor, numel, shapeStr, tensorArg, type Shape } from '../../tensor.js';
import { GraphBuilder, at, type Pointers, type Value } from '../../graph/graph.js';
import { PackedBlock, withStaged } from '../../graph/packed.js';
import { isTraining, type TrainGraph } from '../../graph/tape.js';
import { uniform } from '../init.js';
import { Module, type Parameter } from '../module.js';
import { dropoutTrain } from './misc.js';

/** A value viewed with another shape (same buffer, same offset). */
export function reshapeValue(v: Value, shape: Shape): Value {
  if (numel(shape) !== numel(v.shape)) throw new WasmzooError('E_SHAPE', `internal: cannot view ${shapeStr(v.shape)} as ${shapeStr(shape)}`);
  return { ...v, shape: [...shape] };
}

/** Swap the first two dims of a 3-D value [A, B, F] -> [B, A, F] (batch-first <-> time-major). */
export function swap01(g: GraphBuilder, name: string, x: Value): Value {
  const [A, B, F] = x.shape;
  if (A === 1 || B === 1) return reshapeValue(x, [B, A, F]);
  const y = g.value([B, A, F]);
  const k = g.rt.k;
  // row (a, b) -> (b, a): for each a, B rows of F floats go to stride A*F
  g.op(`${name}.transpose`, [x], (p) => {
    const xp = at(p, x), yp = at(p, y);
    for (let a = 0; a < A; a++) k.copy_channels(yp + a * F * 4, xp + a * B * F * 4, B, F, A * F, F);
  });
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// States

/** The plain-array form of a state: nested arrays [numLayers*D][B][H] (what `JSON.stringify` writes). */
export interface StateJSON {
  h: number[][][];
  c?: number[][][];
}

/** A recurrent state (h, and c for an LSTM), [numLayers*D, B, H] each. Serialisable for pause/resume. */
export class RecurrentState {
  readonly h: Tensor;
  readonly c?: Tensor;
  constructor(h: Tensor, c?: Tensor) {
    this.h = h;
    this.c = c;
  }
  get batchSize(): number {
    return this.h.shape[1];
  }
  /** Plain nested arrays, e.g. to store with JSON.stringify and resume later with `layer.stateFrom(obj)`. */
  toJSON(): StateJSON {
    const out: StateJSON = { h: this.h.toArray() as number[][][] };
    if (this.c) out.c = this.c.toArray() as number[][][];
    return out;
  }
}

/** An initial state: a RecurrentState, `{ h, c? }`, `[h, c]` (PyTorch's tuple), or just `h` (RNN, GRU). */
export type StateInput = RecurrentState | Tensor | { h: Tensor; c?: Tensor } | [Tensor, Tensor];

/** forward()'s result: the output sequence (a Tensor, as Module.forward promises) with `.output`, `.h`, `.c`. */
export class RecurrentOutput extends Tensor {
  readonly h: Tensor;
  readonly c?: Tensor;
  constructor(output: Tensor, h: Tensor, c?: Tensor) {
    super(output.data, output.shape);
    this.h = h;
    this.c = c;
  }
  /** The output sequence itself (`const { output, h, c } = lstm.forward(x)`). */
  get output(): Tensor {
    return new Tensor(this.data, this.shape);
  }
  get state(): RecurrentState {
    return new RecurrentState(this.h, this.c);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The layers

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

export interface RNNBaseOptions {
  numLayers?: number;
  /** Default true: b_ih and b_hh. */
  bias?: boolean;
  /** Input and output [B, T, F] instead of [T, B, F] (states stay [numLayers*D, B, H], as PyTorch). */
  batchFirst?: boolean;
  /** Dropout between layers: accepted for compatibility; identity at inference (eval mode). */
  dropout?: number;
  bidirectional?: boolean;
}

export interface RNNOptions extends RNNBaseOptions {
  nonlinearity?: 'tanh' | 'relu';
}

const RNN_BASE_OPTION_KEYS = optionKeys<RNNBaseOptions>({ numLayers: 1, bias: 1, batchFirst: 1, dropout: 1, bidirectional: 1 });
const RNN_OPTION_KEYS = optionKeys<RNNOptions>({ numLayers: 1, bias: 1, batchFirst: 1, dropout: 1, bidirectional: 1, nonlinearity: 1 });

/** Values of one recorded run: output sequence (API layout), h_n, c_n (LSTM). */
export interface RecurrentValues {
  output: Value;
  /** The output sequence time-major [T, B, D*H] (same as output unless batchFirst). */
  timeMajor: Value;
  h: Value;
  c?: Value;
}

interface PlanEntry {
  io: IOPlan;
  hasState: boolean;
  outShape: Shape;
  stateShape: Shape;
  /** One timestep's output [B, D*H] (step()). */
  stepShape: Shape;
}

const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/**
 * Up to this many rows (T*B), the input projection is a GEMV over gate blocks (rnn_project, weights read
 * once per row) rather than one GEMM. Measured at F = 256, 4H = 1024 (relaxed): 1 row 19 vs 26 us, 2 rows
 * 33 vs 72 (gemm_packed runs its full 6-row tile for 2..6 rows), 4 rows 63 vs 72, 6 rows 92 vs 71.
 */
const PROJECT_MAX_ROWS = 4;

export abstract class RNNBase extends Module {
  readonly mode: RNNMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** Parameters per layer and direction: [l*D + d] -> { wih, whh, bih?, bhh? }. */
  readonly weights: { wih: Parameter; whh: Parameter; bih?: Parameter; bhh?: Parameter }[] = [];
  private readonly packed: PackedBlock[] = [];
  /** W_ih in gate blocks, per layer, packed only when a plan has few rows (streaming steps). */
  private readonly projPacked: PackedBlock[] = [];
  private readonly ioPlans = new PlanCache<PlanEntry>(this, (e) => e.io.dispose());

  constructor(mode: RNNMode, inputSize: number, hiddenSize: number, opts: RNNBaseOptions = {}) {
    super();
    const kind = mode === 'LSTM' ? 'LSTM' : mode === 'GRU' ? 'GRU' : 'RNN';
    opts = checkOptions(kind, opts, kind === 'RNN' ? RNN_OPTION_KEYS : RNN_BASE_OPTION_KEYS);
    const numLayers = opts.numLayers ?? 1;
    for (const [n, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['numLayers', numLayers]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new WasmzooError('E_ARGUMENT', `${kind}: ${n} must be a positive integer, got ${v}`);
    }
    const dropout = opts.dropout ?? 0;
    if (!(dropout >= 0 && dropout <= 1)) throw new WasmzooError('E_ARGUMENT', `${kind}: dropout must be in [0, 1], got ${dropout}`);
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = dropout;
    this.bidirectional = opts.bidirectional ?? false;
    const G = GATES[mode];
    const D = this.directions;
    // PyTorch's reset_parameters: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)); registration order as
    // its _flat_weights_names (so stateDict() lists keys in PyTorch's order).
    const bound = 1 / Math.sqrt(hiddenSize);
    for (let l = 0; l < numLayers; l++) {
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d ? '_reverse' : ''}`;
        const F = l === 0 ? inputSize : D * hiddenSize;
        const wih = this.param(`weight_ih${sfx}`, [G * hiddenSize, F]);
        const whh = this.param(`weight_hh${sfx}`, [G * hiddenSize, hiddenSize]);
        const bih = this.bias ? this.param(`bias_ih${sfx}`, [G * hiddenSize]) : undefined;
        const bhh = this.bias ? this.param(`bias_hh${sfx}`, [G * hiddenSize]) : undefined;
        for (const p of [wih, whh, bih, bhh]) if (p) uniform(p.data, bound);
        this.weights.push({ wih, whh, bih, bhh });
      }
      this.packed.push(new PackedBlock());
      this.projPacked.push(new PackedBlock());
    }
  }

  /** 2 if bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  private get gates(): number {
    return GATES[this.mode];
  }

  private get hasCell(): boolean {
    return this.mode === 'LSTM';
  }

  // ---- shape checks ----

  /** [T, B, F] time-major dims of an input shape, or an error naming the layer and both shapes. */
  private seqDims(s: Shape): { T: number; B: number; batched: boolean } {
    const F = this.inputSize;
    if ((s.length !== 3 && s.length !== 2) || s[s.length - 1] !== F || !s.every((d) => Number.isInteger(d) && d > 0)) {
      const want = this.batchFirst ? `[B, T, ${F}]` : `[T, B, ${F}]`;
      throw new WasmzooError('E_SHAPE', `${this.name}: expected input ${want} (or unbatched [T, ${F}]), got ${shapeStr(s)}`);
    }
    if (s.length === 2) return { T: s[0], B: 1, batched: false };
    return this.batchFirst ? { T: s[1], B: s[0], batched: true } : { T: s[0], B: s[1], batched: true };
  }

  private stateShape(B: number, batched: boolean): Shape {
    const LD = this.numLayers * this.directions;
    return batched ? [LD, B, this.hiddenSize] : [LD, this.hiddenSize];
  }

  private checkState(what: string, t: Tensor | undefined, want: Shape): void {
    if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
      throw new WasmzooError('E_SHAPE', `${this.name}: initial ${what} missing: expected a tensor ${shapeStr(want)}`);
    }
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]) || t.data.length !== numel(want)) {
      throw new WasmzooError('E_SHAPE', `${this.name}: initial ${what} must be ${shapeStr(want)} (numLayers*directions, batch, hiddenSize), got ${shapeStr(t.shape)}`);
    }
  }

  /** Normalise the accepted initial-state forms to (h, c). */
  private splitState(st: StateInput): { h: Tensor | undefined; c: Tensor | undefined } {
    if (st instanceof Tensor) {
      if (this.hasCell) throw new WasmzooError('E_ARGUMENT', `${this.name}: an LSTM state needs both h and c: pass { h, c } or [h, c]`);
      return { h: st, c: undefined };
    }
    if (Array.isArray(st)) return { h: st[0], c: st[1] };
    if (st && typeof st === 'object' && 'h' in st) return { h: st.h, c: st.c };
    throw new WasmzooError('E_ARGUMENT', `${this.name}: initial state must be a RecurrentState, { h${this.hasCell ? ', c' : ''} }${this.hasCell ? ', [h, c]' : ' or a Tensor'}`);
  }

  // ---- weights ----

  /** Pack layer l's weights (both directions) once per parameter version. Returns pointers. */
  private packLayer(rt: Runtime, l: number): { ih: number; ihBias: number; hh: number[]; bhn: number[] } {
    const k = rt.k;
    const { gates: G, hiddenSize: H, directions: D } = this;
    const F = l === 0 ? this.inputSize : D * H;
    const rnn = G === 1;
    const UB = rnn ? 1 : k.rnn_block_units(G);
    const Hp = Math.ceil(H / UB) * UB;
    const N = D * G * Hp; // gx columns (RNN: the output sequence's D*H columns)
    const ws = this.weights.slice(l * D, l * D + D);
    const key = ws.map((w) => [w.wih, w.whh, w.bih, w.bhh].map((p) => p?.version ?? '-').join(',')).join(';');
    const ihFloats = k.gemm_packed_b_size(F, N);
    const hhFloats = rnn ? k.gemm_packed_b_size(H, H) : k.rnn_packed_gates_size(G, H, H);
    const align = (n: number) => Math.ceil(n / 16) * 16;
    const offIhBias = align(ihFloats);
    const offHh = offIhBias + align(N);
    const offBhn = offHh + D * align(hhFloats);
    const total = offBhn + D * align(Hp);
    const base = this.packed[l].ensure(rt, key, total * 4, (ptr) => {
      // W_ih of every direction as one B operand [F, N]: row r of `rows` is output column r.
      const rows = new Float32Array(N * F);
      const bias = new Float32Array(N);
      const col = (d: number, g: number, j: number) => (rnn ? d * H + j : d * G * Hp + (Math.floor(j / UB) * G + g) * UB + (j % UB));
      for (let d = 0; d < D; d++) {
        const { wih, bih, bhh } = ws[d];
        for (let g = 0; g < G; g++) {
          for (let j = 0; j < H; j++) {
            const r = g * H + j;
            const c = col(d, g, j);
            rows.set(wih.data.subarray(r * F, (r + 1) * F), c * F);
            // GRU's b_hn is scaled by r inside the cell: it stays apart (bhn below)
            bias[c] = (bih?.data[r] ?? 0) + (this.mode === 'GRU' && g === 2 ? 0 : bhh?.data[r] ?? 0);
          }
        }
      }
      withStaged(rt, rows, (raw) => k.gemm_pack_b(ptr, raw, F, N, 1, F));
      rt.arena.write(ptr + offIhBias * 4, bias);
      for (let d = 0; d < D; d++) {
        const { whh, bhh } = ws[d];
        const dst = ptr + (offHh + d * align(hhFloats)) * 4;
        // RNN: B = W_hhᵀ for gemm_packed (b_rs = 1, b_cs = H); gated cells: gate blocks
        withStaged(rt, whh.data, (raw) => (rnn ? k.gemm_pack_b(dst, raw, H, H, 1, H) : k.rnn_pack_gates(dst, raw, G, H, H)));
        const bhn = new Float32Array(Hp);
        if (this.mode === 'GRU' && bhh) bhn.set(bhh.data.subarray(2 * H, 3 * H));
        rt.arena.write(ptr + (offBhn + d * align(Hp)) * 4, bhn);
      }
    });
    return {
      ih: base,
      ihBias: base + offIhBias * 4,
      hh: Array.from({ length: D }, (_, d) => base + (offHh + d * align(hhFloats)) * 4),
      bhn: Array.from({ length: D }, (_, d) => base + (offBhn + d * align(Hp)) * 4),
    };
  }

  /** W_ih of layer l per direction in gate blocks (for rnn_project), once per parameter version. */
  private packProjection(rt: Runtime, l: number): number[] {
    const k = rt.k;
    const { gates: G, hiddenSize: H, directions: D } = this;
    const F = l === 0 ? this.inputSize : D * H;
    const ws = this.weights.slice(l * D, l * D + D);
    const key = ws.map((w) => w.wih.version).join(',');
    const floats = Math.ceil(k.rnn_packed_gates_size(G, H, F) / 16) * 16;
    const base = this.projPacked[l].ensure(rt, key, D * floats * 4, (ptr) => {
      for (let d = 0; d < D; d++) withStaged(rt, ws[d].wih.data, (raw) => k.rnn_pack_gates(ptr + d * floats * 4, raw, G, H, F));
    });
    return Array.from({ length: D }, (_, d) => base + d * floats * 4);
  }

  override releaseWeights(): void {
    for (const p of this.packed) p.release();
    for (const p of this.projPacked) p.release();
    super.releaseWeights();
  }

  // ---- recording ----

  /**
   * Record the layer on x ([T, B, F] / [B, T, F] / unbatched [T, F]) with optional initial states
   * ([L*D, B, H] or [L*D, H]). Returns the output sequence, h_n and c_n values.
   */
  buildRecurrent(g: GraphBuilder, x: Value, init: { h?: Value; c?: Value } = {}): RecurrentValues {
    const { T, B, batched } = this.seqDims(x.shape);
    // training: backpropagation through time from raw weights, dropout between layers (the training half below)
    if (isTraining(g)) return recurrentTrain(g, this, x, init, { T, B, batched });
    // NOTE: forward() in train mode still has no dropout (the Dropout module is the identity outside training graphs too)
    const { gates: G, hiddenSize: H, directions: D, numLayers: L } = this;
    const rt = g.rt;
    const k = rt.k;
    const rnn = G === 1;
    const UB = rnn ? 1 : k.rnn_block_units(G);
    const Hp = Math.ceil(H / UB) * UB;
    const DH = D * H;
    const LD = L * D;
    const name = this.name;
    // Final states first: they are written by every layer (c is the LSTM's working cell buffer).
    const hN = g.value(this.stateShape(B, batched));
    const cN = this.hasCell ? g.value(this.stateShape(B, batched)) : undefined;
    let zero: Value | undefined;
    if (!init.h) {
      const z = (zero = g.value([B, H]));
      const n = B * H;
      g.op(`${name}.zero_state`, [], (p) => rt.arena.fill(at(p, z), n));
    }
    if (cN) {
      const c0 = init.c;
      const n = LD * B * H;
      g.op(`${name}.init_c`, c0 ? [c0] : [], (p) => {
        if (c0) rt.arena.copy(at(p, cN), at(p, c0), n);
        else rt.arena.fill(at(p, cN), n);
      });
    }
    // time-major input rows [T*B, F]
    let inp = batched && this.batchFirst ? swap01(g, name, x) : x;
    let out: Value = inp;
    for (let l = 0; l < L; l++) {
      const F = l === 0 ? this.inputSize : DH;
      const w = this.packLayer(rt, l);
      const ln = `${name}.l${l}`;
      out = g.value([T, B, DH]);
      const N = D * G * Hp;
      const M = T * B;
      const src = inp;
      const o = out;
      let gx: Value | undefined;
      if (rnn) {
        // the input projection lands in the output sequence; the steps accumulate into it
        g.op(`${ln}.input_gemm`, [src], (p) => k.gemm_packed(at(p, o), at(p, src), w.ih, w.ihBias, M, N, F, F, 1, N, 0, 0));
      } else {
        const v = (gx = g.value([M, N]));
        if (M <= PROJECT_MAX_ROWS) {
          // few rows (streaming): bias, then a GEMV per direction over W_ih in gate blocks
          const pi = this.packProjection(rt, l);
          g.op(`${ln}.input_gemv`, [src], (p) => {
            const gxp = at(p, v), xp = at(p, src);
            k.copy_channels(gxp, w.ihBias, M, N, N, 0);
            for (let d = 0; d < D; d++) k.rnn_project(gxp + d * G * Hp * 4, N, xp, F, pi[d], M, G, H, F);
          });
        } else {
          g.op(`${ln}.input_gemm`, [src], (p) => k.gemm_packed(at(p, v), at(p, src), w.ih, w.ihBias, M, N, F, F, 1, N, 0, 0));
        }
      }
      // every step of every direction in one kernel call (bidirectional: the two directions on two threads)
      const h0 = init.h;
      const hSrc: Value = h0 ?? zero!;
      const kind = this.mode === 'LSTM' ? 0 : this.mode === 'GRU' ? 1 : 2;
      const flags = epilogueFlags(this.mode === 'RNN_RELU' ? Act.Relu : Act.Tanh, true);
      const reads: Value[] = [hSrc, o];
      if (gx) reads.push(gx);
      if (cN) reads.push(cN);
      const gxv = gx;
      const bhn = (d: number) => (this.bias && d < D ? w.bhn[d] : 0);
      const state = l * D * B * H * 4; // byte offset of this layer's slices in h0 and c
      g.op(`${ln}.steps`, reads, (p) => k.rnn_directions(kind, 0, D, 0, at(p, o), DH, B * DH * 4, H * 4,
        cN ? at(p, cN) + state : 0, B * H * 4, at(p, hSrc) + (h0 ? state : 0), H, h0 ? B * H * 4 : 0,
        gxv ? at(p, gxv) : 0, N, B * N * 4, G * Hp * 4, w.hh[0], D > 1 ? w.hh[1] : 0, bhn(0), bhn(1), B, H, T, flags));
      for (let d = 0; d < D; d++) {
        const s = l * D + d;
        // h_n: the last step of this direction (t = T-1 forward, t = 0 reverse)
        const last = d ? 0 : T - 1;
        // hN listed: it is written here, and must not share memory with buffers live now if nothing reads it later
        g.op(`${ln}${d ? '_reverse' : ''}.h_n`, [o, hN], (p) =>
          k.copy_channels(at(p, hN) + s * B * H * 4, at(p, o) + (last * B * DH + d * H) * 4, B, H, H, DH));
      }
      // dropout between layers: identity in eval mode
      inp = reshapeValue(out, [M, DH]);
    }
    const timeMajor = reshapeValue(out, batched ? [T, B, DH] : [T, DH]);
    const output = batched && this.batchFirst ? swap01(g, name, reshapeValue(out, [T, B, DH])) : timeMajor;
    return { output, timeMajor, h: hN, c: cN };
  }

  /** Module interface: the output sequence with a zero initial state. */
  build(g: GraphBuilder, x: Value): Value {
    return this.buildRecurrent(g, x).output;
  }

  // ---- running ----

  private planFor3(shape: Shape, hasState: boolean): PlanEntry {
    this.assertAlive();
    const { T, B, batched } = this.seqDims(shape);
    return this.ioPlans.get(`${shape.join('x')}|${hasState}`, () => {
    const stateShape = this.stateShape(B, batched);
    const shapes: Shape[] = [shape];
    if (hasState) shapes.push(stateShape, ...(this.hasCell ? [stateShape] : []));
    const io = new IOPlan(runtime(), shapes, (g, ins) => {
      const r = this.buildRecurrent(g, ins[0], hasState ? { h: ins[1], c: ins[2] } : {});
      return [r.output, r.h, ...(r.c ? [r.c] : [])];
    });
    const DH = this.directions * this.hiddenSize;
    // frozen: result tensors share them instead of copying (Tensor's constructor)
    const outShape = Object.freeze(batched ? (this.batchFirst ? [B, T, DH] : [T, B, DH]) : [T, DH]);
    return { io, hasState, outShape, stateShape: Object.freeze(stateShape), stepShape: Object.freeze([B, DH]) };
    });
  }

  /**
   * Run on a whole sequence: x [T, B, inputSize] ([B, T, inputSize] with batchFirst; unbatched [T, inputSize]),
   * initial state optional (zeros). Returns the output sequence [T, B, D*H] (a Tensor) with `.output`, `.h`
   * ([numLayers*D, B, H]) and, for an LSTM, `.c`.
   */
  override forward(x: Tensor, initialState?: StateInput): RecurrentOutput {
    x = tensorArg(this.name, x);
    const e = this.planFor3(x.shape, initialState !== undefined);
    const [out, h, c] = e.io.run(this.planInputs(e, x, initialState));
    return new RecurrentOutput(new Tensor(out, e.outShape), new Tensor(h, e.stateShape), c && new Tensor(c, e.stateShape));
  }

  /** The input arrays of a plan run: x, then the initial state's h (and c) checked against the plan's shape. */
  private planInputs(e: PlanEntry, x: Tensor, initialState: StateInput | undefined): ArrayLike<number>[] {
    const ins: ArrayLike<number>[] = [x.data];
    if (initialState !== undefined) {
      const { h, c } = this.splitState(initialState);
      this.checkState('h', h, e.stateShape);
      ins.push(h!.data);
      if (this.hasCell) {
        this.checkState('c', c, e.stateShape);
        ins.push(c!.data);
      }
    }
    return ins;
  }

  /**
   * Streaming: advance by one timestep (x [B, inputSize]) or a chunk (x [T, B, inputSize], [B, T, inputSize]
   * with batchFirst) from `state` (zeros when absent). Returns the output ([B, H], or the chunk's output
   * sequence) and the state to pass to the next call. Feeding a sequence in any split gives the same result
   * as forward() on the whole. Unidirectional layers only (a reverse direction needs the future).
   */
  step(x: Tensor, state?: RecurrentState | StateInput): { output: Tensor; state: RecurrentState } {
    if (this.bidirectional) {
      throw new WasmzooError('E_ARGUMENT', `${this.name}: step() streams forward in time; a bidirectional layer needs the whole sequence (use forward())`);
    }
    x = tensorArg(`${this.name}.step`, x);
    const single = x.shape.length === 2;
    if (single && x.shape[1] !== this.inputSize) {
      throw new WasmzooError('E_SHAPE', `${this.name}: step() expected one timestep [B, ${this.inputSize}] or a chunk [${this.batchFirst ? 'B, T' : 'T, B'}, ${this.inputSize}], got ${shapeStr(x.shape)}`);
    }
    if (!single && x.shape.length !== 3) {
      throw new WasmzooError('E_SHAPE', `${this.name}: step() expected one timestep [B, ${this.inputSize}] or a chunk [${this.batchFirst ? 'B, T' : 'T, B'}, ${this.inputSize}], got ${shapeStr(x.shape)}`);
    }
    if (!single) {
      const r = this.forward(x, state);
      return { output: r.output, state: r.state };
    }
    // one timestep: the plan of a length-1 sequence, results wrapped directly (this runs every few microseconds)
    const B = x.shape[0];
    const e = this.planFor3(this.batchFirst ? [B, 1, this.inputSize] : [1, B, this.inputSize], state !== undefined);
    const [out, h, c] = e.io.run(this.planInputs(e, x, state));
    return {
      output: new Tensor(out, e.stepShape),
      state: new RecurrentState(new Tensor(h, e.stateShape), c && new Tensor(c, e.stateShape)),
    };
  }

  /** A zero state for batch size B (what forward() starts from without an initial state). */
  zeroState(B = 1): RecurrentState {
    const s = this.stateShape(B, true);
    return new RecurrentState(new Tensor(new Float32Array(numel(s)), s), this.hasCell ? new Tensor(new Float32Array(numel(s)), s) : undefined);
  }

  /** Rebuild a state from its plain form (`state.toJSON()`, or parsed JSON), checking every shape. */
  stateFrom(obj: StateJSON | RecurrentState): RecurrentState {
    if (obj instanceof RecurrentState) return obj;
    const LD = this.numLayers * this.directions;
    const H = this.hiddenSize;
    const conv = (what: 'h' | 'c', a: unknown): Tensor => {
      const bad = (why: string) => new WasmzooError('E_SHAPE', `${this.name}: state.${what} must be nested arrays [${LD}][B][${H}] of numbers (numLayers*directions, batch, hiddenSize): ${why}`);
      if (!Array.isArray(a) || a.length !== LD) throw bad(`got ${Array.isArray(a) ? `${a.length} rows` : typeof a}`);
      const B = Array.isArray(a[0]) ? a[0].length : -1;
      if (B < 1) throw bad('no batch rows');
      const data = new Float32Array(LD * B * H);
      for (let i = 0; i < LD; i++) {
        if (!Array.isArray(a[i]) || a[i].length !== B) throw bad(`row ${i} has ${Array.isArray(a[i]) ? a[i].length : 'no'} batch entries, expected ${B}`);
        for (let b = 0; b < B; b++) {
          const v = a[i][b];
          if (!Array.isArray(v) || v.length !== H) throw bad(`[${i}][${b}] has length ${Array.isArray(v) ? v.length : 'none'}`);
          for (let j = 0; j < H; j++) {
            if (typeof v[j] !== 'number' || !Number.isFinite(v[j])) throw bad(`[${i}][${b}][${j}] is ${v[j]}`);
            data[(i * B + b) * H + j] = v[j];
          }
        }
      }
      return new Tensor(data, [LD, B, H]);
    };
    if (!obj || typeof obj !== 'object') throw new WasmzooError('E_ARGUMENT', `${this.name}: stateFrom() needs { h${this.hasCell ? ', c' : ''} }`);
    const h = conv('h', obj.h);
    const c = this.hasCell ? conv('c', obj.c) : undefined;
    if (c && c.shape[1] !== h.shape[1]) throw new WasmzooError('E_SHAPE', `${this.name}: state.h has batch ${h.shape[1]} but state.c has ${c.shape[1]}`);
    return new RecurrentState(h, c);
  }
}

/** torch.nn.RNN: h' = tanh (or relu)(W_ih x + b_ih + W_hh h + b_hh). */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    opts = checkOptions('RNN', opts, RNN_OPTION_KEYS);
    const nl = opts.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new WasmzooError('E_ARGUMENT', `RNN: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nl)}`);
    super(nl === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, opts);
    this.nonlinearity = nl;
  }
}

/** torch.nn.LSTM (no proj_size): gates i, f, g, o. forward() also returns `.c`. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNBaseOptions = {}) {
    super('LSTM', inputSize, hiddenSize, opts);
  }
  override forward(x: Tensor, initialState?: StateInput): RecurrentOutput & { c: Tensor } {
    return super.forward(x, initialState) as RecurrentOutput & { c: Tensor };
  }
}

/** torch.nn.GRU: gates r, z, n. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNBaseOptions = {}) {
    super('GRU', inputSize, hiddenSize, opts);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Training half
/**
 * The training half of the recurrent layers (RNN tanh/relu, LSTM, GRU; stacked, bidirectional, batchFirst):
 * the forward saves what backpropagation through time needs, and one backward closure per layer stack
 * records BPTT from the top layer down.
 *
 * Per layer l and direction d, time-major (X [T*B, F], the output sequence O [T, B, D*H]):
 *   forward   gates = X·W_ihᵀ + b                       one GEMM over all T*B rows
 *             for t: gates_t += h_{t-1}·W_hhᵀ (LSTM)     one GEMM per step (GRU: gh_t = h_{t-1}·W_hhᵀ + b_hh
 *                    cell forward (rnn_cell.ts)          apart, r scales its n part), then the gate math,
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

/** [A, B, F] -> [B, A, F] with its backward (the inverse transpose of the gradient). */
function swap01Train(g: TrainGraph, name: string, x: Value): Value {
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
function recurrentTrain(g: TrainGraph, m: RNNBase, x: Value, init: { h?: Value; c?: Value },
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
  g.op(`${name}.zero_state`, [], (p) => g.rt.arena.fill(at(p, zero), B * H));
  const { h: h0, c: c0 } = init;
  const inp0 = batched && m.batchFirst ? swap01Train(g, name, x) : x;
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
    if (l > 0 && m.dropout > 0) inp = dropoutTrain(g, `${ln}.dropout`, inp, m.dropout);
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
          else k.add(at(p, bsum), bih, bhh, GH, 0, 0);
        }
      });
      const bias = (p: Pointers) => (bih ? at(p, bsum) : 0);
      const sv: Saved = {};
      saved.push(sv);
      const src = inp;
      if (rnn) {
        g.op(`${dn}.input_gemm`, [src, pih, bsum], (p) =>
          k.gemm_packed(at(p, out) + d * H * f4, at(p, src), at(p, pih), bias(p), M, H, F, F, 1, DH, 0, 0));
      } else {
        const gates = (sv.gates = g.value([T, B, GH]));
        g.op(`${dn}.input_gemm`, [src, pih, bsum], (p) => k.gemm_packed(at(p, gates), at(p, src), at(p, pih), bias(p), M, GH, F, F, 1, GH, 0, 0));
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
            k.gemm_packed(gt, hp, pw, 0, B, GH, H, ldhp, 1, GH, FLAG_ACCUMULATE, 0);
            const cprev = i === 0 ? (c0 ? at(p, c0) + s * B * H * f4 : 0) : cp + tp * B * H * f4;
            k.lstm_cell_forward(gt, GH, cp + t * B * H * f4, cprev, ho, DH, B, H);
          } else if (gru) {
            const ght = ghp + t * B * GH * f4;
            k.gemm_packed(ght, hp, pw, bhh, B, GH, H, ldhp, 1, GH, 0, 0);
            k.gru_cell_forward(gp + t * B * GH * f4, ght, GH, hk, ldhp, ho, DH, B, H);
          } else {
            k.gemm_packed(ho, hp, pw, 0, B, H, H, ldhp, 1, DH, rflags, 0);
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
          // B operand W_hh [GH, H] row-major: dh_{t-1} = dgates_t · W_hh
          k.gemm_pack_b(at(p, phhT), whh, GH, H, H, 1);
          const pw = at(p, phhT);
          const dhp = at(p, dh);
          if (dhN) k.copy_channels(dhp, at(p, dhN) + s * B * H * f4, B, H, H, H);
          else g.rt.arena.fill(dhp, B * H);
          const dcp = dc ? at(p, dc) : 0;
          if (dc) {
            if (dcN) k.copy_channels(dcp, at(p, dcN) + s * B * H * f4, B, H, H, H);
            else g.rt.arena.fill(dcp, B * H);
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
              k.gemm_packed(dhp, dgt, pw, 0, B, H, GH, GH, 1, H, 0, 0);
            } else if (gru) {
              const dght = dghp + t * B * GH * f4;
              k.gru_cell_backward(dgt, dght, GH, dhp, dho, DH, dhp, gp + t * B * GH * f4, ghp + t * B * GH * f4, hk, ldhp, B, H);
              k.gemm_packed(dhp, dght, pw, 0, B, H, GH, GH, 1, H, FLAG_ACCUMULATE, 0);
            } else {
              k.rnn_cell_backward(dgt, H, dho, DH, dhp, op + t * B * DH * f4, DH, B, H, act === Act.Relu ? 1 : 0);
              k.gemm_packed(dhp, dgt, pw, 0, B, H, H, H, 1, H, 0, 0);
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
          k.gemm(gwih.ptr, dgp, at(p, X), 0, GH, F, M, 1, GH, F, 1, F, gwih.flags, scr, 0);
          // dW_hh [GH, H] = sum_t dGh_tᵀ · h_{t-1}: the shifted output rows, then h0's rows
          const op = at(p, out) + d * H * f4;
          let flags = gwhh.flags;
          if (T > 1) {
            const a = d ? dghp : dghp + B * GH * f4; // steps whose h_prev is in the output
            const hb = d ? op + B * DH * f4 : op;
            k.gemm(gwhh.ptr, a, hb, 0, GH, H, (T - 1) * B, 1, GH, DH, 1, H, flags, scr, 0);
            flags = FLAG_ACCUMULATE;
          }
          const first = d ? T - 1 : 0;
          if (h0) {
            k.gemm(gwhh.ptr, dghp + first * B * GH * f4, at(p, h0) + s * B * H * f4, 0, GH, H, B, 1, GH, H, 1, H, flags, scr, 0);
          } else if (T === 1 && !(flags & FLAG_ACCUMULATE)) {
            g.rt.arena.fill(gwhh.ptr, GH * H);
          }
          if (gbih) k.bias_grad(gbih.ptr, dgp, M, GH, gbih.flags);
          if (gbhh) k.bias_grad(gbhh.ptr, dghp, M, GH, gbhh.flags);
          // dX [M, F] (+)= dG [M, GH] · W_ih [GH, F]
          if (dXv) k.gemm(at(p, dXv), dgp, wih, 0, M, F, GH, GH, 1, F, 1, F, d ? FLAG_ACCUMULATE : 0, scr, 0);
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

  const output = batched && m.batchFirst ? swap01Train(g, name, reshapeValue(top, [T, B, DH])) : timeMajor;
  return { output, timeMajor, h: hN, c: cN };
}
