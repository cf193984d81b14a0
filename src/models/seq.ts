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
import { shapeError, type GraphBuilder, type Value } from '../nn/graph.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { LSTM } from '../nn/layers/rnn.js';
import type { Shape } from '../tensor.js';

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
    const r = this.lstm.buildRecurrent(g, x);
    if (this.mode === 'every') return this.head.build(g, r.output);
    // time-major [T, B, H]: the last timestep is B contiguous rows at the end
    const [T, B, H] = r.timeMajor.shape;
    const last: Value = { buf: r.timeMajor.buf, offset: (r.timeMajor.offset ?? 0) + (T - 1) * B * H, shape: [B, H] };
    return this.head.build(g, last);
  }
}

/** Build a SequenceLSTM (initialising the runtime if needed) and load `weights` if given. */
export async function sequenceLSTM(opts: SequenceLSTMOptions & { weights?: WeightSource; init?: InitOptions }): Promise<SequenceLSTM> {
  await init(opts.init);
  const m = new SequenceLSTM(opts);
  if (opts.weights !== undefined) m.loadStateDict(opts.weights);
  return m;
}
