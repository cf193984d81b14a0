/**
 * A stacked-LSTM sequence model (time series, sequence classification), as the common PyTorch pattern:
 *
 *   lstm   nn.LSTM(inputSize, hiddenSize, numLayers, batch_first=True)
 *   head   nn.Linear(hiddenSize, outputSize)
 *   many-to-one  ('last'):  head(lstm(x)[0][:, -1])  -> [B, outputSize]
 *   many-to-many ('every'): head(lstm(x)[0])         -> [B, T, outputSize]
 *
 * Input [B, T, inputSize]. state_dict keys: lstm.weight_ih_l0, ..., head.weight, head.bias (tools/gen_rnn_goldens.py
 * has the PyTorch class). The last timestep of the top layer is a view of the LSTM's time-major output, so
 * the many-to-one head reads it in place.
 */
import { WasmzooError } from '../errors.js';
import type { WeightSource } from '../io/weights.js';
import { init, type InitOptions } from '../runtime/runtime.js';
import { at, shapeError, type GraphBuilder, type Value } from '../graph/graph.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { GRU, LSTM, type RNNBase } from '../nn/layers/rnn.js';
import type { Shape } from '../tensor.js';
import { isTraining } from '../graph/tape.js';

export interface SequenceLSTMOptions {
  inputSize: number;
  hiddenSize: number;
  /** Stacked layers (default 2). */
  numLayers?: number;
  outputSize: number;
  /** 'last' (many-to-one, default) or 'every' (many-to-many). */
  head?: 'last' | 'every';
  /** Between LSTM layers; identity at inference. */
  dropout?: number;
}

export class SequenceLSTM extends Module {
  readonly lstm: LSTM;
  readonly head: Linear;
  readonly mode: 'last' | 'every';

  constructor(opts: SequenceLSTMOptions) {
    super('sequence_lstm');
    const mode = opts.head ?? 'last';
    if (mode !== 'last' && mode !== 'every') throw new WasmzooError('E_ARGUMENT', `sequence_lstm: head must be 'last' or 'every', got ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.lstm = this.child('lstm', new LSTM(opts.inputSize, opts.hiddenSize, { numLayers: opts.numLayers ?? 2, batchFirst: true, dropout: opts.dropout }));
    this.head = this.child('head', new Linear(opts.hiddenSize, opts.outputSize));
  }

  protected override checkInput(s: Shape): void {
    if (s.length !== 3 || s[2] !== this.lstm.inputSize) throw shapeError(this.name, `[B, T, ${this.lstm.inputSize}]`, s);
  }

  build(g: GraphBuilder, x: Value): Value {
    return buildSequenceHead(g, this.lstm, this.head, this.mode, x);
  }
}

/**
 * The recurrent layer, then the head on every step ('every') or on the last step ('last'). At inference the
 * last step is read in place (a view of the time-major output); in training it is copied out, so its
 * gradient lands in the whole sequence's gradient entry (a zero sequence but for the last step).
 */
function buildSequenceHead(g: GraphBuilder, rnn: RNNBase, head: Linear, mode: 'last' | 'every', x: Value): Value {
  const r = rnn.buildRecurrent(g, x);
  if (mode === 'every') return head.build(g, r.output);
  // time-major [T, B, H]: the last timestep is B contiguous rows at the end
  const [T, B, H] = r.timeMajor.shape;
  const tm = r.timeMajor;
  if (!isTraining(g)) {
    const last: Value = { buf: tm.buf, offset: (tm.offset ?? 0) + (T - 1) * B * H, shape: [B, H] };
    return head.build(g, last);
  }
  const k = g.rt.k;
  const last = g.value([B, H]);
  g.op(`${rnn.name}.last_step`, [tm], (p) => k.copy_channels(at(p, last), at(p, tm) + (T - 1) * B * H * 4, B, H, H, H));
  g.onBackward(() => {
    const dy = g.grad(last);
    if (!dy) return;
    const dseq = g.value([T, B, H]);
    g.op(`${rnn.name}.last_step.backward`, [dy], (p) => {
      const d = at(p, dseq);
      g.rt.arena.fill(d, (T - 1) * B * H);
      k.copy_channels(d + (T - 1) * B * H * 4, at(p, dy), B, H, H, H);
    });
    g.addGrad(tm, dseq);
  });
  return head.build(g, last);
}

export type SequenceGRUOptions = SequenceLSTMOptions;

/**
 * The GRU twin of SequenceLSTM (a sequence classifier or regressor): `gru` nn.GRU(inputSize, hiddenSize,
 * numLayers, batch_first=True), `head` nn.Linear(hiddenSize, outputSize); heads as SequenceLSTM. Input
 * [B, T, inputSize]; e.g. Fashion-MNIST read row by row (examples/train-gru-fashion.mjs).
 */
export class SequenceGRU extends Module {
  readonly gru: GRU;
  readonly head: Linear;
  readonly mode: 'last' | 'every';

  constructor(opts: SequenceGRUOptions) {
    super('sequence_gru');
    const mode = opts.head ?? 'last';
    if (mode !== 'last' && mode !== 'every') throw new WasmzooError('E_ARGUMENT', `sequence_gru: head must be 'last' or 'every', got ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.gru = this.child('gru', new GRU(opts.inputSize, opts.hiddenSize, { numLayers: opts.numLayers ?? 2, batchFirst: true, dropout: opts.dropout }));
    this.head = this.child('head', new Linear(opts.hiddenSize, opts.outputSize));
  }

  protected override checkInput(s: Shape): void {
    if (s.length !== 3 || s[2] !== this.gru.inputSize) throw shapeError(this.name, `[B, T, ${this.gru.inputSize}]`, s);
  }

  build(g: GraphBuilder, x: Value): Value {
    return buildSequenceHead(g, this.gru, this.head, this.mode, x);
  }
}

/** Build a SequenceGRU (initialising the runtime if needed) and load `weights` if given. */
export async function sequenceGRU(opts: SequenceGRUOptions & { weights?: WeightSource; init?: InitOptions }): Promise<SequenceGRU> {
  await init(opts.init);
  const m = new SequenceGRU(opts);
  if (opts.weights !== undefined) m.loadStateDict(opts.weights);
  return m;
}

/** Build a SequenceLSTM (initialising the runtime if needed) and load `weights` if given. */
export async function sequenceLSTM(opts: SequenceLSTMOptions & { weights?: WeightSource; init?: InitOptions }): Promise<SequenceLSTM> {
  await init(opts.init);
  const m = new SequenceLSTM(opts);
  if (opts.weights !== undefined) m.loadStateDict(opts.weights);
  return m;
}
