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
import { checkOptions, optionKeys } from '../options.js';
import { buildModel, type BuildOptions } from './build.js';
import { modelMeta, type BaseModelMeta } from './meta.js';
import { at, shapeError, type GraphBuilder, type Value } from '../graph/graph.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers/linear.js';
import { GRU, LSTM, type RNNBase, type RNNBaseOptions } from '../nn/layers/rnn.js';
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

const SEQUENCE_OPTION_KEYS = optionKeys<SequenceLSTMOptions>({ inputSize: 1, hiddenSize: 1, numLayers: 1, outputSize: 1, head: 1, dropout: 1 });

/**
 * What SequenceLSTM and SequenceGRU share: the recurrent layer (state_dict prefix `key`: lstm / gru, read
 * back through the subclass's getter of that name), the Linear head and the head mode.
 */
export abstract class SequenceModel<R extends LSTM | GRU> extends Module {
  readonly head: Linear;
  readonly mode: 'last' | 'every';
  protected readonly rnn: R;
  private readonly reference: string;

  protected constructor(name: string, key: string, opts: SequenceLSTMOptions, make: (inputSize: number, hiddenSize: number, o: RNNBaseOptions) => R, reference: string) {
    super(name);
    opts = checkOptions(name, opts, SEQUENCE_OPTION_KEYS);
    const mode = opts.head ?? 'last';
    if (mode !== 'last' && mode !== 'every') throw new WasmzooError('E_ARGUMENT', `${name}: head must be 'last' or 'every', got ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.rnn = make(opts.inputSize, opts.hiddenSize, { numLayers: opts.numLayers ?? 2, batchFirst: true, dropout: opts.dropout });
    this.child(key, this.rnn as RNNBase);
    this.head = this.child('head', new Linear(opts.hiddenSize, opts.outputSize));
    this.reference = reference;
  }

  protected override checkInput(s: Shape): void {
    if (s.length !== 3 || s[2] !== this.rnn.inputSize) throw shapeError(this.name, `[B, T, ${this.rnn.inputSize}]`, s);
  }

  build(g: GraphBuilder, x: Value): Value {
    return buildSequenceHead(g, this.rnn, this.head, this.mode, x);
  }

  /** Any number of timesteps of inputSize features; no fixed preprocessing or labels. */
  get meta(): BaseModelMeta {
    return modelMeta(this, () => ({ inputSize: [-1, this.rnn.inputSize], preprocessing: null, categories: null, reference: this.reference }));
  }
}

export class SequenceLSTM extends SequenceModel<LSTM> {
  constructor(opts: SequenceLSTMOptions) {
    super('sequence_lstm', 'lstm', opts, (i, h, o) => new LSTM(i, h, o), 'Hochreiter & Schmidhuber 1997, doi:10.1162/neco.1997.9.8.1735 (nn.LSTM + nn.Linear, tools/gen_rnn_goldens.py)');
  }

  get lstm(): LSTM {
    return this.rnn;
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
export class SequenceGRU extends SequenceModel<GRU> {
  constructor(opts: SequenceGRUOptions) {
    super('sequence_gru', 'gru', opts, (i, h, o) => new GRU(i, h, o), 'Cho et al. 2014, arXiv:1406.1078 (nn.GRU + nn.Linear, tools/gen_rnn_goldens.py)');
  }

  get gru(): GRU {
    return this.rnn;
  }
}

/** Build a SequenceGRU (initialising the runtime if needed) and load `weights` if given (src/models/build.ts). */
export function sequenceGRU(opts: SequenceGRUOptions & BuildOptions): Promise<SequenceGRU> {
  return buildModel('sequenceGRU', opts, SEQUENCE_OPTION_KEYS, (o) => new SequenceGRU(o));
}

/** Build a SequenceLSTM (initialising the runtime if needed) and load `weights` if given (src/models/build.ts). */
export function sequenceLSTM(opts: SequenceLSTMOptions & BuildOptions): Promise<SequenceLSTM> {
  return buildModel('sequenceLSTM', opts, SEQUENCE_OPTION_KEYS, (o) => new SequenceLSTM(o));
}
